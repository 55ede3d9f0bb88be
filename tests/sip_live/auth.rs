//! Digest authentication of agents. INVITEs from a non-trunk address (127.0.0.2) must
//! authenticate as an agent: 401 with one challenge per configured algorithm, in the configured
//! order, then 200 for good credentials and one and the same 403 for an unknown user and for a
//! wrong password.
//!
//! SIPp 3.6.1 answers only the first challenge and only MD5, so its tests run the server with
//! `digest_algorithms = ["MD5", "SHA-256"]`. The default order (SHA-256 first) is checked with
//! raw UDP from Rust, which answers the SHA-256 challenge with the crate's own client code.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use hotline::sip::auth::respond;

use crate::support::sipp::{Run, Sipp};
use crate::support::{free_port, header, headers, recv_matching, udp_socket, Config, Server};

const AGENT_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// The demo server with the MD5 challenge offered first, for SIPp.
fn md5_first_server() -> Server {
    let cfg = Config::demo().sip("digest_algorithms", vec!["MD5", "SHA-256"]);
    Server::start(cfg, LOCAL)
}

fn call(server: &Server, scenario: &str, user: &str, pass: &str, port: u16) -> Run {
    Sipp::new(&server.sip_target(), scenario)
        .local_ip(AGENT_IP)
        .port(port)
        .args(&["-s", "12345", "-au", user, "-ap", pass])
        .run()
}

/// Asserts that `values` are one Digest challenge per algorithm of `expected`, in that order.
fn assert_challenges(values: &[String], expected: &[&str]) {
    assert_eq!(values.len(), expected.len(), "{values:?}");
    for (value, alg) in values.iter().zip(expected) {
        assert!(value.starts_with("Digest "), "{values:?}");
        assert!(
            value.contains(&format!("algorithm={alg},"))
                || value.ends_with(&format!("algorithm={alg}")),
            "expected {expected:?}: {values:?}"
        );
    }
}

#[test]
fn agent_authenticates_with_digest_and_calls() {
    let server = md5_first_server();
    let run = call(
        &server,
        "uac_auth.xml",
        "1001",
        "demo-1001",
        free_port(AGENT_IP),
    );
    run.assert_success(1);
    // What the server sent: both challenges, in the configured order (MD5 first).
    let challenge = run
        .received()
        .find(|m| m.is_response(401, "INVITE"))
        .expect("a 401");
    assert_challenges(
        &headers(&challenge.text, "WWW-Authenticate"),
        &["MD5", "SHA-256"],
    );
    let answer = run
        .sent()
        .filter_map(|m| m.header("Authorization"))
        .next()
        .expect("credentials sent");
    assert!(answer.contains("algorithm=MD5"), "{answer}");
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
    let server = md5_first_server();
    let port = free_port(AGENT_IP);
    let mut refusals = Vec::new();
    for (user, pass) in [("9999", "demo-9999"), ("1001", "not-the-password")] {
        let run = call(&server, "uac_auth_403.xml", user, pass, port);
        run.assert_success(1);
        let sent = run
            .sent()
            .filter_map(|m| m.header("Authorization"))
            .next()
            .expect("credentials sent");
        assert!(sent.contains(&format!("username=\"{user}\"")), "{sent}");
        assert!(sent.contains("algorithm=MD5"), "{sent}");
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

/// A raw SIP client over UDP that speaks only to `server`.
struct RawClient {
    sock: UdpSocket,
    me: SocketAddr,
    server: SocketAddr,
}

impl RawClient {
    fn new(ip: IpAddr, server: SocketAddr) -> RawClient {
        let sock = udp_socket(ip);
        let me = sock.local_addr().unwrap();
        RawClient { sock, me, server }
    }

    fn send(&self, msg: &str) {
        self.sock.send_to(msg.as_bytes(), self.server).unwrap();
    }

    /// The first final response for `call_id` with this CSeq (`2 INVITE`); provisional
    /// responses and retransmissions of earlier ones are skipped.
    fn final_response(&self, call_id: &str, cseq: &str) -> String {
        loop {
            let res = recv_matching(&self.sock, call_id, Duration::from_secs(3))
                .unwrap_or_else(|| panic!("no final response to {cseq}"));
            let is_final = !res.starts_with("SIP/2.0 1");
            if is_final && header(&res, "CSeq").as_deref() == Some(cseq) {
                return res;
            }
        }
    }
}

/// Credentials of agent 1001 for `challenge` (a `WWW-Authenticate` value), from the server's
/// own digest client code.
fn answer_as_1001(challenge: &str, method: &str, uri: &str, nc: u32) -> String {
    respond(challenge, method, uri, "1001", "demo-1001", "c0ffee", nc).expect("answer")
}

/// The default configuration challenges with SHA-256 first, then MD5; a client that answers
/// the SHA-256 challenge registers (and unregisters).
#[test]
fn default_challenges_sha256_first_and_a_sha256_client_registers() {
    let server = Server::demo();
    let c = RawClient::new(LOCAL, server.sip);
    let (me, to) = (c.me, server.sip);
    let uri = format!("sip:{to}");
    let register = |cseq: u32, expires: u32, auth: Option<&str>| {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKreg{cseq};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:1001@{to}>;tag=r1\r\nTo: <sip:1001@{to}>\r\n\
             Call-ID: raw-register\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:1001@{me}>\r\n\
             Expires: {expires}\r\nUser-Agent: raw-sha256\r\n{auth}Content-Length: 0\r\n\r\n"
        )
    };

    c.send(&register(1, 60, None));
    let res = c.final_response("raw-register", "1 REGISTER");
    assert!(res.starts_with("SIP/2.0 401 "), "{res}");
    let offered = headers(&res, "WWW-Authenticate");
    assert_challenges(&offered, &["SHA-256", "MD5"]);

    let answer = answer_as_1001(&offered[0], "REGISTER", &uri, 1);
    assert!(answer.contains("algorithm=SHA-256"), "{answer}");
    c.send(&register(2, 60, Some(&answer)));
    let res = c.final_response("raw-register", "2 REGISTER");
    assert!(res.starts_with("SIP/2.0 200 "), "{res}");
    let regs = server.registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0]["user"], "1001");
    assert_eq!(regs[0]["user_agent"], "raw-sha256");
    assert_eq!(regs[0]["contact"], format!("sip:1001@{me}"));

    // Unregistering with the same nonce, next nonce count.
    let answer = answer_as_1001(&offered[0], "REGISTER", &uri, 2);
    assert!(answer.contains("nc=00000002"), "{answer}");
    c.send(&register(3, 0, Some(&answer)));
    let res = c.final_response("raw-register", "3 REGISTER");
    assert!(res.starts_with("SIP/2.0 200 "), "{res}");
    assert!(server.registrations().is_empty());
}

/// With the default configuration an INVITE from a non-trunk address gets 401 with SHA-256
/// first, then MD5; answered with SHA-256 credentials, it is a call from agent 1001.
#[test]
fn default_challenges_a_non_trunk_invite_sha256_first() {
    let server = Server::demo();
    let c = RawClient::new(AGENT_IP, server.sip);
    let (me, to) = (c.me, server.sip);
    let uri = format!("sip:12345@{to}");
    let sdp = format!(
        "v=0\r\no=agent 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        me.port() + 2
    );
    let invite = |cseq: u32, auth: Option<&str>| {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKinv{cseq};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.2>;tag=i1\r\nTo: <{uri}>\r\n\
             Call-ID: raw-invite\r\nCSeq: {cseq} INVITE\r\nContact: <sip:1001@{me}>\r\n{auth}\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        )
    };
    // ACK and BYE; `branch` names the transaction (an ACK to a non-2xx reuses the INVITE's).
    let in_dialog = |method: &str, cseq: u32, branch: &str, to_header: &str| {
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.2>;tag=i1\r\nTo: {to_header}\r\n\
             Call-ID: raw-invite\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        )
    };

    c.send(&invite(1, None));
    let res = c.final_response("raw-invite", "1 INVITE");
    assert!(res.starts_with("SIP/2.0 401 "), "{res}");
    let offered = headers(&res, "WWW-Authenticate");
    assert_challenges(&offered, &["SHA-256", "MD5"]);
    c.send(&in_dialog("ACK", 1, "inv1", &header(&res, "To").unwrap()));

    let answer = answer_as_1001(&offered[0], "INVITE", &uri, 1);
    c.send(&invite(2, Some(&answer)));
    let ok = c.final_response("raw-invite", "2 INVITE");
    assert!(ok.starts_with("SIP/2.0 200 "), "{ok}");
    let to_header = header(&ok, "To").unwrap();
    c.send(&in_dialog("ACK", 2, "ack2", &to_header));
    let offered_call = server.wait_log("call offered", 1);
    assert_eq!(offered_call.len(), 1, "{offered_call:?}");
    assert!(
        offered_call[0]["user"].as_str().unwrap().contains("1001"),
        "{offered_call:?}"
    );
    assert_eq!(offered_call[0]["trunk"], "None", "{offered_call:?}");

    c.send(&in_dialog("BYE", 3, "bye3", &to_header));
    let res = c.final_response("raw-invite", "3 BYE");
    assert!(res.starts_with("SIP/2.0 200 "), "{res}");
    assert!(server.calls().is_empty());
    assert_eq!(server.status()["calls_refused"], 0);
}
