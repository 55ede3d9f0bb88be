//! The wallboard benchmark's HTTP and WebSocket side (run by bench/wallboard.sh):
//!
//! * `probe agents HTTP TOKEN PREFIX N` — logs agents PREFIX00001…N in (their softphones are
//!   registered already) and takes them off the queue: odd ones not-ready ("meeting"), even
//!   ones on break. Prints how long it took.
//! * `probe wait HTTP TOKEN QUEUE N SECS` — polls `/api/v1/wallboard` until QUEUE has N callers
//!   waiting (exit 1 after SECS).
//! * `probe measure HTTP TOKEN PREFIX AGENTS REQUESTS CHANGES` — REQUESTS sequential GETs of
//!   `/api/v1/wallboard` and of `/metrics` (a fresh connection each, as a browser or Prometheus
//!   opening one would not reuse it either), then CHANGES state changes (an agent between
//!   not-ready and break, round the agents) timed from just before the POST until its
//!   `agent-state` event arrives on a WebSocket subscribed to `/api/v1/events`, then 10 more
//!   timed until the wallboard shows them (polled every 20 ms). Also how many times the call
//!   task was asked for the shared live picture during the GETs (`hotline_live_snapshots_total`).
//!   One JSON line of figures on stdout.
//!
//! Standard library, `serde_json` and `tungstenite` only; every wait is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_nodelay(true).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response");
    let status = std::str::from_utf8(&raw[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    (status, raw[at..].to_vec())
}

fn json_of(addr: SocketAddr, method: &str, path: &str, token: &str, body: Option<&str>) -> Value {
    let (code, b) = request(addr, method, path, token, body);
    let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    assert!(
        (200..300).contains(&code),
        "{method} {path}: {code} {}",
        String::from_utf8_lossy(&b)
    );
    v
}

fn agent_id(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:05}")
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i.min(v.len() - 1)]
}

fn agents(addr: SocketAddr, token: &str, prefix: &str, n: usize) {
    let t = Instant::now();
    for i in 1..=n {
        let a = agent_id(prefix, i);
        json_of(
            addr,
            "POST",
            &format!("/api/v1/agents/{a}/login"),
            token,
            None,
        );
        let state = if i % 2 == 1 {
            r#"{"state": "not-ready", "reason": "meeting"}"#
        } else {
            r#"{"state": "break"}"#
        };
        json_of(
            addr,
            "POST",
            &format!("/api/v1/agents/{a}/state"),
            token,
            Some(state),
        );
    }
    println!(
        "{}",
        json!({"agents": n, "login_and_state_secs": t.elapsed().as_secs_f64()})
    );
}

fn wait(addr: SocketAddr, token: &str, queue: &str, n: u64, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = 0;
    while Instant::now() < deadline {
        let b = json_of(addr, "GET", "/api/v1/wallboard", token, None);
        last = b["queues"]
            .as_array()
            .and_then(|qs| qs.iter().find(|q| q["name"] == queue))
            .and_then(|q| q["waiting"].as_u64())
            .unwrap_or(0);
        if last >= n {
            eprintln!("probe: {last} callers waiting in {queue}");
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("probe: only {last} callers waiting in {queue} after {secs} s");
    false
}

/// (latencies in ms, body sizes) of `n` sequential GETs.
fn gets(addr: SocketAddr, token: &str, path: &str, n: usize) -> (Vec<f64>, Vec<usize>) {
    let (mut lat, mut size) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = Instant::now();
        let (code, body) = request(addr, "GET", path, token, None);
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(code, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
        size.push(body.len());
    }
    (lat, size)
}

/// The call task's live pictures taken so far, from `/metrics`.
fn snapshots(addr: SocketAddr) -> f64 {
    let (_, body) = request(addr, "GET", "/metrics", "none", None);
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| {
            l.strip_prefix("hotline_live_snapshots_total ")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(f64::NAN)
}

/// The state a wallboard shows for agent `a`.
fn board_state(addr: SocketAddr, token: &str, a: &str) -> String {
    json_of(addr, "GET", "/api/v1/wallboard", token, None)["agents"]
        .as_array()
        .and_then(|v| v.iter().find(|x| x["id"] == a))
        .and_then(|x| x["state"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The agent's state flipped between not-ready and break; returns the new one.
fn flip(addr: SocketAddr, token: &str, a: &str, now: &str) -> &'static str {
    let (body, want) = if now == "break" {
        (
            r#"{"state": "not-ready", "reason": "meeting"}"#,
            "not-ready",
        )
    } else {
        (r#"{"state": "break"}"#, "break")
    };
    json_of(
        addr,
        "POST",
        &format!("/api/v1/agents/{a}/state"),
        token,
        Some(body),
    );
    want
}

fn measure(addr: SocketAddr, token: &str, prefix: &str, agents: usize, n: usize, changes: usize) {
    let (began, snaps_before) = (Instant::now(), snapshots(addr));
    let (mut wb, wb_size) = gets(addr, token, "/api/v1/wallboard", n);
    let board = json_of(addr, "GET", "/api/v1/wallboard", token, None);
    let (mut me, me_size) = gets(addr, token, "/metrics", n);
    let snaps = snapshots(addr) - snaps_before;
    let gets_secs = began.elapsed().as_secs_f64();

    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    let url = format!("ws://{addr}/api/v1/events?access_token={token}");
    let (mut ws, _) = tungstenite::client(url.as_str(), stream).expect("WebSocket handshake");
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let (mut ev_lat, mut post_lat, mut missed) = (Vec::new(), Vec::new(), 0usize);
    for k in 0..changes {
        let i = 1 + k % agents;
        let a = agent_id(prefix, i);
        // Odd agents start not-ready, even ones on break; each change flips the agent.
        let round = k / agents;
        let to_break = (i % 2 == 1) == round.is_multiple_of(2);
        let body = if to_break {
            r#"{"state": "break"}"#
        } else {
            r#"{"state": "not-ready", "reason": "meeting"}"#
        };
        let want = if to_break { "break" } else { "not-ready" };
        let t = Instant::now();
        json_of(
            addr,
            "POST",
            &format!("/api/v1/agents/{a}/state"),
            token,
            Some(body),
        );
        post_lat.push(t.elapsed().as_secs_f64() * 1000.0);
        let deadline = t + Duration::from_secs(5);
        let mut got = false;
        while Instant::now() < deadline {
            match ws.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    if v["type"] == "agent-state" && v["agent"] == a.as_str() && v["state"] == want
                    {
                        ev_lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        got = true;
                        break;
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("WebSocket: {e}"),
            }
        }
        if !got {
            missed += 1;
        }
    }
    let _ = ws.close(None);
    // How live the wallboard is: a state change until the wallboard shows it.
    // Agents 1–10 last changed above; once the shared picture is older than its 500 ms, it
    // shows their state as it is.
    std::thread::sleep(Duration::from_millis(600));
    let mut board_lat = Vec::new();
    for k in 0..10 {
        let a = agent_id(prefix, 1 + k % agents);
        let now = board_state(addr, token, &a);
        let t = Instant::now();
        let want = flip(addr, token, &a, &now);
        while t.elapsed() < Duration::from_secs(5) {
            if board_state(addr, token, &a) == want {
                board_lat.push(t.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let waiting: u64 = board["queues"]
        .as_array()
        .map(|qs| qs.iter().filter_map(|q| q["waiting"].as_u64()).sum())
        .unwrap_or(0);
    let logged_in = board["agents"]
        .as_array()
        .map(|a| a.iter().filter(|a| a["state"] != "logged-out").count())
        .unwrap_or(0);
    println!(
        "{}",
        json!({
            "waiting": waiting,
            "agents_logged_in": logged_in,
            "alerts": board["alerts"].as_array().map_or(0, Vec::len),
            "wallboard_requests": n,
            "wallboard_p50_ms": quantile(&mut wb, 0.5),
            "wallboard_p99_ms": quantile(&mut wb, 0.99),
            "wallboard_bytes": wb_size.iter().max(),
            "metrics_p50_ms": quantile(&mut me, 0.5),
            "metrics_p99_ms": quantile(&mut me, 0.99),
            "metrics_bytes": me_size.iter().max(),
            "state_changes": changes,
            "state_post_p50_ms": quantile(&mut post_lat, 0.5),
            "state_post_p99_ms": quantile(&mut post_lat, 0.99),
            "state_event_p50_ms": quantile(&mut ev_lat, 0.5),
            "state_event_p99_ms": quantile(&mut ev_lat, 0.99),
            "state_events_missed": missed,
            "gets_secs": gets_secs,
            "live_snapshots_during_gets": snaps,
            "state_board_p50_ms": quantile(&mut board_lat, 0.5),
            "state_board_max_ms": board_lat.iter().copied().fold(f64::NAN, f64::max),
            "state_board_seen": board_lat.len(),
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str {
        args.get(i)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("argument {i} missing; see bench/wallboard_probe.rs"))
    };
    let addr: SocketAddr = arg(1).parse().expect("HTTP address host:port");
    let token = arg(2);
    let num = |i: usize| -> usize { arg(i).parse().expect("a number") };
    match arg(0) {
        "agents" => agents(addr, token, arg(3), num(4)),
        "wait" => {
            if !wait(addr, token, arg(3), num(4) as u64, num(5) as u64) {
                std::process::exit(1);
            }
        }
        "measure" => measure(addr, token, arg(3), num(4), num(5), num(6)),
        other => panic!("unknown command {other:?} (agents, wait, measure)"),
    }
}
