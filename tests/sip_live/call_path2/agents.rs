//! What agents do around a call: ring-all (one answer wins), hold and resume by re-INVITE, and
//! hanging up first, after which the caller answers the satisfaction survey.

use std::time::Duration;

use serde_json::json;

use super::{assert_no_sipp_errors, assert_talked, call_messages, prompt_secs, ready_sipp_agent};
use crate::call_path::{
    assert_offer_shows_caller, assert_steps, before_queue, config, ended_records, record, start,
    LIFE,
};
use crate::support::agent::{agent_tone, ready_agent, Answer};
use crate::support::audio::{audible_seconds, timeline, tone_seconds, RATE};
use crate::support::caller::Caller;
use crate::support::events::Events;
use crate::support::softphone::Script;
use crate::support::wait_for;

/// (3) The survey: 1001 (SIPp) hangs up first; the caller hears the survey question, presses 1
/// by RFC 2833 and is hung up; the answer is on the call (`survey` = 1, a `survey` step) and,
/// as the agent created an order for the call, a `survey` event on the order.
#[test]
fn survey_after_the_agent_hangs_up_is_stored_on_call_and_order() {
    let server = start(config());
    let greeting = before_queue("12345");
    let talk = Duration::from_secs(5);
    let _agent = ready_sipp_agent(
        &server,
        "1001",
        Script::HangUp { talk },
        greeting + Duration::from_secs(40),
    );
    let desk = Events::open(server.http, "demo-agent-1001");
    let caller = "13800000104";
    // The survey question starts about when the agent hangs up: press 1 a few seconds into it.
    let call = Caller::new("12345", caller)
        .digit('1', greeting + talk + Duration::from_secs(3))
        .until_hung_up(Duration::from_secs(30))
        .dial(&server);
    let pop = desk.wait("screen-pop", greeting + Duration::from_secs(8), |e| {
        e["caller"] == caller
    });
    let call_id = pop["call_id"].as_str().expect("call_id").to_string();
    let (code, order) = server.api_as(
        "demo-agent-1001",
        "POST",
        "/api/v1/work-orders",
        Some(&json!({
            "request_type": "complaint",
            "description": "Construction noise at night on Renhe Street.",
            "caller_number": caller,
            "call_id": call_id,
        })),
    );
    assert_eq!(code, 201, "{order}");
    let order_id = order["id"].as_i64().expect("order id");
    let called = call.wait();
    called.assert_success();

    // After the agent's tone stops, the caller still hears something: the survey.
    let marks = timeline(&called.heard, agent_tone("1001"));
    let last_agent = marks
        .rfind('T')
        .unwrap_or_else(|| panic!("the caller never heard 1001's tone: {marks}"));
    let after = &called.heard[(last_agent + 1) * (RATE / 10) as usize..];
    let survey = audible_seconds(after);
    assert!(
        survey >= 2.5,
        "the caller heard {survey} s after the agent hung up"
    );
    let pressed = server.wait_log("caller pressed a key", 1);
    assert!(pressed.iter().any(|p| p["digit"] == "1"), "{pressed:?}");

    let rec = wait_for(
        Duration::from_secs(5),
        "the survey answer on the call",
        || {
            let rec = record(&server, &call_id);
            (rec["survey"] == 1).then_some(rec)
        },
    );
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["work_order_id"], order_id, "{rec}");
    assert_steps(&rec, &[("answered", Some("1001")), ("survey", None)]);
    let (code, events) = server.api(
        "GET",
        &format!("/api/v1/work-orders/{order_id}/events"),
        None,
    );
    assert_eq!(code, 200, "{events}");
    let survey = events
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["action"] == "survey")
        .unwrap_or_else(|| panic!("no survey event on order {order_id}: {events}"));
    assert_eq!(survey["data"]["survey"], 1, "{survey}");
}

/// The survey without an answer: the caller hears the whole question, presses nothing and is
/// hung up by the server (10 s after the question, docs/ivr.md); the call stays answered with
/// no survey answer.
#[test]
fn survey_without_an_answer_ends_the_call() {
    let server = start(config());
    let greeting = before_queue("12345");
    let talk = Duration::from_secs(3);
    let _agent = ready_sipp_agent(
        &server,
        "1001",
        Script::HangUp { talk },
        greeting + Duration::from_secs(45),
    );
    let caller = "13800000110";
    let called = Caller::new("12345", caller)
        .until_hung_up(Duration::from_secs(45))
        .dial(&server)
        .wait();
    called.assert_success();
    let marks = timeline(&called.heard, agent_tone("1001"));
    let last_agent = marks
        .rfind('T')
        .unwrap_or_else(|| panic!("the caller never heard 1001's tone: {marks}"));
    let after = &called.heard[(last_agent + 1) * (RATE / 10) as usize..];
    let question = prompt_secs("survey");
    let heard = audible_seconds(after);
    assert!(
        heard >= question * 0.6,
        "the caller heard {heard} s of the {question} s survey question"
    );
    // The question, then 10 s for a key: from the agent's BYE to the end of the call, by the
    // server's log (the server sends no RTP while it waits).
    let ends: Vec<(chrono::DateTime<chrono::Utc>, String)> = server
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "call ended")
        .filter_map(|v| {
            let at = v["timestamp"].as_str()?.parse().ok()?;
            Some((at, v["fields"]["cause"].as_str()?.to_string()))
        })
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert_eq!(ends[0].1, "remote BYE", "the agent hung up first: {ends:?}");
    let waited = (ends[1].0 - ends[0].0).as_seconds_f64();
    assert!(
        (question + 9.0..question + 13.0).contains(&waited),
        "the caller was hung up {waited} s after the agent, for a {question} s question"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    let rec = record(&server, rec["id"].as_str().unwrap());
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert!(rec["survey"].is_null(), "{rec}");
    assert_steps(
        &rec,
        &[
            ("answered", Some("1001")),
            ("survey", None),
            ("ended", None),
        ],
    );
}

/// (6) Hold and resume: 2001 (SIPp) re-INVITEs with a=sendonly — the caller hears music on hold
/// instead of 2001's tone (which 2001 keeps sending) — then a=sendrecv — 2001's tone again;
/// the record has the `hold` and `resume` steps.
#[test]
fn hold_plays_music_and_resume_bridges_again() {
    let server = start(config());
    let greeting = before_queue("12319");
    let (talk, hold) = (Duration::from_secs(4), Duration::from_secs(5));
    let agent = ready_sipp_agent(
        &server,
        "2001",
        Script::Hold { talk, hold },
        greeting + Duration::from_secs(25),
    );
    let caller = "13800000106";
    let called = Caller::new("12319", caller)
        .hold(greeting + talk + hold + Duration::from_secs(6))
        .dial(&server)
        .wait();
    called.assert_success();
    let run = agent.wait();
    assert_no_sipp_errors(&run);
    let msgs = call_messages(&run);
    let answers: Vec<_> = msgs
        .iter()
        .filter(|m| m.received && m.is_response(200, "INVITE"))
        .collect();
    assert_eq!(answers.len(), 2, "two re-INVITEs answered\n{}", run.dump());
    assert!(
        answers[0].text.contains("a=recvonly") || answers[0].text.contains("a=inactive"),
        "the answer to a=sendonly:\n{}",
        answers[0].text
    );
    assert!(
        !answers[1].text.contains("a=recvonly") && !answers[1].text.contains("a=inactive"),
        "the answer to a=sendrecv:\n{}",
        answers[1].text
    );

    // Tone, then a stretch of other sound without it (music on hold), then the tone again.
    let marks = timeline(&called.heard, agent_tone("2001"));
    let first = marks
        .find('T')
        .unwrap_or_else(|| panic!("the caller never heard 2001: {marks}"));
    let gap_start = first
        + marks[first..]
            .find(|c| c != 'T')
            .unwrap_or_else(|| panic!("no hold after the tone: {marks}"));
    let gap_len = marks[gap_start..]
        .find('T')
        .unwrap_or_else(|| panic!("the tone did not come back: {marks}"));
    let gap = &marks[gap_start..gap_start + gap_len];
    let music = gap.matches('A').count() as f64 / 10.0;
    let expected = hold.as_secs_f64();
    assert!(
        music >= expected - 2.0,
        "music on hold for {music} s of a {expected} s hold: {marks}"
    );
    let resumed = marks[gap_start + gap_len..].matches('T').count() as f64 / 10.0;
    assert!(
        resumed >= 3.0,
        "2001's tone after resume for {resumed} s: {marks}"
    );

    let rec = &ended_records(&server, caller, 1)[0];
    assert_steps(
        &record(&server, rec["id"].as_str().unwrap()),
        &[
            ("answered", Some("2001")),
            ("hold", None),
            ("resume", None),
            ("ended", None),
        ],
    );
}

/// (7) Ring-all: both ready agents of 12319 are rung at once; 2002 answers, 2001 (which never
/// answers) gets a CANCEL; the record names 2002.
#[test]
fn ring_all_rings_every_agent_and_the_first_answer_wins() {
    let server = start(config().queue("12319", "strategy", "ring-all"));
    let greeting = before_queue("12319");
    let silent = ready_agent(&server, "2001", Answer::Never, LIFE);
    let answering = ready_agent(&server, "2002", Answer::Auto, LIFE);
    let caller = "13800000107";
    let called = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(8))
        .dial(&server)
        .wait();
    called.assert_success();
    assert_eq!(silent.invites(server.sip).len(), 1, "2001 rung");
    assert_eq!(answering.invites(server.sip).len(), 1, "2002 rung");
    assert_offer_shows_caller(&silent, &server, caller);
    assert_eq!(
        silent.requests(server.sip, "CANCEL").len(),
        1,
        "2001's offer cancelled"
    );
    assert_talked(&called, &answering, 3.0);
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["agent_id"], "2002", "{rec}");
}

/// (7) Ring-all when both agents answer at once: exactly one of them gets the caller; the
/// other's offer is cancelled, or, if its 200 crossed the CANCEL, its leg is hung up; the
/// record names the one the caller heard.
#[test]
fn ring_all_with_two_answers_keeps_one() {
    let server = start(config().queue("12319", "strategy", "ring-all"));
    let greeting = before_queue("12319");
    let agents = [
        ready_agent(&server, "2001", Answer::Auto, LIFE),
        ready_agent(&server, "2002", Answer::Auto, LIFE),
    ];
    let caller = "13800000108";
    let called = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(8))
        .dial(&server)
        .wait();
    called.assert_success();
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");
    let winner = rec["agent_id"].as_str().expect("agent_id").to_string();
    for agent in &agents {
        assert_eq!(agent.invites(server.sip).len(), 1, "{} rung", agent.id);
        let heard = tone_seconds(&called.heard, agent.tone());
        if agent.id == winner {
            assert_talked(&called, agent, 3.0);
        } else {
            assert_eq!(heard, 0.0, "the caller heard the loser {}", agent.id);
            // A CANCEL; and a BYE when its 200 crossed the CANCEL (RFC 3261 §9.1).
            let cancels = agent.requests(server.sip, "CANCEL").len();
            let byes = agent.requests(server.sip, "BYE").len();
            assert!(
                cancels + byes >= 1,
                "{}'s offer was neither cancelled nor hung up",
                agent.id
            );
            let st = crate::support::agent::status(&server, &agent.id);
            assert_eq!(
                st["state"], "ready",
                "the loser {} afterwards: {st}",
                agent.id
            );
        }
    }
}
