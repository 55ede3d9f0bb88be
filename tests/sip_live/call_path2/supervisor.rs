//! A supervisor on a call in progress: the demo supervisor's softphone (baresip registered as
//! 8001, answering by itself, sending 880 Hz) is called by `POST /api/v1/calls/{id}/monitor` and
//! mixed in — listen (it hears the caller's 1000 Hz and agent 2001's 550 Hz), whisper (2001
//! hears it, the caller does not), barge (the caller hears it too); `DELETE` hangs its leg up and
//! leaves caller and agent talking; the force hang-up ends the call and the record says who;
//! the audit trail has every action. A second call ends while monitored: the supervisor's leg is
//! hung up with it. A transfer, a hold (a SIPp agent) and the supervisor hanging up (a SIPp
//! softphone as 8001) each stop monitoring, and caller and agent talk on without the supervisor. Queue 12319 (≈ 8 s of greeting) keeps each test well under a minute.

use std::time::Duration;

use serde_json::{json, Value};

use super::ready_sipp_agent;
use crate::call_path::{before_queue, config, ended_records, record, start, LIFE};
use crate::support::agent::{agent_tone, ready_agent, wait_registered, wait_state, Agent, Answer};
use crate::support::audio::tone_seconds;
use crate::support::caller::{Caller, CALLER_HZ};
use crate::support::softphone::{Script, SippAgent};
use crate::support::{wait_for, Server};

const SUPERVISOR: &str = "demo-supervisor";
const SUPERVISOR_HZ: u32 = 880;
const AGENT_HZ: u32 = 550;

/// The call from `caller` in the live picture, once it is there.
fn live_call(server: &Server, caller: &str) -> Value {
    wait_for(Duration::from_secs(5), "the call in /api/v1/live", || {
        let (code, live) = server.api_as(SUPERVISOR, "GET", "/api/v1/live", None);
        assert_eq!(code, 200, "{live}");
        live["calls"]
            .as_array()?
            .iter()
            .find(|c| c["caller"] == caller)
            .cloned()
    })
}

/// Waits until the live picture shows the call's monitor as `want` (`null` or a state).
fn wait_monitor(server: &Server, caller: &str, want: Option<&str>) -> Value {
    wait_for(Duration::from_secs(6), &format!("monitor {want:?}"), || {
        let c = live_call(server, caller);
        let ok = match want {
            None => c["monitor"].is_null(),
            Some(state) => c["monitor"]["state"] == state,
        };
        ok.then_some(c)
    })
}

fn monitor(server: &Server, id: &str, body: Value) -> (u16, Value) {
    server.api_as(
        SUPERVISOR,
        "POST",
        &format!("/api/v1/calls/{id}/monitor"),
        Some(&body),
    )
}

/// Waits until agent 2001 talks with `caller` (dialled after a greeting of `greeting`), has the
/// supervisor's softphone put on the call in `mode` and waits until it is connected; returns
/// the call's id.
fn monitored(server: &Server, caller: &str, greeting: Duration, mode: &str) -> String {
    wait_state(server, "2001", "on-call", greeting + Duration::from_secs(8));
    let id = live_call(server, caller)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, reply) = monitor(server, &id, json!({ "mode": mode }));
    assert_eq!(code, 202, "{reply}");
    wait_monitor(server, caller, Some("connected"));
    id
}

/// What `phone` heard, once its call's dump is written (baresip writes it when the call ends).
fn heard_when_written(phone: &Agent) -> Vec<i16> {
    wait_for(
        Duration::from_secs(5),
        &format!("{}'s audio", phone.id),
        || {
            let heard = phone.heard();
            (heard.len() > 8000).then_some(heard)
        },
    )
}

/// listen → whisper → barge → stop → force hang-up on one answered call, with the errors a
/// supervisor meets on the way (a call still in its greeting, an unknown call, a softphone not
/// registered yet).
#[test]
fn listen_whisper_barge_stop_and_force_hangup() {
    let server = start(config());
    let greeting = before_queue("12319");
    let agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let caller = "13800000201";
    let call = Caller::new("12319", caller)
        .until_hung_up(greeting + Duration::from_secs(50))
        .dial(&server);

    // Still in the greeting: nobody to listen to yet.
    let id = live_call(&server, caller)["id"]
        .as_str()
        .expect("call id")
        .to_string();
    let (code, reply) = monitor(&server, &id, json!({"mode": "listen"}));
    assert_eq!(code, 409, "monitor during the greeting: {reply}");
    let (code, reply) = monitor(&server, "no-such-call", json!({"mode": "listen"}));
    assert_eq!(code, 404, "{reply}");

    wait_state(
        &server,
        "2001",
        "on-call",
        greeting + Duration::from_secs(8),
    );
    let live = live_call(&server, caller);
    assert_eq!(
        (live["stage"].as_str(), live["agent"].as_str()),
        (Some("talking"), Some("2001")),
        "{live}"
    );
    assert!(live["answered_at"].is_string() && live["monitor"].is_null());
    // The supervisor's softphone is not registered yet.
    let (code, reply) = monitor(&server, &id, json!({"mode": "listen"}));
    assert_eq!(code, 503, "{reply}");
    assert_eq!(reply["error"], "unreachable", "{reply}");

    let sup = Agent::start(&server, "8001", Answer::Auto, LIFE);
    wait_registered(&server, "8001", Duration::from_secs(10));
    let (code, reply) = monitor(&server, &id, json!({"mode": "listen"}));
    assert_eq!(code, 202, "{reply}");
    assert_eq!(
        (reply["mode"].as_str(), reply["extension"].as_str()),
        (Some("listen"), Some("8001"))
    );
    let live = wait_monitor(&server, caller, Some("connected"));
    assert_eq!(live["monitor"]["supervisor"], "supervisor", "{live}");
    std::thread::sleep(Duration::from_secs(4));

    let (code, reply) = monitor(&server, &id, json!({"mode": "whisper"}));
    assert_eq!((code, reply["state"].as_str()), (202, Some("connected")));
    std::thread::sleep(Duration::from_secs(6));

    let (code, reply) = monitor(&server, &id, json!({"mode": "barge", "extension": "8001"}));
    assert_eq!((code, reply["mode"].as_str()), (202, Some("barge")));
    std::thread::sleep(Duration::from_secs(4));

    let (code, reply) = server.api_as(
        SUPERVISOR,
        "DELETE",
        &format!("/api/v1/calls/{id}/monitor"),
        None,
    );
    assert_eq!((code, reply["state"].as_str()), (200, Some("stopped")));
    wait_for(Duration::from_secs(5), "BYE to the supervisor", || {
        (sup.requests(server.sip, "BYE").len() == 1).then_some(())
    });
    wait_monitor(&server, caller, None);
    std::thread::sleep(Duration::from_secs(3));

    let (code, reply) = server.api_as(
        SUPERVISOR,
        "POST",
        &format!("/api/v1/calls/{id}/hangup"),
        Some(&json!({"reason": "test of 强拆"})),
    );
    assert_eq!(code, 200, "{reply}");
    assert_eq!(reply["disposition"], "answered", "{reply}");
    let called = call.wait();
    called.assert_success();

    // Listen: the supervisor heard both sides all along (14 s connected).
    let at_sup = heard_when_written(&sup);
    let (sup_caller, sup_agent) = (
        tone_seconds(&at_sup, CALLER_HZ),
        tone_seconds(&at_sup, AGENT_HZ),
    );
    assert!(
        sup_caller >= 10.0 && sup_agent >= 10.0,
        "the supervisor heard the caller {sup_caller} s and the agent {sup_agent} s"
    );
    // Whisper and barge (10 s): the agent heard the supervisor; not while listening (4 s) nor
    // after the stop (3 s).
    let at_agent = heard_when_written(&agent);
    let agent_sup = tone_seconds(&at_agent, SUPERVISOR_HZ);
    assert!(
        (7.0..=12.0).contains(&agent_sup),
        "the agent heard the supervisor for {agent_sup} s (whisper + barge = 10 s)"
    );
    assert!(
        tone_seconds(&at_agent, CALLER_HZ) >= 15.0,
        "agent heard the caller"
    );
    // Barge only (4 s): the caller heard the supervisor; not in the whisper (6 s).
    let caller_sup = tone_seconds(&called.heard, SUPERVISOR_HZ);
    assert!(
        (2.5..=6.0).contains(&caller_sup),
        "the caller heard the supervisor for {caller_sup} s (barge = 4 s)"
    );
    // After the stop, caller and agent still talk, without the supervisor.
    let tail = &called.heard[called.heard.len().saturating_sub(16000)..];
    assert!(
        tone_seconds(tail, AGENT_HZ) >= 1.5 && tone_seconds(tail, SUPERVISOR_HZ) == 0.0,
        "the last 2 s the caller heard: agent {} s, supervisor {} s",
        tone_seconds(tail, AGENT_HZ),
        tone_seconds(tail, SUPERVISOR_HZ)
    );

    // The record: answered, the monitor's steps, and who hung up.
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    assert_eq!(rec["disposition"], "answered", "{rec}");
    let steps: Vec<(String, String)> = rec["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or("").to_string(),
                s["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let of = |name: &str| -> Vec<&str> {
        steps
            .iter()
            .filter(|s| s.0 == name)
            .map(|s| s.1.as_str())
            .collect()
    };
    assert_eq!(
        of("monitor"),
        [
            "listen by supervisor at 8001",
            "whisper by supervisor at 8001",
            "barge by supervisor at 8001"
        ],
        "{steps:?}"
    );
    assert_eq!(of("monitor-stop").len(), 1, "{steps:?}");
    assert_eq!(
        of("force-hangup"),
        ["by supervisor: test of 强拆"],
        "{steps:?}"
    );

    // The audit trail, newest first.
    let (code, audit) = server.api_as(
        SUPERVISOR,
        "GET",
        &format!("/api/v1/audit?target=call:{id}"),
        None,
    );
    assert_eq!(code, 200, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["force-hangup", "monitor-stop", "barge", "whisper", "listen"]
    );
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] == "supervisor" && e["role"] == "supervisor"));
}

/// The caller hangs up while a supervisor listens: the supervisor's leg is hung up with the
/// call, and a supervisor forcing the agent's state is audited as forced.
#[test]
fn the_call_ending_hangs_up_the_supervisor() {
    let server = start(config());
    let greeting = before_queue("12319");
    let _agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let sup = Agent::start(&server, "8001", Answer::Auto, LIFE);
    wait_registered(&server, "8001", Duration::from_secs(10));
    let caller = "13800000202";
    let call = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(9))
        .dial(&server);
    monitored(&server, caller, greeting, "listen");
    call.wait().assert_success();
    wait_for(Duration::from_secs(5), "BYE to the supervisor", || {
        (sup.requests(server.sip, "BYE").len() == 1).then_some(())
    });
    let heard = heard_when_written(&sup);
    assert!(
        tone_seconds(&heard, CALLER_HZ) >= 2.0,
        "the supervisor listened"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");

    // A supervisor forces 2001 to not-ready: audited as forced, with the reason.
    wait_state(&server, "2001", "ready", Duration::from_secs(8));
    let (code, reply) = server.api_as(
        SUPERVISOR,
        "POST",
        "/api/v1/agents/2001/state",
        Some(&json!({"state": "not-ready", "reason": "coaching"})),
    );
    assert_eq!(code, 200, "{reply}");
    let (_, audit) = server.api_as(SUPERVISOR, "GET", "/api/v1/audit?target=agent:2001", None);
    let e = &audit["items"][0];
    assert_eq!(
        (
            e["action"].as_str(),
            e["actor"].as_str(),
            e["detail"].as_str()
        ),
        (
            Some("force-state"),
            Some("supervisor"),
            Some("not-ready (coaching)")
        ),
        "{audit}"
    );
}

/// The agent transfers a call a supervisor barges into: monitoring stops first (the
/// supervisor's leg gets its BYE, the step says why), and the caller talks with the next agent
/// without the supervisor in the mix.
#[test]
fn a_transfer_stops_the_barge_first() {
    let server = start(config());
    let greeting = before_queue("12319");
    let _first = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let sup = Agent::start(&server, "8001", Answer::Auto, LIFE);
    wait_registered(&server, "8001", Duration::from_secs(10));
    let caller = "13800000203";
    let call = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(16))
        .dial(&server);
    monitored(&server, caller, greeting, "barge");
    std::thread::sleep(Duration::from_secs(2));
    let second = ready_agent(&server, "2002", Answer::Auto, LIFE);
    let (code, body) = server.api_as(
        "demo-admin",
        "POST",
        "/api/v1/agents/2001/transfer",
        Some(&json!({"target": "12319"})),
    );
    assert!(code == 200 || code == 204, "transfer: {code} {body}");
    wait_for(Duration::from_secs(5), "BYE to the supervisor", || {
        (sup.requests(server.sip, "BYE").len() == 1).then_some(())
    });
    wait_state(&server, "2002", "on-call", Duration::from_secs(8));
    let live = live_call(&server, caller);
    assert!(live["monitor"].is_null(), "{live}");
    let called = call.wait();
    called.assert_success();
    // The caller heard the supervisor while barging, then 2002 without the supervisor.
    assert!(tone_seconds(&called.heard, SUPERVISOR_HZ) >= 1.0);
    let tail = &called.heard[called.heard.len().saturating_sub(16000)..];
    let (next, sup_after) = (
        tone_seconds(tail, second.tone()),
        tone_seconds(tail, SUPERVISOR_HZ),
    );
    assert!(
        next >= 1.5 && sup_after == 0.0,
        "the last 2 s: agent 2002 {next} s, supervisor {sup_after} s"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    let stop = rec["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "monitor-stop")
        .unwrap_or_else(|| panic!("no monitor-stop in {rec}"));
    assert!(
        stop["detail"]
            .as_str()
            .is_some_and(|d| d.contains("transferred")),
        "{stop}"
    );
}

/// The supervisor hangs up by themselves (a SIPp softphone as 8001 that hangs up after 3 s):
/// caller and agent are bridged again and the step says why.
#[test]
fn the_supervisor_hanging_up_restores_the_bridge() {
    let server = start(config());
    let greeting = before_queue("12319");
    let agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let _sup = SippAgent::start(
        &server,
        "8001",
        Script::HangUp {
            talk: Duration::from_secs(3),
        },
        greeting + Duration::from_secs(30),
    );
    wait_registered(&server, "8001", Duration::from_secs(10));
    let caller = "13800000204";
    let call = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(13))
        .dial(&server);
    monitored(&server, caller, greeting, "barge");
    wait_monitor(&server, caller, None);
    let called = call.wait();
    called.assert_success();
    // The caller heard the supervisor while barging, then only the agent again.
    assert!(tone_seconds(&called.heard, SUPERVISOR_HZ) >= 1.0);
    let tail = &called.heard[called.heard.len().saturating_sub(16000)..];
    assert!(
        tone_seconds(tail, agent.tone()) >= 1.5 && tone_seconds(tail, SUPERVISOR_HZ) == 0.0,
        "the caller's last 2 s"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    assert_eq!(rec["disposition"], "answered", "{rec}");
    let stop = rec["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "monitor-stop")
        .unwrap_or_else(|| panic!("no monitor-stop in {rec}"));
    assert!(
        stop["detail"]
            .as_str()
            .is_some_and(|d| d.contains("supervisor's leg ended")),
        "{stop}"
    );
}

/// The agent (a SIPp softphone) puts the call on hold while a supervisor listens: monitoring
/// stops (the supervisor's leg gets its BYE), the caller hears music on hold, and after the
/// resume caller and agent talk again.
#[test]
fn a_hold_stops_the_monitor() {
    let server = start(config());
    let greeting = before_queue("12319");
    let (talk, hold) = (Duration::from_secs(6), Duration::from_secs(4));
    let _agent = ready_sipp_agent(
        &server,
        "2001",
        Script::Hold { talk, hold },
        greeting + Duration::from_secs(30),
    );
    let sup = Agent::start(&server, "8001", Answer::Auto, LIFE);
    wait_registered(&server, "8001", Duration::from_secs(10));
    let caller = "13800000205";
    let call = Caller::new("12319", caller)
        .hold(greeting + talk + hold + Duration::from_secs(5))
        .dial(&server);
    let id = monitored(&server, caller, greeting, "listen");
    wait_for(
        talk + Duration::from_secs(3),
        "BYE to the supervisor",
        || (sup.requests(server.sip, "BYE").len() == 1).then_some(()),
    );
    assert!(live_call(&server, caller)["monitor"].is_null());
    // While on hold nobody may monitor the call.
    let (code, reply) = monitor(&server, &id, json!({"mode": "listen"}));
    assert_eq!(code, 409, "{reply}");
    let called = call.wait();
    called.assert_success();
    let tail = &called.heard[called.heard.len().saturating_sub(16000)..];
    assert!(
        tone_seconds(tail, agent_tone("2001")) >= 1.5,
        "caller and agent talk again after the resume"
    );
    let heard = heard_when_written(&sup);
    assert!(
        tone_seconds(&heard, CALLER_HZ) >= 2.0,
        "the supervisor listened"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    let stop = rec["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "monitor-stop")
        .unwrap_or_else(|| panic!("no monitor-stop in {rec}"));
    assert!(
        stop["detail"].as_str().is_some_and(|d| d.contains("hold")),
        "{stop}"
    );
}
