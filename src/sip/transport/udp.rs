//! The UDP reader: one task per socket, one datagram = one message.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::via::{deliver, response_target, salvage_response, unmap};
use super::{Lanes, Peer, Transport};
use crate::sip::message::parse_datagram;

pub(super) async fn read_loop(sock: Arc<UdpSocket>, lanes: Lanes) {
    let local = sock.local_addr().ok();
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, src) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP port unreachable surfaces here on some systems; keep reading.
                tracing::debug!(error = %e, "UDP receive error");
                continue;
            }
        };
        let src = unmap(src);
        let data = &buf[..n];
        if data.iter().all(|b| *b == b'\r' || *b == b'\n' || *b == 0) {
            continue; // keep-alive
        }
        let peer = Peer {
            transport: Transport::Udp,
            addr: src,
        };
        if n > lanes.max_message {
            lanes.stats.malformed.fetch_add(1, Ordering::Relaxed);
            if let Some(res) = salvage_response(data, 513, "Message Too Large") {
                let _ = sock.try_send_to(&res, outbound_addr(local.unwrap_or(src), src));
            }
            continue;
        }
        match parse_datagram(data) {
            Ok(msg) => {
                if let Some(res) = deliver(&lanes, msg, peer).await {
                    let to = res
                        .top_via()
                        .map(|v| response_target(&v, peer))
                        .unwrap_or(peer);
                    let _ = sock.try_send_to(
                        &res.to_bytes(),
                        outbound_addr(local.unwrap_or(src), to.addr),
                    );
                }
            }
            Err(e) => {
                lanes.stats.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%src, error = %e, "malformed SIP datagram");
                if let Some(res) = salvage_response(data, 400, &format!("Bad Request ({e})")) {
                    let _ = sock.try_send_to(&res, outbound_addr(local.unwrap_or(src), src));
                }
            }
        }
    }
}

/// An IPv6 socket (dual-stack) sends to IPv4 peers through IPv4-mapped addresses.
pub(super) fn outbound_addr(local: SocketAddr, to: SocketAddr) -> SocketAddr {
    match (local, to) {
        (SocketAddr::V6(_), SocketAddr::V4(v4)) => {
            SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port())
        }
        _ => to,
    }
}
