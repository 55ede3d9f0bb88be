//! The wallboard and `/metrics` of a running server with a real call: a baresip agent of the
//! 12319 queue registers, goes not-ready through the API (its state change arrives on a
//! supervisor's WebSocket), then a SIPp caller dials 12319 and waits in the queue. The
//! wallboard shows the waiting caller, the agent's time in state and the long-wait alert;
//! `/metrics` shows the same figures as Prometheus series. The live picture behind both is
//! shared: a burst of concurrent scrapes asks the call task for it at most once per 500 ms,
//! and a state change still shows on the wallboard within about that.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::call_path::{before_queue, config, start, LIFE};
use crate::support::agent::{ready_agent, Answer};
use crate::support::caller::Caller;
use crate::support::events::Events;
use crate::support::{http, http_bytes, wait_for, Server};

/// The value of the series `name` (with its labels, as written) in a scrape.
fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

fn scrape(server: &Server) -> String {
    let (code, headers, body) = http_bytes(server.http, "/metrics", "none", &[]);
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("application/openmetrics-text"),
        "{headers}"
    );
    String::from_utf8(body).expect("UTF-8 metrics")
}

fn wallboard(server: &Server) -> Value {
    let (code, body) = server.api_as("demo-supervisor", "GET", "/api/v1/wallboard", None);
    assert_eq!(code, 200, "{body}");
    body
}

#[test]
fn wallboard_and_metrics_show_a_waiting_caller_and_a_not_ready_agent() {
    let server = start(config().wallboard("long_wait_secs", 2));
    // Who may look.
    let (code, _) = http(server.http, "GET", "/api/v1/wallboard", None, None);
    assert_eq!(code, 401);
    let (code, _) = server.api_as("demo-agent-1001", "GET", "/api/v1/wallboard", None);
    assert_eq!(code, 403);

    let events = Events::open(server.http, "demo-supervisor");
    let _agent = ready_agent(&server, "2001", Answer::Never, LIFE);
    // The shared picture now holds 2001 as it was before the change below.
    wallboard(&server);
    let (code, status) = server.api(
        "POST",
        "/api/v1/agents/2001/state",
        Some(&json!({"state": "not-ready", "reason": "meeting"})),
    );
    assert_eq!(code, 200, "{status}");
    assert_eq!(status["state_secs"], 0, "{status}");
    let since = status["since"].as_str().expect("since").to_string();
    chrono::DateTime::parse_from_rfc3339(&since).expect("RFC 3339");
    events.wait("agent-state", Duration::from_secs(5), |e| {
        e["agent"] == "2001" && e["state"] == "not-ready"
    });
    // Still live: the change shows once the shared picture is 500 ms old.
    wait_for(
        Duration::from_millis(1500),
        "2001 not-ready on the wallboard",
        || {
            wallboard(&server)["agents"]
                .as_array()?
                .iter()
                .any(|a| a["id"] == "2001" && a["state"] == "not-ready")
                .then_some(())
        },
    );

    let calling = Caller::new("12319", "13900000077")
        .hold(before_queue("12319") + Duration::from_secs(12))
        .dial(&server);
    let board = wait_for(
        before_queue("12319") + Duration::from_secs(8),
        "the caller waits in 12319",
        || {
            let b = wallboard(&server);
            let q = b["queues"]
                .as_array()?
                .iter()
                .find(|q| q["name"] == "12319")?;
            (q["waiting"] == 1 && q["longest_wait_secs"].as_u64()? > 2).then_some(b)
        },
    );
    let q = board["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "12319")
        .unwrap();
    assert_eq!(q["service_level_secs"], 15, "{q}");
    assert!(q.get("today").is_some(), "{q}");
    let a = board["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "2001")
        .unwrap();
    assert_eq!(a["state"], "not-ready");
    assert_eq!(a["reason"], "meeting");
    // Mapped from the engine's monotonic clock at each look: the same instant to within a few ms.
    let seen = chrono::DateTime::parse_from_rfc3339(a["since"].as_str().unwrap()).unwrap();
    let set = chrono::DateTime::parse_from_rfc3339(&since).unwrap();
    assert!(
        (seen - set).num_milliseconds().abs() < 50,
        "the state began when it was set ({since}): {a}"
    );
    assert!(a["state_secs"].as_u64().unwrap() >= 2, "{a}");
    assert!(board["calls_in_progress"].as_u64().unwrap() >= 1, "{board}");
    let calls = board["calls"].as_array().expect("calls in progress");
    assert!(
        calls
            .iter()
            .any(|c| c["queue"] == "12319" && c["caller"] == "13900000077"),
        "{calls:?}"
    );
    chrono::DateTime::parse_from_rfc3339(board["at"].as_str().unwrap()).expect("at");
    let alert = board["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "long-wait" && x["queue"] == "12319")
        .unwrap_or_else(|| panic!("no long-wait alert: {board}"));
    assert_eq!(alert["target"], 2.0);
    assert!(alert["message_en"]
        .as_str()
        .unwrap()
        .contains("Queue 12319"));

    let text = scrape(&server);
    assert_eq!(
        series(&text, "hotline_queue_waiting{queue=\"12319\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "hotline_queue_waiting{queue=\"12345\"}"),
        Some(0.0)
    );
    assert!(series(&text, "hotline_queue_longest_wait_seconds{queue=\"12319\"}").unwrap() > 2.0);
    assert_eq!(
        series(
            &text,
            "hotline_queue_agents{queue=\"12319\",state=\"not-ready\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        series(
            &text,
            "hotline_queue_agents{queue=\"12319\",state=\"logged-out\"}"
        ),
        Some(1.0),
        "2002 has no softphone"
    );
    assert_eq!(
        series(&text, "hotline_agents{state=\"not-ready\"}"),
        Some(1.0)
    );
    assert_eq!(series(&text, "hotline_agents{state=\"ready\"}"), Some(0.0));
    assert_eq!(series(&text, "hotline_calls_in_progress"), Some(1.0));
    assert_eq!(series(&text, "hotline_calls_offered_total"), Some(1.0));
    assert!(series(&text, "hotline_calls_per_second").is_some());
    // The caller's voice has been arriving for seconds (published every 200 ms).
    assert!(
        series(&text, "hotline_rtp_packets_received_total").unwrap() > 50.0,
        "{text}"
    );
    assert!(series(&text, "hotline_rtp_packets_lost_total").is_some());
    assert!(series(&text, "hotline_rtp_jitter_seconds").unwrap() >= 0.0);
    assert_eq!(series(&text, "hotline_recording_errors_total"), Some(0.0));
    assert!(series(&text, "hotline_store_query_duration_seconds_count").unwrap() > 0.0);
    assert!(text.contains("hotline_store_query_duration_seconds_bucket{le=\"0.001\"}"));
    assert!(text.trim_end().ends_with("# EOF"));

    // A burst of concurrent scrapes (anyone may scrape) shares the picture: the call task is
    // asked at most once per 500 ms period the burst spans, not once per scrape.
    let taken = |text: &str| series(text, "hotline_live_snapshots_total").expect("snapshots");
    let began = Instant::now();
    let before = taken(&scrape(&server));
    std::thread::scope(|s| {
        for _ in 0..24 {
            s.spawn(|| scrape(&server));
        }
    });
    let after = taken(&scrape(&server));
    let periods = (began.elapsed().as_millis() / 500) as f64;
    assert!(
        after - before <= periods + 1.0,
        "26 scrapes over {:?} took {} snapshots",
        began.elapsed(),
        after - before
    );

    calling.wait();
}
