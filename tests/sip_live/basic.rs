//! OPTIONS, REGISTER with digest, calls from the trunk address over UDP, TCP and IPv6.

use std::net::IpAddr;
use std::time::Duration;

use crate::support::sipp::Sipp;
use crate::support::{headers, wait_for, Config, Server};

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

#[test]
fn options_answers_200_allowing_invite() {
    let server = Server::demo();
    let run = Sipp::new(&server.sip_target(), "options.xml").run();
    run.assert_success(1);
    let ok = run
        .received()
        .find(|m| m.is_response(200, "OPTIONS"))
        .expect("200");
    assert!(
        ok.header("Allow").unwrap().contains("INVITE"),
        "{}",
        ok.text
    );
}

/// SIPp registers as 1001 with digest (the server configured to offer MD5 first, the only
/// challenge SIPp 3.6.1 reads), the registration shows in the API, and REGISTER with Expires: 0
/// removes it.
#[test]
fn register_with_digest_then_unregister() {
    let cfg = Config::demo().sip("digest_algorithms", vec!["MD5", "SHA-256"]);
    let server = Server::start(cfg, LOCAL);
    let target = server.sip_target();
    let run = Sipp::new(&target, "register.xml")
        .set("expires", "120")
        .run();
    run.assert_success(1);
    let challenge = run
        .received()
        .find(|m| m.is_response(401, "REGISTER"))
        .expect("a 401");
    let offered = headers(&challenge.text, "WWW-Authenticate");
    assert_eq!(offered.len(), 2, "{}", challenge.text);
    assert!(offered[0].contains("algorithm=MD5"), "{offered:?}");
    assert!(offered[1].contains("algorithm=SHA-256"), "{offered:?}");
    let auth = run
        .sent()
        .filter_map(|m| m.header("Authorization"))
        .next()
        .expect("an Authorization header");
    assert!(auth.contains("algorithm=MD5"), "{auth}");
    let regs = server.registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    let r = &regs[0];
    assert_eq!(r["user"], "1001");
    assert_eq!(r["contact"], format!("sip:1001@127.0.0.1:{}", run.port));
    assert_eq!(r["user_agent"], "SIPp");
    let expires = r["expires_in"].as_u64().unwrap();
    assert!((110..=120).contains(&expires), "{r}");

    let run = Sipp::new(&target, "register.xml")
        .set("expires", "0")
        .port(run.port)
        .run();
    run.assert_success(1);
    assert!(server.registrations().is_empty());
}

/// Both hotline numbers answer calls from the trunk address; 50 calls at 20 per second all
/// succeed; a number that is not configured gets 404.
#[test]
fn trunk_calls_to_both_numbers_and_404() {
    let server = Server::demo();
    for number in ["12345", "12319"] {
        let run = Sipp::new(&server.sip_target(), "uac")
            .args(&["-s", number, "-d", "200"])
            .run();
        run.assert_success(1);
        let ok = run
            .received()
            .find(|m| m.is_response(200, "INVITE"))
            .expect("200");
        assert!(ok.text.contains("application/sdp"), "{}", ok.text);
        // A real answer: an even RTP port of ours, PCMU (what SIPp offers), both ways.
        let port: u16 = ok
            .text
            .lines()
            .find_map(|l| l.trim().strip_prefix("m=audio "))
            .and_then(|m| m.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("m=audio line with a port");
        assert!(port > 0 && port.is_multiple_of(2), "{}", ok.text);
        assert!(ok.text.contains("a=sendrecv"), "{}", ok.text);
    }
    let run = Sipp::new(&server.sip_target(), "uac")
        .args(&["-s", "12345", "-r", "20", "-l", "50", "-d", "500"])
        .calls(50)
        .limit(Duration::from_secs(30))
        .run();
    run.assert_success(50);
    assert_eq!(run.stat("FailedCall"), 0);
    let run = Sipp::new(&server.sip_target(), "uac_404.xml")
        .args(&["-s", "99999"])
        .run();
    run.assert_success(1);
    let status = server.status();
    assert_eq!(status["calls_offered"], 52, "{status}");
    assert_eq!(status["calls_refused"], 1, "{status}");
    wait_for(Duration::from_secs(5), "all calls over", || {
        server.calls().is_empty().then_some(())
    });
}

/// A call over TCP (`-t t1`: one connection).
#[test]
fn trunk_call_over_tcp() {
    let server = Server::demo();
    let run = Sipp::new(&server.sip_target(), "uac")
        .args(&["-s", "12345", "-t", "t1", "-d", "200"])
        .run();
    run.assert_success(1);
    assert!(run
        .sent()
        .next()
        .unwrap()
        .header("Via")
        .unwrap()
        .contains("SIP/2.0/TCP"));
}

/// A call over IPv6 with the server bound to [::1] (::1 is a trunk address in the demo).
#[test]
fn trunk_call_over_ipv6() {
    let v6: IpAddr = "::1".parse().unwrap();
    let server = Server::start(Config::demo(), v6);
    assert!(server.sip.is_ipv6());
    let run = Sipp::new(&server.sip_target(), "uac")
        .local_ip(v6)
        .args(&["-s", "12319", "-d", "200"])
        .run();
    run.assert_success(1);
    let ok = run
        .received()
        .find(|m| m.is_response(200, "INVITE"))
        .expect("200");
    assert!(ok.text.contains("IN IP6 ::1"), "{}", ok.text);
}
