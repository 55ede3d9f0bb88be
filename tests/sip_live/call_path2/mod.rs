//! More of the call path end to end with real peers on loopback (the harness and helpers of
//! `call_path`), one server per test:
//! * `transfer` — blind transfer by API and by the softphone's REFER to a queue, to an agent
//!   (refused after the 202: the caller goes back to their queue), and to a number outside
//!   dialled through the trunk's `outbound_proxy`;
//! * `callbacks` — missed-call tasks taken by an agent and worked through the trunk (a SIPp
//!   citizen's phone that answers and echoes, or is busy), and the callback a waiting caller
//!   asks for, which keeps their place in the queue; a task whose agent does not answer, and
//!   one that fails after its last attempt;
//! * `agents` — ring-all (one answer wins, also when two answer at once), hold and resume by
//!   re-INVITE, and the satisfaction survey after the agent hangs up: answered (stored on the
//!   call and its order) or not (the server hangs up 10 s after the question);
//! * `supervisor` — a supervisor's softphone (baresip as 8001) listening, whispering and
//!   barging in, monitoring stopped by the API and by the call's end, and the force hang-up,
//!   with who heard whom measured in each phone's audio and the audit trail read back.
//!
//! Agents who must do what baresip cannot be told to (hang up, REFER, re-INVITE) are SIPp
//! softphones (`support::softphone`). The helpers the three share are here.

mod agents;
mod callbacks;
mod supervisor;
mod transfer;

use std::time::Duration;

use serde_json::Value;

use crate::support::agent::{wait_registered, wait_state, Agent};
use crate::support::audio::tone_seconds;
use crate::support::caller::{Called, CALLER_HZ};
use crate::support::sipp::{Run, Traced};
use crate::support::softphone::{Script, SippAgent};
use crate::support::Server;

/// The length of prompt `name` in English.
pub(super) fn prompt_secs(name: &str) -> f64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ivr-prompts/en")
        .join(format!("{name}.wav"));
    let wav = hound::WavReader::open(&path).expect("prompt");
    f64::from(wav.duration()) / f64::from(wav.spec().sample_rate)
}

/// An agent's state set through the API as an admin.
pub(super) fn set_state(server: &Server, agent: &str, body: Value) {
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
pub(super) fn ready_sipp_agent(
    server: &Server,
    id: &str,
    script: Script,
    life: Duration,
) -> SippAgent {
    let agent = SippAgent::start(server, id, script, life);
    wait_registered(server, id, Duration::from_secs(10));
    wait_state(server, id, "ready", Duration::from_secs(5));
    agent
}
/// What the caller and `agent` (a baresip softphone) heard of each other: at least `secs` of
/// the other's tone each way.
pub(super) fn assert_talked(called: &Called, agent: &Agent, secs: f64) {
    let heard = tone_seconds(&called.heard, agent.tone());
    assert!(
        heard >= secs,
        "the caller heard {}'s tone for {heard} s",
        agent.id
    );
    // baresip writes what it heard when its call ends, which may be just after the caller's.
    let limit = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let at_agent = tone_seconds(&agent.heard(), CALLER_HZ);
        if at_agent >= secs {
            return;
        }
        assert!(
            std::time::Instant::now() < limit,
            "{} heard the caller's tone for {at_agent} s",
            agent.id
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The messages of a SIPp softphone's run that are part of the call (not the registration).
pub(super) fn call_messages(run: &Run) -> Vec<&Traced> {
    run.messages
        .iter()
        .filter(|m| m.header("CSeq").is_some_and(|c| !c.ends_with("REGISTER")))
        .collect()
}
/// SIPp reported nothing but its use of the out-of-call scenario (an unexpected message, a
/// failed check or a timeout in the call would be there).
pub(super) fn assert_no_sipp_errors(run: &Run) {
    let errors: Vec<&str> = run
        .errors
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("The following events occurred"))
        .filter(|l| !l.contains("using the out-of-call scenario"))
        .collect();
    assert!(errors.is_empty(), "{}", run.dump());
}
