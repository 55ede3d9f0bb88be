//! baresip as agent 1001's softphone: it registers with digest, the registration shows in the
//! API, baresip refreshes it before it lapses, and on SIGTERM it unregisters.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;

use crate::support::agent::{self, Agent, Answer, Traced};
use crate::support::{header, headers, wait_for, Config, Server};

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
/// The registration interval baresip asks for (`regint`), in seconds.
const REGINT: u32 = 6;

fn registration(server: &Server) -> Option<Value> {
    agent::registration(server, "1001")
}

/// Responses from the server with this status code to REGISTER.
fn register_responses(trace: &[Traced], code: u16) -> Vec<&Traced> {
    trace
        .iter()
        .filter(|m| !m.to_server)
        .filter(|m| m.first_line().starts_with(&format!("SIP/2.0 {code} ")))
        .filter(|m| header(&m.text, "CSeq").is_some_and(|c| c.ends_with(" REGISTER")))
        .collect()
}

/// The `algorithm` of the digest credentials baresip sent (MD5 when the parameter is absent).
fn algorithms_used(trace: &[Traced]) -> Vec<String> {
    trace
        .iter()
        .filter(|m| m.to_server)
        .filter_map(|m| header(&m.text, "Authorization"))
        .map(|a| {
            a.split(',')
                .find_map(|p| p.trim().strip_prefix("algorithm="))
                .map_or("MD5", |a| a.trim_matches('"'))
                .to_string()
        })
        .collect()
}

/// The server offers MD5 alone (`digest_algorithms = ["MD5"]`): baresip 1.0.0 (libre 1.1.0)
/// goes through every challenge and gives up on the first that is not MD5.
#[test]
fn baresip_registers_refreshes_and_unregisters() {
    let cfg = Config::demo()
        .sip("register_min_expires", 5)
        .sip("digest_algorithms", vec!["MD5"]);
    let server = Server::start(cfg, LOCAL);
    let mut phone = Agent::start_at(
        server.sip,
        "1001",
        Answer::Auto,
        Duration::from_secs(60),
        REGINT,
    );

    let first = wait_for(Duration::from_secs(10), "1001 registered", || {
        registration(&server)
    });
    assert_eq!(first["transport"], "UDP", "{first}");
    assert!(
        first["user_agent"].as_str().unwrap().starts_with("baresip"),
        "{first}"
    );
    let granted = first["expires_in"].as_u64().unwrap();
    assert!(granted <= u64::from(REGINT), "{first}");

    // A refresh: expires_in goes back up before the binding lapses.
    let mut last = granted;
    wait_for(
        Duration::from_secs(u64::from(REGINT) + 3),
        "registration refreshed",
        || {
            let now = registration(&server).expect("still registered")["expires_in"]
                .as_u64()
                .unwrap();
            let refreshed = now > last;
            last = now;
            refreshed.then_some(())
        },
    );
    // The same seen from baresip: two REGISTERs accepted, each after an MD5-only challenge.
    let trace = wait_for(
        Duration::from_secs(3),
        "two REGISTER 200s in baresip's trace",
        || {
            let trace = phone.trace(server.sip);
            (register_responses(&trace, 200).len() >= 2).then_some(trace)
        },
    );
    let challenges = register_responses(&trace, 401);
    assert!(!challenges.is_empty(), "no 401 in baresip's trace");
    for c in &challenges {
        let offered = headers(&c.text, "WWW-Authenticate");
        assert_eq!(offered.len(), 1, "{}", c.text);
        assert!(offered[0].contains("algorithm=MD5"), "{}", c.text);
    }
    let algorithms = algorithms_used(&trace);
    assert!(algorithms.len() >= 2, "credentials sent: {algorithms:?}");
    assert!(algorithms.iter().all(|a| a == "MD5"), "{algorithms:?}");

    let status = phone.terminate(Duration::from_secs(10));
    assert!(status.success(), "baresip exited with {status}");
    wait_for(Duration::from_secs(3), "1001 unregistered", || {
        registration(&server).is_none().then_some(())
    });
    let unregistered = server.wait_log("softphone unregistered", 1);
    assert_eq!(unregistered[0]["user"], "1001", "{unregistered:?}");
}
