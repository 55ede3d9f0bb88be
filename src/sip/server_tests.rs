//! The SIP task with real sockets on loopback: a softphone (a UDP socket driven from the test)
//! registers, the call layer's lossless channel hears it, `SipHandle::dial` rings it, and the
//! call's events arrive on the same channel.

use std::collections::HashMap;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::auth::{respond, Ha1};
use super::endpoint::{Dial, DialTarget, EndpointConfig, Event, HeldMedia};
use super::message::{parse_datagram, Message, Method};
use super::registrar::RegistrarEvent;
use super::server::{start_with_media, CallHooks};
use crate::config::SipConfig;

const LIMIT: Duration = Duration::from_secs(5);

async fn recv(sock: &UdpSocket) -> Message {
    let mut buf = vec![0u8; 65_536];
    let (n, _) = tokio::time::timeout(LIMIT, sock.recv_from(&mut buf))
        .await
        .expect("a message in time")
        .unwrap();
    parse_datagram(&buf[..n]).expect("it parses")
}

/// The next message that is not a retransmission of a provisional or of something seen.
async fn recv_where(sock: &UdpSocket, want: impl Fn(&Message) -> bool) -> Message {
    loop {
        let m = recv(sock).await;
        if want(&m) {
            return m;
        }
    }
}

async fn event(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("an event in time")
        .expect("channel open")
}

fn register(sock_addr: std::net::SocketAddr, expires: u32, cseq: u32, auth: &str) -> String {
    format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {sock_addr};rport;branch=z9hG4bKsrv{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=srv\r\nTo: <sip:1001@127.0.0.1>\r\n\
         Call-ID: srv-reg\r\nCSeq: {cseq} REGISTER\r\n\
         Contact: <sip:1001@127.0.0.2:5062>\r\nExpires: {expires}\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

#[tokio::test]
async fn registered_softphone_is_dialled_and_the_call_layer_hears_everything() {
    let sip = SipConfig {
        digest_algorithms: vec!["MD5".into()],
        ..SipConfig::default()
    };
    let cfg = EndpointConfig::new(sip, "127.0.0.1:0".parse().unwrap(), vec![], vec![]);
    let mut creds: HashMap<String, Ha1> = HashMap::new();
    creds.insert(
        "1001".into(),
        Ha1::from_password("1001", "hotline", "demo-1001"),
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    let hooks = CallHooks {
        media: Box::new(HeldMedia {
            host: "127.0.0.1".into(),
        }),
        events: tx,
    };
    let handle = start_with_media(cfg, Box::new(creds), Some(hooks))
        .await
        .unwrap();
    let server = handle.local_addr();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = phone.local_addr().unwrap();

    // Register (digest) from `me`; the Contact names another address, as behind NAT.
    phone
        .send_to(register(me, 120, 1, "").as_bytes(), server)
        .await
        .unwrap();
    let challenge = recv_where(&phone, |m| m.status() == Some(401)).await;
    let w = challenge.header("WWW-Authenticate").unwrap().to_string();
    let a = respond(&w, "REGISTER", "sip:127.0.0.1", "1001", "demo-1001", "c", 1).unwrap();
    let auth = format!("Authorization: {a}\r\n");
    phone
        .send_to(register(me, 120, 2, &auth).as_bytes(), server)
        .await
        .unwrap();
    recv_where(&phone, |m| m.status() == Some(200)).await;
    assert!(matches!(
        event(&mut rx).await,
        Event::Registrar(RegistrarEvent::Registered { user, .. }) if user == "1001"
    ));
    assert_eq!(
        handle.registered("1001").await.unwrap(),
        ["sip:1001@127.0.0.2:5062"]
    );

    // Dial the agent: the INVITE comes to the socket that registered.
    let call_id = handle
        .dial(Dial {
            target: DialTarget::User {
                user: "1001".into(),
            },
            from_user: Some("12345".into()),
            from_display: Some("13800138000".into()),
            asserted: Some("13800138000".into()),
            link: None,
        })
        .await
        .unwrap()
        .unwrap();
    let invite = recv_where(&phone, |m| m.method() == Some(&Method::Invite)).await;
    assert_eq!(invite.call_id().unwrap(), call_id);
    assert_eq!(
        invite.request_uri().unwrap().to_string(),
        "sip:1001@127.0.0.2:5062"
    );
    let reply = |code: u16| {
        let mut r = Message::response_to(&invite, code, None);
        r.ensure_to_tag("phone");
        r.push_header("Contact", format!("<sip:1001@{me}>"));
        r.to_bytes()
    };
    phone.send_to(&reply(180), server).await.unwrap();
    assert_eq!(
        event(&mut rx).await,
        Event::CallRinging {
            call_id: call_id.clone()
        }
    );
    phone.send_to(&reply(200), server).await.unwrap();
    assert_eq!(
        event(&mut rx).await,
        Event::CallAnswered {
            call_id: call_id.clone()
        }
    );
    recv_where(&phone, |m| m.method() == Some(&Method::Ack)).await;

    // The call layer hangs up: BYE to the phone.
    handle.hangup(&call_id).await.unwrap().unwrap();
    let bye = recv_where(&phone, |m| m.method() == Some(&Method::Bye)).await;
    let mut ok = Message::response_to(&bye, 200, None);
    ok.ensure_to_tag("phone");
    phone.send_to(&ok.to_bytes(), server).await.unwrap();
    assert!(matches!(
        event(&mut rx).await,
        Event::CallEnded { call_id: c, cause } if c == call_id && cause == "hung up by request"
    ));

    // The softphone unregisters: the call layer hears that too.
    phone
        .send_to(register(me, 0, 3, &auth).as_bytes(), server)
        .await
        .unwrap();
    let res = recv(&phone).await;
    // The nonce may be answered again (nonce count 1 reused): a fresh challenge is fine too,
    // then answer it.
    if res.status() == Some(401) {
        let w = res.header("WWW-Authenticate").unwrap().to_string();
        let a = respond(&w, "REGISTER", "sip:127.0.0.1", "1001", "demo-1001", "d", 1).unwrap();
        phone
            .send_to(
                register(me, 0, 4, &format!("Authorization: {a}\r\n")).as_bytes(),
                server,
            )
            .await
            .unwrap();
    }
    assert!(matches!(
        event(&mut rx).await,
        Event::Registrar(RegistrarEvent::Unregistered { user, remaining: 0, .. }) if user == "1001"
    ));
}
