//! An agent's softphone as the B2BUA's agent leg: SIPp registers as agent 1001 (digest), and
//! the server dials it with `SipHandle::dial`; SIPp's out-of-call scenario answers (180, 200),
//! and the call layer's lossless channel hears the registration, the ringing, the answer and
//! the end. The SIP task runs in this process (the binary that `Server` starts keeps its
//! handle to itself), with held media on 127.0.0.1; SIPp is the agent on 127.0.0.2.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hotline::config::SipConfig;
use hotline::sip::auth::Ha1;
use hotline::sip::endpoint::{Dial, DialTarget, EndpointConfig, Event, HeldMedia};
use hotline::sip::registrar::RegistrarEvent;
use hotline::sip::server::{start_with_media, CallHooks};
use tokio::sync::mpsc;

use crate::support::sipp::Sipp;
use crate::support::{free_port, scenarios};

const AGENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const LIMIT: Duration = Duration::from_secs(10);

async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("an event in time")
        .expect("the SIP task runs")
}

#[test]
fn sipp_agent_registers_and_answers_the_call_the_server_dials() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sipp_port = free_port(AGENT_IP);
    let (sipp, call_id) = rt.block_on(async {
        // SIPp 3.6.1 answers only an MD5 challenge.
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
            .expect("SIP starts");
        let answer = scenarios().join("agent_answer.xml").display().to_string();
        let media_port = crate::support::free_port_block(AGENT_IP, 4).to_string();
        let sipp = Sipp::new(&handle.local_addr().to_string(), "agent_register.xml")
            .local_ip(AGENT_IP)
            .port(sipp_port)
            .args(&["-oocsf", &answer, "-mp", &media_port])
            .limit(Duration::from_secs(20))
            .spawn();
        let registered = next(&mut rx).await;
        let contact = format!("sip:1001@127.0.0.2:{sipp_port}");
        assert_eq!(
            registered,
            Event::Registrar(RegistrarEvent::Registered {
                user: "1001".into(),
                contact: contact.clone(),
            })
        );
        assert_eq!(handle.registered("1001").await.unwrap(), [contact]);
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
            .expect("1001 is registered");
        let ringing = Event::CallRinging {
            call_id: call_id.clone(),
        };
        assert_eq!(next(&mut rx).await, ringing);
        let answered = Event::CallAnswered {
            call_id: call_id.clone(),
        };
        assert_eq!(next(&mut rx).await, answered);
        handle.hangup(&call_id).await.unwrap().unwrap();
        let ended = Event::CallEnded {
            call_id: call_id.clone(),
            cause: "hung up by request".into(),
        };
        assert_eq!(next(&mut rx).await, ended);
        // Let the BYE's 200 come back before the SIP task goes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        (sipp, call_id)
    });
    let run = sipp.wait();
    assert_eq!(run.code, 0, "SIPp failed: {}\n{}", run.screen, run.dump());
    let invite = run
        .received()
        .find(|m| m.is_request("INVITE"))
        .unwrap_or_else(|| panic!("no INVITE reached SIPp:\n{}", run.dump()));
    assert!(invite
        .first_line()
        .starts_with(&format!("INVITE sip:1001@127.0.0.2:{sipp_port}")));
    assert_eq!(invite.header("Call-ID"), Some(call_id));
    let from = invite.header("From").unwrap();
    assert!(
        from.starts_with("\"13800138000\" <sip:12345@127.0.0.1:"),
        "{from}"
    );
    let pai = invite.header("P-Asserted-Identity").unwrap();
    assert!(pai.starts_with("<sip:13800138000@127.0.0.1:"), "{pai}");
    assert!(run.received().any(|m| m.is_request("ACK")));
    assert!(run.received().any(|m| m.is_request("BYE")));
    assert!(run.sent().any(|m| m.is_response(200, "BYE")));
    drop(rt);
}
