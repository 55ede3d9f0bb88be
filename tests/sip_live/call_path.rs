//! The call path end to end with real peers on loopback: SIPp callers dialling 12345 and 12319
//! through the trunk (a 1000 Hz tone as their voice), baresip softphones as the seat agents
//! (each sending a tone of its own and dumping what it hears), and the server's API. They
//! check what the caller hears (greeting, then the agent), what the agent hears (the caller),
//! the two-channel recording, the call record, the work order and the screen-pop, the queue's
//! strategy (longest-idle, round-robin), wrap-up, no-answer, overflow to voicemail, a
//! self-service key sent by RFC 2833, and the missed-call callback task.
//!
//! The demo's flows with English prompts (12345 ≈ 19 s of greeting and offers before the
//! queue, 12319 ≈ 8 s), small ring and wrap-up times.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::agent::{ready_agent, status, wait_state, Agent, Answer};
use crate::support::audio::{audible_seconds, channel, read_wav, tone_seconds, RATE};
use crate::support::caller::{Called, Caller, CALLER_HZ};
use crate::support::events::Events;
use crate::support::{http_bytes, wait_for, Config, Server};

pub(crate) const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
/// How long a softphone lives: longer than any test here.
pub(crate) const LIFE: Duration = Duration::from_secs(120);
/// How long a caller who presses nothing hears prompts before joining the queue: the demo's
/// flow for `number` in English — 12345: greeting, recording notice, the language offer (with
/// its key spoken in Mandarin) and the self-service offer; 12319: greeting and notice.
pub(crate) fn before_queue(number: &str) -> Duration {
    let greeting = format!("en/greeting-{number}");
    let prompts: Vec<&str> = match number {
        "12345" => vec![
            &greeting,
            "en/recording-notice",
            "en/language-menu",
            "zh/digit-9",
            "en/self-service-menu",
        ],
        _ => vec![&greeting, "en/recording-notice"],
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts");
    let secs: f64 = prompts
        .iter()
        .map(|p| {
            let wav = hound::WavReader::open(dir.join(format!("{p}.wav"))).expect("prompt");
            f64::from(wav.duration()) / f64::from(wav.spec().sample_rate)
        })
        .sum();
    Duration::from_secs_f64(secs.ceil() + 1.0)
}
pub(crate) const RING_SECS: i64 = 3;
pub(crate) const WRAP_UP_SECS: i64 = 3;

/// The demo with MD5 digest (baresip), English prompts and short queue timers.
pub(crate) fn config() -> Config {
    let mut cfg = Config::demo()
        .sip("digest_algorithms", vec!["MD5"])
        .media("language", "en");
    for q in ["12345", "12319"] {
        cfg = cfg
            .queue(q, "ring_secs", RING_SECS)
            .queue(q, "wrap_up_secs", WRAP_UP_SECS)
            .queue(q, "max_wait_secs", 60)
            .queue(q, "announce_secs", 0);
    }
    cfg
}

pub(crate) fn start(cfg: Config) -> Server {
    Server::start(cfg, LOCAL)
}

/// The call records from `from`, newest first as the API lists them.
pub(crate) fn records_from(server: &Server, from: &str) -> Vec<Value> {
    let (code, body) = server.api("GET", &format!("/api/v1/calls?from_number={from}"), None);
    assert_eq!(code, 200, "GET /api/v1/calls?from_number={from}: {body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until the calls from `from` have `count` records, all ended (disposition set).
pub(crate) fn ended_records(server: &Server, from: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let last = records_from(server, from);
        if last.len() >= count && last.iter().all(|r| r["disposition"].is_string()) {
            return last;
        }
        assert!(
            Instant::now() < deadline,
            "{count} ended call record(s) from {from} not there within 10 s: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `GET /api/v1/calls/{id}`.
pub(crate) fn record(server: &Server, id: &str) -> Value {
    let (code, body) = server.api("GET", &format!("/api/v1/calls/{id}"), None);
    assert_eq!(code, 200, "GET /api/v1/calls/{id}: {body}");
    body
}

/// Asserts that the record's `steps` hold `expected` in this order (others may come between):
/// each a step name and, where given, the agent it names.
pub(crate) fn assert_steps(rec: &Value, expected: &[(&str, Option<&str>)]) {
    let steps: Vec<(String, Option<String>)> = rec["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {rec}"))
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or("").to_string(),
                s["agent_id"].as_str().map(str::to_string),
            )
        })
        .collect();
    let mut at = 0;
    for (name, agent) in expected {
        let found = steps[at..]
            .iter()
            .position(|(n, a)| n == name && agent.is_none_or(|want| a.as_deref() == Some(want)));
        match found {
            Some(i) => at += i + 1,
            None => panic!("step {name} (agent {agent:?}) missing or out of order in {steps:?}"),
        }
    }
}

/// The caller's number as an agent's INVITE carries it: in the From display name and in
/// P-Asserted-Identity.
pub(crate) fn assert_offer_shows_caller(agent: &Agent, server: &Server, caller: &str) {
    let invites = agent.invites(server.sip);
    let invite = invites.first().unwrap_or_else(|| {
        panic!("agent {} got no INVITE", agent.id);
    });
    let from = invite.header("From").expect("From");
    let display = from.split('<').next().unwrap_or("");
    assert!(display.contains(caller), "From display name: {from}");
    let pai = invite
        .header("P-Asserted-Identity")
        .unwrap_or_else(|| panic!("no P-Asserted-Identity in\n{}", invite.text));
    assert!(pai.contains(caller), "P-Asserted-Identity: {pai}");
}

/// The audio checks of an answered call between a caller and `agent`: the caller heard the
/// greeting before the agent and then the agent's tone; the agent heard the caller's tone.
fn assert_audio_both_ways(called: &Called, agent: &Agent, greeting: Duration) {
    let heard = &called.heard;
    assert!(
        called.packets.len() >= 300,
        "the caller received only {} RTP packets",
        called.packets.len()
    );
    // The greeting: audible, and not the agent (who is not on the call yet).
    let greeting_len = (greeting.as_secs() as usize - 2) * RATE as usize;
    let greeting = &heard[..greeting_len.min(heard.len())];
    let spoken = audible_seconds(greeting);
    assert!(spoken >= 3.0, "the caller heard {spoken} s of greeting");
    let early_agent = tone_seconds(greeting, agent.tone());
    assert_eq!(early_agent, 0.0, "the agent's tone during the greeting");
    let agent_heard = tone_seconds(heard, agent.tone());
    assert!(
        agent_heard >= 3.0,
        "the caller heard agent {}'s {} Hz tone for {agent_heard} s",
        agent.id,
        agent.tone()
    );
    let at_agent = agent.heard();
    let caller_heard = tone_seconds(&at_agent, CALLER_HZ);
    assert!(
        caller_heard >= 3.0,
        "agent {} heard the caller's {CALLER_HZ} Hz tone for {caller_heard} s \
         ({} samples dumped)",
        agent.id,
        at_agent.len()
    );
}

/// The two-channel recording at `path`: the caller's tone on the left; the greeting and then
/// the agent's tone on the right.
fn assert_recording(path: &str, agent_tone: u32) {
    let (samples, channels) = read_wav(std::path::Path::new(path));
    assert_eq!(channels, 2, "{path}");
    let left = channel(&samples, 2, 0);
    let right = channel(&samples, 2, 1);
    let caller = tone_seconds(&left, CALLER_HZ);
    assert!(caller >= 5.0, "caller's tone on the left for {caller} s");
    let agent = tone_seconds(&right, agent_tone);
    assert!(agent >= 3.0, "agent's tone on the right for {agent} s");
    let greeting = audible_seconds(&right[..(4 * RATE as usize).min(right.len())]);
    assert!(greeting >= 2.0, "greeting on the right for {greeting} s");
    let leak = tone_seconds(&left, agent_tone);
    assert_eq!(leak, 0.0, "agent's tone on the caller's channel");
}

/// (a) The greeting is heard, the call reaches the free agent, audio flows both ways, the
/// recording has both sides, and the call record is answered with the agent and the path.
#[test]
fn call_hears_greeting_reaches_free_agent_and_is_recorded() {
    let server = start(config());
    let greeting = before_queue("12345");
    let agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    let caller = "13800000001";
    let call = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(9))
        .dial(&server);
    let on_call = wait_state(
        &server,
        "1001",
        "on-call",
        greeting + Duration::from_secs(8),
    );
    assert_eq!(on_call["registered"], true, "{on_call}");
    let called = call.wait();
    called.assert_success();

    assert_offer_shows_caller(&agent, &server, caller);
    assert_audio_both_ways(&called, &agent, greeting);
    assert_eq!(
        agent.requests(server.sip, "BYE").len(),
        1,
        "the caller's BYE ends the agent's leg"
    );

    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["agent_id"], "1001", "{rec}");
    assert_eq!(rec["queue"], "12345", "{rec}");
    assert_eq!(rec["to_number"], "12345", "{rec}");
    assert!(rec["answered_at"].is_string(), "{rec}");
    let path = rec["recording_path"]
        .as_str()
        .expect("recording_path")
        .to_string();
    assert!(
        std::path::Path::new(&path).starts_with(server.data_dir().join("recordings")),
        "{path}"
    );
    let by_id = record(&server, rec["id"].as_str().unwrap());
    assert_eq!(by_id["recording_path"], path.as_str(), "{by_id}");
    assert_steps(
        &by_id,
        &[
            ("offered", None),
            ("greeting", None),
            ("queued", None),
            ("ringing", Some("1001")),
            ("answered", Some("1001")),
            ("ended", None),
        ],
    );
    assert_recording(&path, agent.tone());

    // The recording over the API, whole and by range.
    let url = format!("/api/v1/calls/{}/recording", rec["id"].as_str().unwrap());
    let (code, head, body) = http_bytes(server.http, &url, "demo-supervisor", &[]);
    assert_eq!(code, 200, "{head}");
    assert_eq!(
        body,
        std::fs::read(&path).unwrap(),
        "the streamed recording"
    );
    let (code, head, part) =
        http_bytes(server.http, &url, "demo-supervisor", &["Range: bytes=0-11"]);
    assert_eq!(code, 206, "{head}");
    assert_eq!(&part[..], &body[..12], "{head}");
}

/// (b) Longest-idle: of two ready agents, the one ready longer gets the call — 1002 here,
/// registered before 1001 (so it is not simply the first in the configuration).
#[test]
fn longest_idle_agent_gets_the_call() {
    let server = start(config().queue("12345", "strategy", "longest-idle"));
    let greeting = before_queue("12345");
    let first = ready_agent(&server, "1002", Answer::Auto, LIFE);
    std::thread::sleep(Duration::from_secs(2));
    let second = ready_agent(&server, "1001", Answer::Auto, LIFE);
    let caller = "13800000002";
    let called = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(6))
        .dial(&server)
        .wait();
    called.assert_success();
    assert_eq!(
        first.invites(server.sip).len(),
        1,
        "1002 (idle longer) offered once"
    );
    assert_eq!(second.invites(server.sip).len(), 0, "1001 not offered");
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["agent_id"], "1002", "{rec}");
    assert!(
        tone_seconds(&called.heard, first.tone()) >= 2.0,
        "caller heard 1002"
    );
    assert_eq!(
        tone_seconds(&called.heard, second.tone()),
        0.0,
        "caller heard 1001"
    );
}

/// (b) Round-robin goes through the queue's members in order, whoever has been idle longest:
/// agents registered 1003, 1002, 1001 (longest-idle would pick 1003), two calls reach 1001
/// and then 1002.
#[test]
fn round_robin_takes_the_members_in_turn() {
    let server = start(config().queue("12345", "strategy", "round-robin"));
    let greeting = before_queue("12345");
    let mut agents = Vec::new();
    for id in ["1003", "1002", "1001"] {
        agents.push(ready_agent(&server, id, Answer::Auto, LIFE));
        std::thread::sleep(Duration::from_secs(1));
    }
    let first = Caller::new("12345", "13800000021")
        .hold(greeting + Duration::from_secs(4))
        .dial(&server);
    std::thread::sleep(Duration::from_secs(6));
    let second = Caller::new("12345", "13800000022")
        .hold(greeting + Duration::from_secs(4))
        .dial(&server);
    first.wait().assert_success();
    second.wait().assert_success();
    let served = |from: &str| ended_records(&server, from, 1)[0]["agent_id"].clone();
    assert_eq!(served("13800000021"), "1001", "the first member first");
    assert_eq!(served("13800000022"), "1002", "then the next one");
    let offers: Vec<usize> = agents.iter().map(|a| a.invites(server.sip).len()).collect();
    assert_eq!(offers, vec![0, 1, 1], "INVITEs to 1003, 1002, 1001");
}

/// (c) The agent's desk gets a screen-pop with the call's id and the caller's orders; the
/// agent creates a work order for the call, which links the call record to it; when the same
/// citizen calls again, the order shows among their open orders.
#[test]
fn screen_pop_and_work_order_linked_to_the_call() {
    let server = start(config());
    let greeting = before_queue("12345");
    let _agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    let desk = Events::open(server.http, "demo-agent-1001");
    let caller = "13800000003";
    let call = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(8))
        .dial(&server);
    let pop = desk.wait("screen-pop", greeting + Duration::from_secs(8), |e| {
        e["caller"] == caller
    });
    let call_id = pop["call_id"]
        .as_str()
        .unwrap_or_else(|| panic!("call_id in {pop}"))
        .to_string();
    assert!(pop["previous_orders"].is_array(), "{pop}");
    assert!(pop["open_orders"].is_array(), "{pop}");
    assert_eq!(
        pop["open_orders"].as_array().unwrap().len(),
        0,
        "a first call: {pop}"
    );
    let (code, order) = server.api_as(
        "demo-agent-1001",
        "POST",
        "/api/v1/work-orders",
        Some(&json!({
            "request_type": "consultation",
            "description": "Asks when the street lights on Bingcao Road are repaired.",
            "caller_number": caller,
            "call_id": call_id,
        })),
    );
    assert_eq!(code, 201, "{order}");
    let order_id = order["id"].as_i64().expect("order id");
    call.wait().assert_success();

    let rec = record(&server, &call_id);
    assert_eq!(rec["from_number"], caller, "{rec}");
    assert_eq!(rec["work_order_id"], order_id, "{rec}");
    assert_eq!(rec["agent_id"], "1001", "{rec}");
    assert_eq!(rec["disposition"], "answered", "{rec}");
    let ended = desk.wait("call-ended", Duration::from_secs(5), |e| {
        e["call_id"] == call_id.as_str()
    });
    assert!(ended.is_object());

    // After wrap-up the same citizen calls again: the order is among their open orders.
    wait_state(
        &server,
        "1001",
        "ready",
        Duration::from_secs(WRAP_UP_SECS as u64 + 5),
    );
    let again = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(4))
        .dial(&server);
    let pop2 = desk.wait("screen-pop", greeting + Duration::from_secs(8), |e| {
        e["caller"] == caller && e["call_id"] != call_id.as_str()
    });
    let open: Vec<i64> = pop2["open_orders"]
        .as_array()
        .unwrap_or_else(|| panic!("open_orders in {pop2}"))
        .iter()
        .filter_map(|o| o["id"].as_i64())
        .collect();
    assert!(
        open.contains(&order_id),
        "order {order_id} among open orders: {pop2}"
    );
    again.wait().assert_success();
    // The link is a step of the call, whichever way it was made.
    assert_steps(
        &record(&server, &call_id),
        &[("answered", Some("1001")), ("order-linked", None)],
    );
}

/// (d) Wrap-up holds the agent: right after its call 1001 is in wrap-up and the next call goes
/// to 1002; 1001 is ready again when the countdown ends, and 1002 ends its wrap-up early.
#[test]
fn wrap_up_holds_the_agent() {
    // Long enough to cover the second call's greeting and answer.
    let greeting = before_queue("12345");
    let wrap = greeting.as_secs() + 12;
    let server = start(config().queue("12345", "wrap_up_secs", wrap as i64));
    let a1 = ready_agent(&server, "1001", Answer::Auto, LIFE);
    std::thread::sleep(Duration::from_secs(2));
    let a2 = ready_agent(&server, "1002", Answer::Auto, LIFE);
    Caller::new("12345", "13800000041")
        .hold(greeting + Duration::from_secs(4))
        .dial(&server)
        .wait()
        .assert_success();
    let ended_at = Instant::now();
    let st = wait_state(&server, "1001", "wrap-up", Duration::from_secs(2));
    assert_eq!(a1.invites(server.sip).len(), 1, "1001 took the first call");

    let second = Caller::new("12345", "13800000042")
        .hold(greeting + Duration::from_secs(6))
        .dial(&server);
    wait_state(
        &server,
        "1002",
        "on-call",
        greeting + Duration::from_secs(6),
    );
    assert!(
        ended_at.elapsed() < Duration::from_secs(wrap),
        "the second call was answered after 1001's wrap-up had ended ({st})"
    );
    assert_eq!(
        a1.invites(server.sip).len(),
        1,
        "1001 offered a call in wrap-up"
    );
    assert_eq!(status(&server, "1001")["state"], "wrap-up");
    second.wait().assert_success();
    let rec = &ended_records(&server, "13800000042", 1)[0];
    assert_eq!(rec["agent_id"], "1002", "{rec}");
    assert_eq!(a2.invites(server.sip).len(), 1);

    // 1002 ends its wrap-up early; 1001's countdown brings it back by itself.
    wait_state(&server, "1002", "wrap-up", Duration::from_secs(2));
    let (code, body) = server.api_as(
        "demo-admin",
        "POST",
        "/api/v1/agents/1002/end-wrap-up",
        None,
    );
    assert!(code == 200 || code == 204, "end-wrap-up: {code} {body}");
    wait_state(&server, "1002", "ready", Duration::from_secs(1));
    let back = wait_state(&server, "1001", "ready", Duration::from_secs(wrap + 3));
    assert!(
        ended_at.elapsed() >= Duration::from_secs(wrap - 1),
        "1001 ready after {:?}, before its {wrap} s wrap-up: {back}",
        ended_at.elapsed()
    );
    // Each wrap-up is written onto the call it followed (the agent's day sums them): 1001's
    // full countdown, 1002's ended early.
    let wrap_up = |agent: &str| {
        let (code, day) = server.api("GET", &format!("/api/v1/agents/{agent}/day"), None);
        assert_eq!(code, 200, "{day}");
        day["wrap_up_secs"].as_f64().unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while wrap_up("1001") == 0.0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (w1, w2) = (wrap_up("1001"), wrap_up("1002"));
    assert!(
        (w1 - wrap as f64).abs() <= 2.0,
        "1001's wrap-up {w1} s, its countdown {wrap} s"
    );
    assert!(
        w2 > 0.0 && w2 < wrap as f64,
        "1002's wrap-up {w2} s, ended early"
    );
}

/// (e) No answer moves to the next agent: 1001 (idle longer) rings without answering, is
/// cancelled after ring_secs and set not-ready "no answer" (no_answer_limit = 1); 1002 answers.
#[test]
fn no_answer_moves_the_call_to_the_next_agent() {
    let server = start(config().queue("12345", "no_answer_limit", 1));
    let greeting = before_queue("12345");
    let silent = ready_agent(&server, "1001", Answer::Never, LIFE);
    std::thread::sleep(Duration::from_secs(2));
    let answering = ready_agent(&server, "1002", Answer::Auto, LIFE);
    let caller = "13800000005";
    let call = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(RING_SECS as u64 + 8))
        .dial(&server);
    let rang = wait_state(
        &server,
        "1001",
        "ringing",
        greeting + Duration::from_secs(5),
    );
    let ring_start = Instant::now();
    wait_state(
        &server,
        "1002",
        "on-call",
        Duration::from_secs(RING_SECS as u64 + 5),
    );
    let rang_for = ring_start.elapsed();
    assert!(
        rang_for >= Duration::from_secs(RING_SECS as u64 - 1),
        "1002 answered {rang_for:?} after 1001 started ringing ({rang})"
    );
    let called = call.wait();
    called.assert_success();

    assert_eq!(silent.invites(server.sip).len(), 1, "1001 offered once");
    assert_eq!(
        silent.requests(server.sip, "CANCEL").len(),
        1,
        "1001's offer cancelled"
    );
    assert_offer_shows_caller(&silent, &server, caller);
    assert_offer_shows_caller(&answering, &server, caller);
    let st = status(&server, "1001");
    assert_eq!(st["state"], "not-ready", "{st}");
    assert_eq!(st["reason"], "no answer", "{st}");
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["agent_id"], "1002", "{rec}");
    assert!(
        tone_seconds(&called.heard, answering.tone()) >= 3.0,
        "caller heard 1002"
    );
}

/// (f) No agent logged in: the caller is sent to voicemail, leaves a message and hangs up;
/// the record says voicemail and a voicemail work order is linked to it.
#[test]
fn no_agent_logged_in_overflows_to_voicemail_with_an_order() {
    let server = start(config().queue("12345", "overflow", "voicemail"));
    let greeting = before_queue("12345");
    let caller = "13800000006";
    let called = Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(12))
        .dial(&server)
        .wait();
    called.assert_success();
    // Greeting, then leave-message and the beep: audible most of the way.
    let heard = audible_seconds(&called.heard);
    assert!(heard >= 8.0, "the caller heard {heard} s of prompts");

    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "voicemail", "{rec}");
    assert_steps(
        &record(&server, rec["id"].as_str().unwrap()),
        &[("greeting", None), ("voicemail", None), ("ended", None)],
    );
    let order_id = rec["work_order_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no work order linked: {rec}"));
    let (code, order) = server.api("GET", &format!("/api/v1/work-orders/{order_id}"), None);
    assert_eq!(code, 200, "{order}");
    assert_eq!(order["request_type"], "voicemail", "{order}");
    assert_eq!(order["caller_number"], caller, "{order}");
    let path = rec["recording_path"].as_str().expect("recording_path");
    let (samples, channels) = read_wav(std::path::Path::new(path));
    let message = tone_seconds(&channel(&samples, channels, 0), CALLER_HZ);
    assert!(
        message >= 3.0,
        "the message (caller's tone) recorded for {message} s"
    );
}

/// A key by RFC 2833 during the self-service offer (12345: 2 = leave a message) takes the
/// caller to voicemail although an agent is free; the message becomes a voicemail order.
#[test]
fn key_2_in_the_self_service_offer_leaves_a_message() {
    let server = start(config());
    let agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    // The self-service offer is the flow's last prompt (≈ 8 s): press 2 well inside it.
    let during_offer = before_queue("12345") - Duration::from_secs(5);
    let caller = "13800000009";
    Caller::new("12345", caller)
        .digit('2', during_offer)
        .hold(Duration::from_secs(12))
        .dial(&server)
        .wait()
        .assert_success();
    let pressed = server.wait_log("caller pressed a key", 1);
    assert_eq!(pressed[0]["digit"], "2", "{pressed:?}");
    assert_eq!(
        agent.invites(server.sip).len(),
        0,
        "the agent was offered the call"
    );
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "voicemail", "{rec}");
    assert_steps(
        &record(&server, rec["id"].as_str().unwrap()),
        &[("greeting", None), ("voicemail", None), ("ended", None)],
    );
    let order_id = rec["work_order_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no work order linked: {rec}"));
    let (code, order) = server.api("GET", &format!("/api/v1/work-orders/{order_id}"), None);
    assert_eq!(code, 200, "{order}");
    assert_eq!(order["request_type"], "voicemail", "{order}");
}

/// (g) A caller who hangs up while queued (the only agent logged in is not ready): the record
/// says abandoned in the queue and a missed-call callback task is created for the number.
#[test]
fn abandoned_caller_creates_a_missed_call_callback() {
    let server = start(config());
    let greeting = before_queue("12345");
    let agent = ready_agent(&server, "1001", Answer::Auto, LIFE);
    let (code, body) = server.api_as(
        "demo-agent-1001",
        "POST",
        "/api/v1/agents/1001/state",
        Some(&json!({"state": "not-ready", "reason": "meeting"})),
    );
    assert!(code == 200 || code == 204, "set not-ready: {code} {body}");
    wait_state(&server, "1001", "not-ready", Duration::from_secs(2));
    let caller = "13800000007";
    Caller::new("12345", caller)
        .hold(greeting + Duration::from_secs(4))
        .dial(&server)
        .wait()
        .assert_success();
    assert_eq!(
        agent.invites(server.sip).len(),
        0,
        "a not-ready agent was offered the call"
    );

    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "abandoned", "{rec}");
    assert_eq!(rec["disposition_detail"], "queue", "{rec}");
    assert!(rec["agent_id"].is_null(), "{rec}");
    let task = wait_for(
        Duration::from_secs(5),
        "a missed-call callback task",
        || {
            let (code, body) = server.api("GET", "/api/v1/callbacks", None);
            assert_eq!(code, 200, "GET /api/v1/callbacks: {body}");
            let items = body
                .get("items")
                .and_then(Value::as_array)
                .or_else(|| body.as_array())
                .cloned()
                .unwrap_or_default();
            items
                .into_iter()
                .find(|t| t["kind"] == "missed-call" && t["number"] == caller)
        },
    );
    assert!(task.is_object(), "{task}");
}

/// (h) 12319 has its own greeting and queue: the call reaches agent 2001.
#[test]
fn call_to_12319_reaches_its_queue_agent() {
    let server = start(config());
    let greeting = before_queue("12319");
    let agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let caller = "13800000008";
    let called = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(8))
        .dial(&server)
        .wait();
    called.assert_success();
    assert_audio_both_ways(&called, &agent, greeting);
    let rec = &ended_records(&server, caller, 1)[0];
    assert_eq!(rec["disposition"], "answered", "{rec}");
    assert_eq!(rec["to_number"], "12319", "{rec}");
    assert_eq!(rec["queue"], "12319", "{rec}");
    assert_eq!(rec["agent_id"], "2001", "{rec}");
}
