//! Pure helpers around the top Via: stamping `received`/`rport` on requests as they arrive
//! (RFC 3261 §18.2.1, RFC 3581 §4), choosing where a response goes (RFC 3261 §18.2.2, RFC 3581
//! §4), a 400 salvaged from a message too broken to parse, and the lane a message takes.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;

use tokio::sync::mpsc::error::TrySendError;

use super::{Inbound, Lanes, Peer, Transport};
use crate::sip::message::{canonical_name, Message, Via};

/// IPv4-mapped IPv6 addresses (dual-stack sockets) shown as IPv4.
pub fn unmap(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

/// Adds `received` when the sent-by host is not the source address, and fills a value-less
/// `rport` with the source port (then `received` is always added). Leaves responses alone.
pub fn stamp_received(msg: &mut Message, src: SocketAddr) {
    if !msg.is_request() {
        return;
    }
    let Some(pos) = msg.headers.iter().position(|h| h.name == "Via") else {
        return;
    };
    let line = msg.headers[pos].value.clone();
    let parts = crate::sip::message::params::split_commas(&line);
    let Some(first) = parts.first() else { return };
    let Ok(mut via) = Via::parse(first) else {
        return;
    };
    let ip = src.ip();
    let host_ip = via
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let rport = via.params.get("rport") == Some(None);
    if rport {
        via.params.set("rport", Some(&src.port().to_string()));
    }
    if rport || host_ip != Some(ip) {
        via.params.set("received", Some(&ip.to_string()));
    } else {
        return;
    }
    let mut rebuilt = via.to_string();
    for p in &parts[1..] {
        rebuilt.push_str(", ");
        rebuilt.push_str(p);
    }
    msg.headers[pos].value = rebuilt;
}

/// Where a response to a request with this top Via goes. Reliable transports answer on the
/// connection the request came on (`src`); UDP goes to `received` (or the sent-by host when it
/// is an address) and `rport` (or the sent-by port, default 5060).
pub fn response_target(via: &Via, src: Peer) -> Peer {
    if src.transport.is_reliable() {
        return src;
    }
    let ip = via
        .params
        .get("received")
        .flatten()
        .and_then(|r| r.trim_matches(['[', ']']).parse::<IpAddr>().ok())
        .or_else(|| {
            via.host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .ok()
        })
        .unwrap_or(src.addr.ip());
    let port = via
        .params
        .get("rport")
        .flatten()
        .and_then(|p| p.parse::<u16>().ok())
        .or(via.port)
        .unwrap_or(5060);
    Peer {
        transport: Transport::Udp,
        addr: SocketAddr::new(ip, port),
    }
}

/// A response (400 Bad Request, 513 Message Too Large) for a request that did not parse, when its Via, From, To, Call-ID and CSeq lines can
/// still be found; `None` means the bytes are dropped (garbage, a broken response, or a broken
/// ACK: an ACK is never answered, RFC 3261 §17.1.1.3).
pub fn salvage_response(bytes: &[u8], code: u16, reason: &str) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next()?;
    if first.starts_with("SIP/") || first.starts_with("ACK ") || first.split(' ').count() < 3 {
        return None;
    }
    let mut kept: Vec<String> = Vec::new();
    let mut have = [false; 5];
    const WANT: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];
    for line in lines {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let canon = canonical_name(name.trim());
        if let Some(i) = WANT.iter().position(|w| *w == canon) {
            if canon == "CSeq" && value.split_whitespace().nth(1) == Some("ACK") {
                return None;
            }
            have[i] = true;
            kept.push(format!("{canon}: {}", value.trim()));
        }
    }
    if !have.iter().all(|h| *h) {
        return None;
    }
    let reason: String = reason
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for k in kept {
        out.push_str(&k);
        out.push_str("\r\n");
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

/// Puts a message on its lane. Returns a 503 to send back when a new request is refused for
/// overload (the caller sends it on the same socket).
pub(crate) async fn deliver(lanes: &Lanes, mut msg: Message, from: Peer) -> Option<Message> {
    lanes.stats.received.fetch_add(1, Ordering::Relaxed);
    stamp_received(&mut msg, from.addr);
    let new_work = match msg.method() {
        None => false,
        Some(m) => {
            !matches!(
                m,
                crate::sip::message::Method::Ack | crate::sip::message::Method::Cancel
            ) && msg.to().ok().is_some_and(|t| t.tag().is_none())
        }
    };
    let invite_branch = (msg.method() == Some(&crate::sip::message::Method::Invite))
        .then(|| {
            msg.top_via()
                .ok()
                .and_then(|v| v.branch().map(str::to_string))
        })
        .flatten();
    let inbound = Inbound { msg, from };
    if !new_work {
        let _ = lanes.priority.send(inbound).await;
        return None;
    }
    match lanes.new_work.try_send(inbound) {
        Ok(()) => {
            if let (Some(b), Ok(mut recent)) = (&invite_branch, lanes.recent.lock()) {
                recent.insert(b);
            }
            None
        }
        Err(TrySendError::Closed(_)) => None,
        Err(TrySendError::Full(inbound)) => {
            let queued = invite_branch
                .as_deref()
                .is_some_and(|b| lanes.recent.lock().is_ok_and(|r| r.contains(b)));
            if queued {
                return None; // a retransmission of an INVITE already on its way
            }
            lanes.stats.overload_503.fetch_add(1, Ordering::Relaxed);
            let mut res = Message::response_to(&inbound.msg, 503, None);
            res.push_header("Retry-After", lanes.retry_after_secs.to_string());
            Some(res)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::parse_datagram;

    fn req(via: &str) -> Message {
        let text = format!(
            "OPTIONS sip:12345@hotline SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKold\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:12345@hotline>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
        );
        parse_datagram(text.as_bytes()).unwrap()
    }

    #[test]
    fn rport_and_received_are_stamped() {
        let src: SocketAddr = "203.0.113.7:40000".parse().unwrap();
        let mut m = req("SIP/2.0/UDP 192.168.1.2:5060;rport;branch=z9hG4bK1");
        stamp_received(&mut m, src);
        let v = m.top_via().unwrap();
        assert_eq!(v.params.get("rport"), Some(Some("40000")));
        assert_eq!(v.params.get("received"), Some(Some("203.0.113.7")));
        assert_eq!(m.vias().unwrap().len(), 2, "lower Vias kept");
        let to = response_target(
            &v,
            Peer {
                transport: Transport::Udp,
                addr: src,
            },
        );
        assert_eq!(to.addr, src);
    }

    #[test]
    fn same_address_without_rport_is_left_alone() {
        let src: SocketAddr = "192.0.2.5:5060".parse().unwrap();
        let mut m = req("SIP/2.0/UDP 192.0.2.5;branch=z9hG4bK1");
        let before = m.clone();
        stamp_received(&mut m, src);
        assert_eq!(m, before);
        let v = m.top_via().unwrap();
        let to = response_target(
            &v,
            Peer {
                transport: Transport::Udp,
                addr: src,
            },
        );
        assert_eq!(
            to.addr,
            "192.0.2.5:5060".parse().unwrap(),
            "default port 5060"
        );
    }

    #[test]
    fn host_name_gets_received_and_ipv6_works() {
        let src: SocketAddr = "[2001:db8::7]:5062".parse().unwrap();
        let mut m = req("SIP/2.0/UDP phone.example.com:5062;branch=z9hG4bK1");
        stamp_received(&mut m, src);
        let v = m.top_via().unwrap();
        assert_eq!(v.params.get("received"), Some(Some("2001:db8::7")));
        let to = response_target(
            &v,
            Peer {
                transport: Transport::Udp,
                addr: src,
            },
        );
        assert_eq!(to.addr, src);
        // Reliable transports answer on the connection.
        let tcp = Peer {
            transport: Transport::Tcp,
            addr: "192.0.2.1:33000".parse().unwrap(),
        };
        assert_eq!(response_target(&v, tcp), tcp);
    }

    #[test]
    fn salvage_builds_a_400_only_when_it_can() {
        let broken = b"INVITE sip:12345@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n\
            From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\ni: abc\r\nCSeq: 1 INVITE\r\nContent-Length: -5\r\n\r\n";
        let res = salvage_response(broken, 400, "Bad Request (negative length)").unwrap();
        let parsed = parse_datagram(&res).unwrap();
        assert_eq!(parsed.status(), Some(400));
        assert_eq!(parsed.call_id().unwrap(), "abc", "compact Call-ID copied");
        assert!(salvage_response(b"\x00\x01garbage", 400, "x").is_none());
        assert!(salvage_response(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 400, "x").is_none());
        // A broken ACK (here: no Request-URI) gets no response.
        let ack = String::from_utf8_lossy(broken)
            .replace("INVITE sip:12345@h", "ACK ")
            .replace("1 INVITE", "1 ACK");
        assert!(salvage_response(ack.as_bytes(), 400, "x").is_none());
        let ack = String::from_utf8_lossy(broken).replace("1 INVITE", "1 ACK");
        assert!(salvage_response(ack.as_bytes(), 400, "x").is_none());
    }

    #[tokio::test]
    async fn full_lane_refuses_new_invites_but_drops_retransmissions() {
        use std::sync::Arc;
        let (ptx, _prx) = tokio::sync::mpsc::channel(8);
        let (ntx, mut nrx) = tokio::sync::mpsc::channel(1);
        let lanes = Lanes {
            priority: ptx,
            new_work: ntx,
            retry_after_secs: 7,
            max_message: 65_535,
            stats: Arc::default(),
            recent: Arc::default(),
        };
        let invite = |branch: &str, tag: &str| {
            let text = format!(
                "INVITE sip:12345@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch={branch}\r\n\
                 From: <sip:a@b>;tag=1\r\nTo: <sip:12345@h>{tag}\r\nCall-ID: {branch}\r\n\
                 CSeq: 1 INVITE\r\n\r\n"
            );
            parse_datagram(text.as_bytes()).unwrap()
        };
        let from = Peer {
            transport: Transport::Udp,
            addr: "192.0.2.1:5060".parse().unwrap(),
        };
        assert!(
            deliver(&lanes, invite("z9hG4bK1", ""), from)
                .await
                .is_none(),
            "queued"
        );
        assert!(
            deliver(&lanes, invite("z9hG4bK1", ""), from)
                .await
                .is_none(),
            "retransmission dropped"
        );
        let busy = deliver(&lanes, invite("z9hG4bK2", ""), from)
            .await
            .expect("a 503");
        assert_eq!(busy.status(), Some(503));
        assert_eq!(busy.header("Retry-After"), Some("7"));
        // In-dialog requests take the priority lane even now.
        assert!(deliver(&lanes, invite("z9hG4bK3", ";tag=x"), from)
            .await
            .is_none());
        assert!(nrx.recv().await.is_some());
    }
}
