//! Blind transfers of an answered call: by the agent's API call or the softphone's REFER, to a
//! queue, to an agent (refused: back to the caller's queue), or to a number outside through the
//! trunk.

use std::time::Duration;

use serde_json::{json, Value};

use super::{assert_no_sipp_errors, assert_talked, call_messages, ready_sipp_agent, set_state};
use crate::call_path::{
    assert_offer_shows_caller, assert_steps, before_queue, config, ended_records, record, start,
    LIFE, LOCAL,
};
use crate::support::agent::{agent_tone, ready_agent, wait_state, Answer};
use crate::support::audio::tone_seconds;
use crate::support::caller::{Caller, CALLER_HZ};
use crate::support::free_port;
use crate::support::sipp::Run;
use crate::support::softphone::{Citizen, CitizenPhone, Script};

/// The call's record and its `transferred_to`, steps and disposition after a transfer from
/// 1001 to `target`, answered there by `answered_by`.
fn assert_transferred(rec: &Value, target: &str, answered_by: &str) {
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["transferred_to"], target, "{rec}");
    assert_steps(
        rec,
        &[
            ("answered", Some("1001")),
            ("transferred", None),
            ("ringing", Some(answered_by)),
            ("answered", Some(answered_by)),
            ("ended", None),
        ],
    );
}
/// The REFER went as RFC 3515 says: 202, then a NOTIFY whose sipfrag is `SIP/2.0 200`, and the
/// call's BYE (either side's) answered.
fn assert_refer_exchange(run: &Run, target: &str) {
    let msgs = call_messages(run);
    let refer = msgs
        .iter()
        .find(|m| !m.received && m.is_request("REFER"))
        .unwrap_or_else(|| panic!("no REFER sent\n{}", run.dump()));
    let refer_to = refer.header("Refer-To").unwrap_or_default();
    assert!(refer_to.contains(&format!("sip:{target}@")), "{refer_to}");
    assert!(
        msgs.iter()
            .any(|m| m.received && m.is_response(202, "REFER")),
        "no 202 to the REFER\n{}",
        run.dump()
    );
    let notify = msgs
        .iter()
        .find(|m| m.received && m.is_request("NOTIFY"))
        .unwrap_or_else(|| panic!("no NOTIFY\n{}", run.dump()));
    assert!(
        notify
            .header("Event")
            .is_some_and(|e| e.starts_with("refer")),
        "{}",
        notify.text
    );
    assert!(notify.text.contains("SIP/2.0 200"), "{}", notify.text);
    assert!(
        msgs.iter().any(|m| m.is_response(200, "BYE")),
        "the agent's leg was not ended by a BYE\n{}",
        run.dump()
    );
    assert_no_sipp_errors(run);
}

/// (1) Transfer by API: the caller answered by 1001 is moved to queue 12319; 1001's leg is hung
/// up and 1001 goes to wrap-up; 2001 answers and talks with the caller.
#[test]
fn transfer_by_api_moves_the_caller_to_another_queue() {
    let server = start(config().queue("12345", "wrap_up_secs", 30));
    let greeting = before_queue("12345");
    let first = ready_agent(&server, "1001", Answer::Auto, LIFE);
    let second = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let caller = "13800000101";
    let call = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(16))
        .dial(&server);
    wait_state(
        &server,
        "1001",
        "on-call",
        greeting + Duration::from_secs(8),
    );
    std::thread::sleep(Duration::from_secs(3));
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        "/api/v1/agents/1001/transfer",
        Some(&json!({"target": "12319"})),
    );
    assert!(code == 200 || code == 204, "transfer: {code} {body}");
    wait_state(&server, "1001", "wrap-up", Duration::from_secs(3));
    wait_state(&server, "2001", "on-call", Duration::from_secs(8));
    let called = call.wait();
    called.assert_success();

    assert_eq!(
        first.requests(server.sip, "BYE").len(),
        1,
        "the server hangs up 1001's leg"
    );
    assert_offer_shows_caller(&second, &server, caller);
    assert_talked(&called, &second, 3.0);
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["agent_id"], "2001", "{rec}");
    assert_transferred(
        &record(&server, rec["id"].as_str().unwrap()),
        "12319",
        "2001",
    );
}

/// (2) Transfer by REFER: the softphone of 1001 (SIPp) sends REFER to 12319, gets 202 and the
/// NOTIFY with sipfrag 200; the caller reaches 2001.
#[test]
fn transfer_by_refer_moves_the_caller_to_another_queue() {
    let server = start(config());
    let greeting = before_queue("12345");
    let first = ready_sipp_agent(
        &server,
        "1001",
        Script::Refer {
            talk: Duration::from_secs(3),
            target: "12319".into(),
        },
        greeting + Duration::from_secs(20),
    );
    let second = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let caller = "13800000102";
    let called = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(15))
        .dial(&server)
        .wait();
    called.assert_success();
    assert_refer_exchange(&first.wait(), "12319");
    assert_talked(&called, &second, 3.0);
    assert!(
        tone_seconds(&called.heard, agent_tone("1001")) >= 1.0,
        "the caller heard 1001 before the transfer"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    assert_transferred(
        &record(&server, rec["id"].as_str().unwrap()),
        "12319",
        "2001",
    );
}

/// (2) A REFER to an agent (1002) is refused after the 202: the caller goes back to queue
/// 12345 and reaches 1002, who became ready meanwhile.
#[test]
fn refer_to_an_agent_sends_the_caller_back_to_the_queue() {
    let server = start(config());
    let greeting = before_queue("12345");
    let first = ready_sipp_agent(
        &server,
        "1001",
        Script::Refer {
            talk: Duration::from_secs(3),
            target: "1002".into(),
        },
        greeting + Duration::from_secs(20),
    );
    let other = ready_agent(&server, "1002", Answer::Auto, LIFE);
    set_state(
        &server,
        "1002",
        json!({"state": "not-ready", "reason": "meeting"}),
    );
    wait_state(&server, "1002", "not-ready", Duration::from_secs(2));
    let caller = "13800000103";
    let call = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(15))
        .dial(&server);
    wait_state(
        &server,
        "1001",
        "on-call",
        greeting + Duration::from_secs(8),
    );
    set_state(&server, "1002", json!({"state": "ready"}));
    wait_state(&server, "1002", "on-call", Duration::from_secs(10));
    let called = call.wait();
    called.assert_success();
    assert_refer_exchange(&first.wait(), "1002");
    server.wait_log("transfer refused; the caller goes back to the queue", 1);
    assert_talked(&called, &other, 3.0);
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["agent_id"], "1002", "{rec}");
    assert_steps(
        &rec,
        &[
            ("answered", Some("1001")),
            ("ringing", Some("1002")),
            ("answered", Some("1002")),
        ],
    );
}

/// Transfer by API to a number outside (a department's line): dialled out through the trunk's
/// `outbound_proxy` with the caller's number, bridged to the caller (the far end echoes, so
/// the caller hears their own voice); the record keeps the number in `transferred_to`.
#[test]
fn transfer_to_a_department_number_dials_out_through_the_trunk() {
    let line_port = free_port(LOCAL);
    let server = start(config().trunk(
        "carrier",
        "outbound_proxy",
        format!("127.0.0.1:{line_port}"),
    ));
    let greeting = before_queue("12345");
    let _agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    let department = "08128880000";
    let caller = "13800000109";
    let line = CitizenPhone::start(
        &server,
        line_port,
        Citizen::Answers(Duration::from_secs(8)),
        greeting + Duration::from_secs(40),
    );
    let call = Caller::new("12345", caller)
        .until_hung_up(greeting + Duration::from_secs(30))
        .dial(&server);
    wait_state(
        &server,
        "1001",
        "on-call",
        greeting + Duration::from_secs(8),
    );
    std::thread::sleep(Duration::from_secs(2));
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        "/api/v1/agents/1001/transfer",
        Some(&json!({"target": department})),
    );
    assert!(code == 200 || code == 204, "transfer: {code} {body}");
    let run = line.wait();
    run.assert_success(1);
    let invite = run
        .received()
        .find(|m| m.is_request("INVITE"))
        .expect("INVITE");
    assert!(
        invite.first_line().contains(&format!("sip:{department}@")),
        "{}",
        invite.first_line()
    );
    let from = invite.header("From").unwrap_or_default();
    assert!(from.contains(caller), "From of the call out: {from}");
    // The department's line hung up: the server ends the caller's call.
    let called = call.wait();
    called.assert_success();
    let echoed = tone_seconds(&called.heard, CALLER_HZ);
    assert!(echoed >= 3.0, "the caller heard the echo for {echoed} s");
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["transferred_to"], department, "{rec}");
    assert_steps(
        &rec,
        &[
            ("answered", Some("1001")),
            ("transferred", None),
            ("ended", None),
        ],
    );
}
