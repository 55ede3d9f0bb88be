//! More of the call path end to end with real peers on loopback (the harness and helpers of
//! `call_path`): blind transfer by API and by the softphone's REFER (to a queue, and to an
//! agent, which is refused and sends the caller back to their queue), the satisfaction survey
//! after the agent hangs up (stored on the call and its order), callbacks worked by an agent
//! through the trunk's `outbound_proxy` (a SIPp citizen that answers and echoes, or is busy),
//! the queued callback that keeps the caller's place, hold and resume by re-INVITE, and
//! ring-all. Agents who must do something baresip cannot be told to (hang up, REFER,
//! re-INVITE) are SIPp softphones (`support::softphone`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::call_path::{
    assert_offer_shows_caller, assert_steps, before_queue, config, ended_records, record, start,
    LIFE, LOCAL,
};
use crate::support::agent::{agent_tone, ready_agent, wait_registered, wait_state, Answer};
use crate::support::audio::{audible_seconds, timeline, tone_seconds, RATE};
use crate::support::caller::{Called, Caller, CALLER_HZ};
use crate::support::events::Events;
use crate::support::sipp::Run;
use crate::support::softphone::{Citizen, CitizenPhone, Script, SippAgent};
use crate::support::{free_port, wait_for, Server};

/// The length of prompt `name` in English.
fn prompt_secs(name: &str) -> f64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ivr-prompts/en")
        .join(format!("{name}.wav"));
    let wav = hound::WavReader::open(&path).expect("prompt");
    f64::from(wav.duration()) / f64::from(wav.spec().sample_rate)
}

/// An agent's state set through the API as an admin.
fn set_state(server: &Server, agent: &str, body: Value) {
    let (code, reply) = server.api(
        "POST",
        &format!("/api/v1/agents/{agent}/state"),
        Some(&body),
    );
    assert!(
        code == 200 || code == 204,
        "set {agent} {body}: {code} {reply}"
    );
}

/// Starts a SIPp softphone as `id` and waits until the agent is registered and ready.
fn ready_sipp_agent(server: &Server, id: &str, script: Script, life: Duration) -> SippAgent {
    let agent = SippAgent::start(server, id, script, life);
    wait_registered(server, id, Duration::from_secs(10));
    wait_state(server, id, "ready", Duration::from_secs(5));
    agent
}

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

/// What the caller and `agent` (a baresip softphone) heard of each other: at least `secs` of
/// the other's tone each way.
fn assert_talked(called: &Called, agent: &crate::support::agent::Agent, secs: f64) {
    let heard = tone_seconds(&called.heard, agent.tone());
    assert!(
        heard >= secs,
        "the caller heard {}'s tone for {heard} s",
        agent.id
    );
    let at_agent = tone_seconds(&agent.heard(), CALLER_HZ);
    assert!(
        at_agent >= secs,
        "{} heard the caller's tone for {at_agent} s",
        agent.id
    );
}

/// The messages of a SIPp softphone's run that are part of the call (not the registration).
fn call_messages(run: &Run) -> Vec<&crate::support::sipp::Traced> {
    run.messages
        .iter()
        .filter(|m| m.header("CSeq").is_some_and(|c| !c.ends_with("REGISTER")))
        .collect()
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

/// SIPp reported nothing but its use of the out-of-call scenario (an unexpected message, a
/// failed check or a timeout in the call would be there).
fn assert_no_sipp_errors(run: &Run) {
    let errors: Vec<&str> = run
        .errors
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("The following events occurred"))
        .filter(|l| !l.contains("using the out-of-call scenario"))
        .collect();
    assert!(errors.is_empty(), "{}", run.dump());
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
    let echoed = tone_seconds(&agent.heard(), agent.tone());
    assert!(
        echoed >= 2.0,
        "1001 heard its own tone echoed for {echoed} s"
    );
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
    // The citizen's number is shown (docs/call-path.md gives `callback <number>` only for a
    // task taken by hand; this offer comes from the queue).
    let from = invites[0].header("From").unwrap_or_default();
    let display = from.split('<').next().unwrap_or("");
    assert!(display.contains(caller), "From of the agent's leg: {from}");
    let agent_leg = invites[0].header("Call-ID").expect("Call-ID");
    assert_agent_answered_first(&server, &agent_leg, &citizen_leg(&run));
    let echoed = tone_seconds(&agent.heard(), agent.tone());
    assert!(
        echoed >= 2.0,
        "1001 heard its own tone echoed for {echoed} s"
    );
    assert_answered_callback(&server, task);
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
