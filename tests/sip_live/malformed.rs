//! Raw UDP from Rust: garbage is dropped, a broken request that still names its transaction
//! gets 400 (a broken ACK gets nothing), an oversized datagram gets 513 or is dropped, and a
//! compact-form INVITE from a dotted user name is a normal call.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use crate::support::{header, options, recv_matching, udp_socket, Config, Server};

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// Any datagram within `limit`.
fn recv_any(sock: &UdpSocket, limit: Duration) -> Option<String> {
    let deadline = std::time::Instant::now() + limit;
    let mut buf = vec![0u8; 70_000];
    while std::time::Instant::now() < deadline {
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    None
}

fn assert_answers_options(sock: &UdpSocket, server: SocketAddr, call_id: &str) {
    sock.send_to(options(sock, server, call_id).as_bytes(), server)
        .unwrap();
    let res = recv_matching(sock, call_id, Duration::from_secs(2)).expect("OPTIONS answered");
    assert!(res.starts_with("SIP/2.0 200 "), "{res}");
}

/// A request with the five headers a response needs, and `extra` lines after them.
fn request(
    method: &str,
    sock: &UdpSocket,
    server: SocketAddr,
    call_id: &str,
    extra: &str,
) -> String {
    let me = sock.local_addr().unwrap();
    format!(
        "{method} sip:12345@{server} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id};rport\r\n\
         From: <sip:tester@{me}>;tag=t{call_id}\r\nTo: <sip:12345@{server}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}\r\n"
    )
}

#[test]
fn garbage_is_dropped_and_broken_requests_get_400() {
    let server = Server::demo();
    let sock = udp_socket(LOCAL);
    for junk in [
        &b"\x00\x01\x02\xff\xfe garbage"[..],
        b"hello, is this SIP?\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
    ] {
        sock.send_to(junk, server.sip).unwrap();
    }
    assert_eq!(recv_any(&sock, Duration::from_millis(300)), None);
    assert_answers_options(&sock, server.sip, "after-garbage");

    let broken = request(
        "INVITE",
        &sock,
        server.sip,
        "bad-length",
        "Content-Length: -5\r\n",
    );
    sock.send_to(broken.as_bytes(), server.sip).unwrap();
    let res = recv_matching(&sock, "bad-length", Duration::from_secs(2)).expect("a response");
    assert!(res.starts_with("SIP/2.0 400 "), "{res}");
    assert_eq!(header(&res, "CSeq").as_deref(), Some("1 INVITE"));

    let broken = request(
        "OPTIONS",
        &sock,
        server.sip,
        "bad-header",
        "No colon on this line\r\n",
    );
    sock.send_to(broken.as_bytes(), server.sip).unwrap();
    let res = recv_matching(&sock, "bad-header", Duration::from_secs(2)).expect("a response");
    assert!(res.starts_with("SIP/2.0 400 "), "{res}");

    // An ACK is never answered, not even a broken one.
    let ack = request(
        "ACK",
        &sock,
        server.sip,
        "bad-ack",
        "Content-Length: -5\r\n",
    );
    sock.send_to(ack.as_bytes(), server.sip).unwrap();
    assert_eq!(recv_any(&sock, Duration::from_millis(300)), None);

    assert_answers_options(&sock, server.sip, "after-broken");
    let status = server.status();
    assert!(
        status["malformed_messages"].as_u64().unwrap() >= 5,
        "{status}"
    );
    assert_eq!(status["calls"], 0);
}

#[test]
fn oversized_datagram_gets_513_or_nothing() {
    let server = Server::start(Config::demo().sip("max_message_bytes", 1500), LOCAL);
    let sock = udp_socket(LOCAL);
    let padding = format!("X-Padding: {}\r\nContent-Length: 0\r\n", "p".repeat(3000));
    let big = request("OPTIONS", &sock, server.sip, "too-big", &padding);
    assert!(big.len() > 3000);
    sock.send_to(big.as_bytes(), server.sip).unwrap();
    if let Some(res) = recv_matching(&sock, "too-big", Duration::from_millis(500)) {
        assert!(res.starts_with("SIP/2.0 513 "), "{res}");
    }
    assert_answers_options(&sock, server.sip, "after-big");
    let status = server.status();
    assert_eq!(status["malformed_messages"], 1, "{status}");
}

/// Compact header names (`v f t i m c l`) and a user name with a dot, from the trunk address.
#[test]
fn compact_form_invite_from_a_dotted_user() {
    let server = Server::demo();
    let sock = udp_socket(LOCAL);
    let me = sock.local_addr().unwrap();
    let to = server.sip;
    let sdp = format!(
        "v=0\r\no=agent 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        me.port() + 2
    );
    let invite = format!(
        "INVITE sip:12345@{to} SIP/2.0\r\nv: SIP/2.0/UDP {me};branch=z9hG4bKcompact1;rport\r\n\
         f: <sip:agent.001@127.0.0.1>;tag=c1\r\nt: <sip:12345@{to}>\r\ni: compact-1\r\n\
         CSeq: 1 INVITE\r\nm: <sip:agent.001@{me}>\r\nMax-Forwards: 70\r\n\
         c: application/sdp\r\nl: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sock.send_to(invite.as_bytes(), to).unwrap();
    let ok = loop {
        let res = recv_matching(&sock, "compact-1", Duration::from_secs(2)).expect("a response");
        if !res.starts_with("SIP/2.0 1") {
            break res;
        }
    };
    assert!(ok.starts_with("SIP/2.0 200 "), "{ok}");
    assert!(
        ok.contains("RTP/AVP 0\r\n") && ok.contains("a=sendrecv"),
        "{ok}"
    );
    let to_tag = header(&ok, "To").expect("To");
    let offered = server.wait_log("call offered", 1);
    assert_eq!(offered[0]["caller"], "agent.001", "{offered:?}");
    let in_dialog = |method: &str, cseq: u32, branch: &str| {
        format!(
            "{method} sip:12345@{to} SIP/2.0\r\nv: SIP/2.0/UDP {me};branch=z9hG4bK{branch};rport\r\n\
             f: <sip:agent.001@127.0.0.1>;tag=c1\r\nt: {to_tag}\r\ni: compact-1\r\n\
             CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n"
        )
    };
    sock.send_to(in_dialog("ACK", 1, "compact2").as_bytes(), to)
        .unwrap();
    sock.send_to(in_dialog("BYE", 2, "compact3").as_bytes(), to)
        .unwrap();
    let res = loop {
        let res = recv_matching(&sock, "compact-1", Duration::from_secs(2)).expect("BYE answered");
        if header(&res, "CSeq").is_some_and(|c| c.ends_with("BYE")) {
            break res;
        }
    };
    assert!(res.starts_with("SIP/2.0 200 "), "{res}");
    assert!(server.calls().is_empty());
}
