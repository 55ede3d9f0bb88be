//! An event stream opened with a web session token ends when the session does: a baresip agent
//! registers, two desks log in with passwords and open `/api/v1/events`, both sessions are
//! ended with `DELETE /api/v1/session`. The stream that is sent an event next closes at once
//! (close code 4401, "session ended"), the other within the 30 s recheck; a stream opened with a
//! configured API token stays open.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

use crate::call_path::{config, start, LIFE};
use crate::support::agent::{ready_agent, Answer};
use crate::support::events::Events;
use crate::support::{http, Server};

type Socket = WebSocket<TcpStream>;

fn session(server: &Server, agent: &str) -> String {
    let body = json!({"agent": agent, "password": format!("demo-{agent}")});
    let (code, v) = http(server.http, "POST", "/api/v1/session", None, Some(&body));
    assert_eq!(code, 200, "{v}");
    v["token"].as_str().expect("token").to_string()
}

fn open(server: &Server, token: &str) -> Socket {
    let stream = TcpStream::connect(server.http).expect("connect");
    let url = format!("ws://{}/api/v1/events?access_token={token}", server.http);
    let (socket, response) = tungstenite::client(url.as_str(), stream).expect("handshake");
    assert_eq!(response.status().as_u16(), 101);
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    socket
}

/// What the socket says next within `limit`: `Ok(event)`, or `Err(close code, reason)`.
fn next(socket: &mut Socket, limit: Duration) -> Result<Value, (u16, String)> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match socket.read() {
            Ok(Message::Text(t)) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Message::Close(frame)) => {
                let f = frame.expect("a close frame with a code");
                return Err((u16::from(f.code), f.reason.to_string()));
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("socket failed before a close frame: {e}"),
        }
    }
    panic!("nothing on the socket within {limit:?}");
}

fn set_state(server: &Server, state: &str) {
    let body = json!({"state": state, "reason": "meeting"});
    let (code, v) = server.api("POST", "/api/v1/agents/1001/state", Some(&body));
    assert_eq!(code, 200, "{v}");
}

#[test]
fn an_event_stream_closes_when_its_session_ends() {
    let server = start(config());
    let _agent = ready_agent(&server, "1001", Answer::Never, LIFE);
    let (own, other) = (session(&server, "1001"), session(&server, "1002"));
    let mut a = open(&server, &own);
    // Agent 1002's stream is not sent agent 1001's events: only the recheck closes it.
    let mut b = open(&server, &other);
    let api = Events::open(server.http, "demo-agent-1001");

    set_state(&server, "not-ready");
    let ev = next(&mut a, Duration::from_secs(5)).expect("an event while the session lives");
    assert_eq!(
        (ev["type"].as_str(), ev["agent"].as_str()),
        (Some("agent-state"), Some("1001"))
    );

    let ended = Instant::now();
    for token in [&own, &other] {
        let (code, v) = server.api_as(token, "DELETE", "/api/v1/session", None);
        assert_eq!(code, 204, "{v}");
    }
    set_state(&server, "ready");
    assert_eq!(
        next(&mut a, Duration::from_secs(5)),
        Err((4401, "session ended".to_string()))
    );
    // The API token's stream goes on.
    api.wait("agent-state", Duration::from_secs(5), |e| {
        e["agent"] == "1001" && e["state"] == "ready"
    });
    assert_eq!(
        next(&mut b, Duration::from_secs(35)),
        Err((4401, "session ended".to_string()))
    );
    assert!(
        ended.elapsed() <= Duration::from_secs(32),
        "{:?}",
        ended.elapsed()
    );
}
