//! INVITEs from a non-trunk address (SIPp bound to 127.0.0.2) must authenticate as an agent:
//! 401 with the SHA-256 and MD5 challenges, then 200 for good credentials and one and the same
//! 403 for an unknown user and for a wrong password.

use std::net::IpAddr;

use crate::support::relay::{Challenges, Relay};
use crate::support::sipp::{Run, Sipp};
use crate::support::{free_port, headers, Server};

const AGENT_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

fn call(relay: &Relay, scenario: &str, user: &str, pass: &str, port: u16) -> Run {
    Sipp::new(&relay.addr.to_string(), scenario)
        .local_ip(AGENT_IP)
        .port(port)
        .args(&["-s", "12345", "-au", user, "-ap", pass])
        .run()
}

#[test]
fn agent_authenticates_with_digest_and_calls() {
    let server = Server::demo();
    let relay = Relay::start(AGENT_IP, AGENT_IP, server.sip, Challenges::Md5First);
    let run = call(
        &relay,
        "uac_auth.xml",
        "1001",
        "demo-1001",
        free_port(AGENT_IP),
    );
    run.assert_success(1);
    // What the server sent: two challenges, SHA-256 first.
    let log = relay.log();
    let challenge = log
        .iter()
        .find(|m| !m.upstream && m.text.starts_with("SIP/2.0 401"))
        .expect("a 401");
    let offered = headers(&challenge.text, "WWW-Authenticate");
    assert_eq!(offered.len(), 2, "{}", challenge.text);
    assert!(offered[0].contains("algorithm=SHA-256"), "{offered:?}");
    assert!(offered[1].contains("algorithm=MD5"), "{offered:?}");
    let offered_call = server.wait_log("call offered", 1);
    assert_eq!(offered_call.len(), 1, "{offered_call:?}");
    assert!(
        offered_call[0]["user"].as_str().unwrap().contains("1001"),
        "{offered_call:?}"
    );
    assert_eq!(offered_call[0]["trunk"], "None", "{offered_call:?}");
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_403() {
    let server = Server::demo();
    let relay = Relay::start(AGENT_IP, AGENT_IP, server.sip, Challenges::Md5First);
    let port = free_port(AGENT_IP);
    let mut refusals = Vec::new();
    for (user, pass) in [("9999", "demo-9999"), ("1001", "not-the-password")] {
        let run = call(&relay, "uac_auth_403.xml", user, pass, port);
        run.assert_success(1);
        let sent = run
            .sent()
            .filter_map(|m| m.header("Authorization"))
            .next()
            .expect("credentials sent");
        assert!(sent.contains(&format!("username=\"{user}\"")), "{sent}");
        let refusal = run
            .received()
            .find(|m| m.is_response(403, "INVITE"))
            .expect("403")
            .text
            .clone();
        refusals.push(refusal);
    }
    let (a, b) = (normalize(&refusals[0]), normalize(&refusals[1]));
    assert_eq!(
        a, b,
        "the two 403 responses differ:\n{}\n\n{}",
        refusals[0], refusals[1]
    );
    assert!(server.calls().is_empty());
    assert_eq!(server.status()["calls_refused"], 2);
}

/// A message with the values of tags, branches and the Call-ID replaced by `*`.
fn normalize(msg: &str) -> String {
    let mut out = Vec::new();
    for line in msg.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("call-id:") {
            out.push("Call-ID: *".to_string());
            continue;
        }
        let mut line = line.to_string();
        for key in ["tag=", "branch="] {
            let mut from = 0;
            while let Some(i) = line[from..].find(key) {
                let start = from + i + key.len();
                let end = line[start..]
                    .find([';', '>', ',', ' '])
                    .map_or(line.len(), |e| start + e);
                line.replace_range(start..end, "*");
                from = start + 1;
            }
        }
        out.push(line);
    }
    out.join("\n")
}

/// SIPp answering the server's challenges itself. SIPp 3.6.1 takes the first
/// `WWW-Authenticate` (SHA-256) and stops the call: "createAuthHeader: authentication must use
/// MD5 or AKAv1-MD5" (exit code 255).
#[test]
#[ignore = "SIPp 3.6.1 can answer only MD5 and reads only the first challenge, which is SHA-256"]
fn direct_sipp_digest_against_sha256_first() {
    let server = Server::demo();
    let run = Sipp::new(&server.sip_target(), "uac_auth.xml")
        .local_ip(AGENT_IP)
        .args(&["-s", "12345", "-au", "1001", "-ap", "demo-1001"])
        .run();
    run.assert_success(1);
}
