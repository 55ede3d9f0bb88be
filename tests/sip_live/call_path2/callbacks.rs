//! Callbacks worked as calls through the trunk's `outbound_proxy` (a SIPp citizen's phone that
//! answers and echoes, or is busy): missed-call tasks taken by an agent, and the callback a
//! waiting caller asks for, which keeps their place in the queue.

use std::time::Duration;

use serde_json::{json, Value};

use super::{prompt_secs, set_state};
use crate::call_path::{before_queue, config, ended_records, record, start, LIFE, LOCAL};
use crate::support::agent::{ready_agent, wait_state, Agent, Answer};
use crate::support::audio::{audible_seconds, tone_seconds, RATE};
use crate::support::caller::Caller;
use crate::support::sipp::Run;
use crate::support::softphone::{Citizen, CitizenPhone};
use crate::support::{free_port, wait_for, Server};

/// The callback task for `number` of kind `kind`, once it exists.
fn task_for(server: &Server, number: &str, kind: &str) -> Value {
    wait_for(
        Duration::from_secs(5),
        &format!("a {kind} callback task for {number}"),
        || {
            let (code, body) = server.api("GET", "/api/v1/callbacks", None);
            assert_eq!(code, 200, "GET /api/v1/callbacks: {body}");
            body.get("items")
                .and_then(Value::as_array)
                .or_else(|| body.as_array())
                .into_iter()
                .flatten()
                .find(|t| t["kind"] == kind && t["number"] == number)
                .cloned()
        },
    )
}

/// `GET /api/v1/callbacks/{id}` once its attempt log has `attempts` entries.
fn task_with_attempts(server: &Server, id: i64, attempts: usize) -> Value {
    wait_for(
        Duration::from_secs(10),
        &format!("{attempts} attempt(s) on task {id}"),
        || {
            let (code, body) = server.api("GET", &format!("/api/v1/callbacks/{id}"), None);
            assert_eq!(code, 200, "GET /api/v1/callbacks/{id}: {body}");
            (body["attempt_log"].as_array().map_or(0, Vec::len) >= attempts).then_some(body)
        },
    )
}

/// The INVITE the citizen's phone received: for `number`, from the hotline's 12345.
fn assert_citizen_invite(run: &Run, number: &str) {
    let invite = run
        .received()
        .find(|m| m.is_request("INVITE"))
        .unwrap_or_else(|| panic!("the citizen got no INVITE\n{}", run.dump()));
    let uri = invite.first_line();
    assert!(uri.contains(&format!("sip:{number}@")), "{uri}");
    let from = invite.header("From").unwrap_or_default();
    assert!(from.contains("sip:12345@"), "From of the call out: {from}");
}

/// The server's log shows the agent's leg (SIP Call-ID `agent_leg`) answered before anything
/// happened on the citizen's leg (`citizen_leg`): the agent is rung first.
fn assert_agent_answered_first(server: &Server, agent_leg: &str, citizen_leg: &str) {
    let events: Vec<Value> = server
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["fields"].clone())
        .collect();
    let answered = events
        .iter()
        .position(|f| f["message"] == "call answered" && f["call_id"] == agent_leg)
        .unwrap_or_else(|| panic!("the agent's leg {agent_leg} was not answered"));
    let citizen = events
        .iter()
        .position(|f| f["call_id"] == citizen_leg)
        .unwrap_or_else(|| panic!("nothing logged of the citizen's leg {citizen_leg}"));
    assert!(
        answered < citizen,
        "the citizen's leg {citizen_leg} began before the agent's {agent_leg} was answered"
    );
}

/// The SIP Call-ID of the INVITE the citizen's phone received.
fn citizen_leg(run: &Run) -> String {
    run.received()
        .find(|m| m.is_request("INVITE"))
        .and_then(|m| m.header("Call-ID"))
        .unwrap_or_else(|| panic!("the citizen got no INVITE\n{}", run.dump()))
}

/// The citizen's phone echoed: the agent heard its own tone. baresip writes what it heard
/// when its call ends, which may be just after the citizen's BYE: wait a little for it.
fn assert_echo_heard(agent: &Agent) {
    let limit = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let echoed = tone_seconds(&agent.heard(), agent.tone());
        if echoed >= 2.0 {
            return;
        }
        assert!(
            std::time::Instant::now() < limit,
            "1001 heard its own tone echoed for {echoed} s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The answered attempt of a task and the outbound call record it made.
fn assert_answered_callback(server: &Server, task: i64) {
    let detail = task_with_attempts(server, task, 1);
    let log = detail["attempt_log"].as_array().expect("attempt_log");
    let answered = log
        .iter()
        .find(|a| a["outcome"] == "answered")
        .unwrap_or_else(|| panic!("no answered attempt: {detail}"));
    assert_eq!(answered["agent_id"], "1001", "{answered}");
    let done = wait_for(Duration::from_secs(5), "the task done", || {
        let (_, body) = server.api("GET", &format!("/api/v1/callbacks/{task}"), None);
        (body["status"] == "done").then_some(body)
    });
    assert_eq!(done["status"], "done", "{done}");
    let call_id = answered["call_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no call on the attempt: {answered}"));
    let out = wait_for(
        Duration::from_secs(5),
        "the callback's record ended",
        || {
            let rec = record(server, call_id);
            rec["disposition"].is_string().then_some(rec)
        },
    );
    assert_eq!(out["direction"], "outbound", "{out}");
    assert_eq!(out["callback_task_id"], task, "{out}");
    assert_eq!(out["disposition"], "answered", "{out}");
    assert_eq!(out["agent_id"], "1001", "{out}");
}

/// (4) Missed-call callbacks worked by 1001: the first citizen is busy (attempt `busy`, the
/// task open again later); the second answers: 1001's softphone rings first (`callback
/// <number>`), then the citizen's phone gets the call from 12345, and the echo brings 1001's
/// tone back to 1001.
#[test]
fn callback_tasks_are_worked_through_the_trunk() {
    let citizen_port = free_port(LOCAL);
    let server = start(config().trunk(
        "carrier",
        "outbound_proxy",
        format!("127.0.0.1:{citizen_port}"),
    ));
    let greeting = before_queue("12345");
    let agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    set_state(
        &server,
        "1001",
        json!({"state": "not-ready", "reason": "meeting"}),
    );
    wait_state(&server, "1001", "not-ready", Duration::from_secs(2));
    let (busy_number, answering_number) = ("13800000141", "13800000142");
    let callers: Vec<_> = [busy_number, answering_number]
        .iter()
        .map(|n| {
            Caller::new("12345", n)
                .hold(greeting + Duration::from_secs(3))
                .dial(&server)
        })
        .collect();
    for c in callers {
        c.wait().assert_success();
    }
    let busy_task = task_for(&server, busy_number, "missed-call")["id"]
        .as_i64()
        .expect("task id");
    let answered_task = task_for(&server, answering_number, "missed-call")["id"]
        .as_i64()
        .expect("task id");

    // The busy citizen.
    let phone = CitizenPhone::start(
        &server,
        citizen_port,
        Citizen::Busy,
        Duration::from_secs(20),
    );
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        &format!("/api/v1/callbacks/{busy_task}/take"),
        None,
    );
    assert_eq!(code, 200, "take {busy_task}: {body}");
    let run = phone.wait();
    run.assert_success(1);
    assert_citizen_invite(&run, busy_number);
    let detail = task_with_attempts(&server, busy_task, 1);
    let attempt = &detail["attempt_log"][0];
    assert_eq!(attempt["outcome"], "busy", "{detail}");
    let detail = wait_for(Duration::from_secs(5), "the busy task open again", || {
        let (_, body) = server.api("GET", &format!("/api/v1/callbacks/{busy_task}"), None);
        (body["status"] == "open").then_some(body)
    });
    let next: chrono::DateTime<chrono::Utc> = detail["next_attempt_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no next_attempt_at: {detail}"));
    assert!(next > chrono::Utc::now(), "{detail}");
    wait_for(
        Duration::from_secs(3),
        "1001's leg ended by the server",
        || (agent.requests(server.sip, "BYE").len() == 1).then_some(()),
    );

    // The citizen who answers.
    wait_state(&server, "1001", "ready", Duration::from_secs(5));
    let phone = CitizenPhone::start(
        &server,
        citizen_port,
        Citizen::Answers(Duration::from_secs(6)),
        Duration::from_secs(30),
    );
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        &format!("/api/v1/callbacks/{answered_task}/take"),
        None,
    );
    assert_eq!(code, 200, "take {answered_task}: {body}");
    let run = phone.wait();
    run.assert_success(1);
    assert_citizen_invite(&run, answering_number);
    let invites = agent.invites(server.sip);
    assert_eq!(invites.len(), 2, "1001 rung once per attempt");
    let from = invites[1].header("From").unwrap_or_default();
    assert!(
        from.contains(&format!("callback {answering_number}")),
        "From of the agent's leg: {from}"
    );
    let agent_leg = invites[1].header("Call-ID").expect("Call-ID");
    assert_agent_answered_first(&server, &agent_leg, &citizen_leg(&run));
    assert_echo_heard(&agent);
    assert_answered_callback(&server, answered_task);
}

/// (5) A caller waiting in the queue presses 3 (`queue_callback_key`): they hear the
/// confirmation and goodbye and are hung up, their record says callback-requested, a
/// `requested` task exists; when 1001 becomes ready its softphone rings, then the citizen is
/// dialled through the trunk and answers.
#[test]
fn queue_callback_keeps_the_place_and_is_worked_when_an_agent_is_ready() {
    let citizen_port = free_port(LOCAL);
    let server = start(config().trunk(
        "carrier",
        "outbound_proxy",
        format!("127.0.0.1:{citizen_port}"),
    ));
    let greeting = before_queue("12345");
    let agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    set_state(
        &server,
        "1001",
        json!({"state": "not-ready", "reason": "meeting"}),
    );
    wait_state(&server, "1001", "not-ready", Duration::from_secs(2));
    let caller = "13800000105";
    let called = Caller::new("12345", caller)
        .digit('3', greeting + Duration::from_secs(2))
        .until_hung_up(Duration::from_secs(20))
        .dial(&server)
        .wait();
    called.assert_success();
    let pressed = server.wait_log("caller pressed a key", 1);
    assert!(pressed.iter().any(|p| p["digit"] == "3"), "{pressed:?}");
    // The last thing heard: callback-confirmed and goodbye.
    let tail_secs = prompt_secs("callback-confirmed") + prompt_secs("goodbye");
    let tail_len = ((tail_secs * f64::from(RATE)) as usize).min(called.heard.len());
    let tail = audible_seconds(&called.heard[called.heard.len() - tail_len..]);
    assert!(
        tail >= tail_secs / 2.0,
        "the caller heard {tail} s of the last {tail_secs} s"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "callback-requested", "{rec}");
    let task = task_for(&server, caller, "requested")["id"]
        .as_i64()
        .expect("task id");
    assert_eq!(
        agent.invites(server.sip).len(),
        0,
        "1001 rung while not ready"
    );

    let phone = CitizenPhone::start(
        &server,
        citizen_port,
        Citizen::Answers(Duration::from_secs(5)),
        Duration::from_secs(30),
    );
    set_state(&server, "1001", json!({"state": "ready"}));
    let run = phone.wait();
    run.assert_success(1);
    assert_citizen_invite(&run, caller);
    let invites = agent.invites(server.sip);
    assert_eq!(invites.len(), 1, "1001 rung for the callback");
    // The citizen's number is shown, as `callback <number>` (docs/call-path.md).
    let from = invites[0].header("From").unwrap_or_default();
    let display = from.split('<').next().unwrap_or("");
    assert!(display.contains(caller), "From of the agent's leg: {from}");
    let agent_leg = invites[0].header("Call-ID").expect("Call-ID");
    assert_agent_answered_first(&server, &agent_leg, &citizen_leg(&run));
    assert_echo_heard(&agent);
    assert_answered_callback(&server, task);
}

/// A missed-call task taken by 1001, whose softphone does not answer: the citizen is never
/// dialled, the attempt is `agent-no-answer`, the task opens again, and 1001 leaves the
/// "callback" state. (The agent's leg rings for the task queue's `ring_secs`.)
#[test]
fn callback_the_agent_does_not_answer() {
    let citizen_port = free_port(LOCAL);
    let server = start(config().trunk(
        "carrier",
        "outbound_proxy",
        format!("127.0.0.1:{citizen_port}"),
    ));
    let greeting = before_queue("12345");
    let agent = ready_agent(&server, "1001", Answer::Never, LIFE);
    set_state(
        &server,
        "1001",
        json!({"state": "not-ready", "reason": "meeting"}),
    );
    wait_state(&server, "1001", "not-ready", Duration::from_secs(2));
    let number = "13800000143";
    Caller::new("12345", number)
        .hold(greeting + Duration::from_secs(3))
        .dial(&server)
        .wait()
        .assert_success();
    let task = task_for(&server, number, "missed-call")["id"]
        .as_i64()
        .expect("task id");
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        &format!("/api/v1/callbacks/{task}/take"),
        None,
    );
    assert_eq!(code, 200, "take {task}: {body}");
    // Not-ready "callback" while it works the task (docs/call-path.md), its phone ringing.
    let st = wait_state(&server, "1001", "not-ready", Duration::from_secs(2));
    assert_eq!(st["reason"], "callback", "{st}");
    wait_for(Duration::from_secs(5), "1001's phone rings", || {
        (agent.invites(server.sip).len() == 1).then_some(())
    });
    let rung = std::time::Instant::now();
    let detail = wait_for(
        Duration::from_secs(75),
        "the agent-no-answer attempt",
        || {
            let (_, body) = server.api("GET", &format!("/api/v1/callbacks/{task}"), None);
            (body["attempt_log"].as_array().map_or(0, Vec::len) >= 1).then_some(body)
        },
    );
    let rang_for = rung.elapsed();
    // `agent-no-answer`, not `no-answer`: the citizen was not dialled.
    assert_eq!(
        detail["attempt_log"][0]["outcome"], "agent-no-answer",
        "{detail} (after {rang_for:?})"
    );
    let detail = wait_for(Duration::from_secs(5), "the task open again", || {
        let (_, body) = server.api("GET", &format!("/api/v1/callbacks/{task}"), None);
        (body["status"] == "open").then_some(body)
    });
    assert!(detail["next_attempt_at"].is_string(), "{detail}");
    assert_eq!(agent.invites(server.sip).len(), 1, "1001 rung once");
    assert_eq!(
        agent.requests(server.sip, "CANCEL").len(),
        1,
        "1001's ringing cancelled after {rang_for:?}"
    );
    let after = crate::support::agent::status(&server, "1001");
    assert_ne!(after["reason"], "callback", "{after}");
}

/// With `[callbacks] max_attempts = 1` a busy citizen ends the task: `failed` after its only
/// attempt, not open again.
#[test]
fn callback_task_fails_after_its_last_attempt() {
    let citizen_port = free_port(LOCAL);
    let server = start(
        config()
            .trunk(
                "carrier",
                "outbound_proxy",
                format!("127.0.0.1:{citizen_port}"),
            )
            .callbacks("max_attempts", 1),
    );
    let greeting = before_queue("12345");
    let _agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    set_state(
        &server,
        "1001",
        json!({"state": "not-ready", "reason": "meeting"}),
    );
    wait_state(&server, "1001", "not-ready", Duration::from_secs(2));
    let number = "13800000144";
    Caller::new("12345", number)
        .hold(greeting + Duration::from_secs(3))
        .dial(&server)
        .wait()
        .assert_success();
    let task = task_for(&server, number, "missed-call");
    assert_eq!(task["max_attempts"], 1, "{task}");
    let id = task["id"].as_i64().expect("task id");
    let phone = CitizenPhone::start(
        &server,
        citizen_port,
        Citizen::Busy,
        Duration::from_secs(20),
    );
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        &format!("/api/v1/callbacks/{id}/take"),
        None,
    );
    assert_eq!(code, 200, "take {id}: {body}");
    phone.wait().assert_success(1);
    let detail = wait_for(Duration::from_secs(10), "the task failed", || {
        let (_, body) = server.api("GET", &format!("/api/v1/callbacks/{id}"), None);
        (body["status"] != "taken"
            && body["attempt_log"]
                .as_array()
                .is_some_and(|l| !l.is_empty()))
        .then_some(body)
    });
    assert_eq!(detail["status"], "failed", "{detail}");
    assert_eq!(detail["attempts"], 1, "{detail}");
    assert_eq!(detail["attempt_log"][0]["outcome"], "busy", "{detail}");
    // A failed task cannot be taken again.
    wait_state(&server, "1001", "ready", Duration::from_secs(5));
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        &format!("/api/v1/callbacks/{id}/take"),
        None,
    );
    assert_eq!(code, 409, "take a failed task: {body}");
}
