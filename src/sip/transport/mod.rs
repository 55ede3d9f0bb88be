//! sip/transport: UDP and TCP sockets on the configured address (IPv4 or IPv6, dual-stack when
//! bound to `[::]`), stream framing, `received`/`rport` stamping (RFC 3581), where responses
//! go (RFC 3261 §18.2.2), and the two inbound lanes that keep established calls flowing when
//! new work is refused for overload. TLS and WebSocket slot in as further `Transport`s.

mod tcp;
mod udp;
mod via;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::message::Message;

pub use via::{response_target, salvage_response, stamp_received, unmap};

pub use super::transaction::{Peer, Transport};

/// One parsed message from the network.
#[derive(Debug)]
pub struct Inbound {
    pub msg: Message,
    pub from: Peer,
}

/// Senders of the two inbound lanes.
#[derive(Clone)]
pub(crate) struct Lanes {
    /// Responses and in-dialog requests (ACK, BYE, re-INVITE, CANCEL…): never refused; the
    /// socket reader waits when the endpoint is behind.
    pub priority: mpsc::Sender<Inbound>,
    /// Out-of-dialog requests (new INVITEs, REGISTER, OPTIONS…): bounded; when full, the
    /// reader answers 503 with Retry-After itself.
    pub new_work: mpsc::Sender<Inbound>,
    pub retry_after_secs: u32,
    pub max_message: usize,
    pub stats: Arc<TransportStats>,
    /// Branches of the INVITEs most recently queued on the new-work lane: when the lane is
    /// full, a retransmission of one of them is dropped instead of refused (a 503 would fail a
    /// call the endpoint is about to answer).
    pub recent: Arc<std::sync::Mutex<RecentBranches>>,
}

/// A bounded set of recent branch values (oldest forgotten first).
#[derive(Debug, Default)]
pub(crate) struct RecentBranches {
    set: std::collections::HashSet<String>,
    order: std::collections::VecDeque<String>,
}

impl RecentBranches {
    const CAPACITY: usize = 8192;

    pub fn insert(&mut self, branch: &str) {
        if self.set.insert(branch.to_string()) {
            self.order.push_back(branch.to_string());
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    pub fn contains(&self, branch: &str) -> bool {
        self.set.contains(branch)
    }
}

/// Counters read by `/metrics` and the benchmarks.
#[derive(Debug, Default)]
pub struct TransportStats {
    pub received: std::sync::atomic::AtomicU64,
    pub sent: std::sync::atomic::AtomicU64,
    pub malformed: std::sync::atomic::AtomicU64,
    pub overload_503: std::sync::atomic::AtomicU64,
}

/// The receiving ends handed to the endpoint.
pub struct InboundLanes {
    pub priority: mpsc::Receiver<Inbound>,
    pub new_work: mpsc::Receiver<Inbound>,
}

/// Sends messages; cheap to clone.
#[derive(Clone)]
pub struct Transports {
    udp: Arc<UdpSocket>,
    tcp: Arc<tcp::Connections>,
    local: SocketAddr,
    pub stats: Arc<TransportStats>,
}

/// Settings for [`Transports::bind`].
#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub addr: SocketAddr,
    pub max_pending: usize,
    pub retry_after_secs: u32,
    pub max_message: usize,
}

impl Transports {
    /// Binds UDP and TCP on `cfg.addr` (the TCP port is the UDP port actually bound, so port 0
    /// works for tests) and starts the readers.
    pub async fn bind(cfg: &TransportConfig) -> std::io::Result<(Transports, InboundLanes)> {
        let (udp, listener) = bind_pair(cfg.addr).await?;
        let udp = Arc::new(udp);
        let local = udp.local_addr()?;
        let (ptx, prx) = mpsc::channel(cfg.max_pending.max(64) * 4);
        let (ntx, nrx) = mpsc::channel(cfg.max_pending);
        let stats = Arc::new(TransportStats::default());
        let lanes = Lanes {
            priority: ptx,
            new_work: ntx,
            retry_after_secs: cfg.retry_after_secs,
            max_message: cfg.max_message,
            stats: stats.clone(),
            recent: Arc::default(),
        };
        let tcp = Arc::new(tcp::Connections {
            conns: Mutex::new(HashMap::new()),
            lanes: lanes.clone(),
        });
        tokio::spawn(udp::read_loop(udp.clone(), lanes));
        tokio::spawn(tcp::accept_loop(listener, tcp.clone()));
        Ok((
            Transports {
                udp,
                tcp,
                local,
                stats,
            },
            InboundLanes {
                priority: prx,
                new_work: nrx,
            },
        ))
    }

    /// The bound address (UDP and TCP share it).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends without waiting: UDP datagrams that the kernel cannot take now are dropped (the
    /// transaction layer retransmits); TCP opens a connection when none exists to the peer.
    pub fn send(&self, to: Peer, msg: &Message) {
        let bytes = msg.to_bytes();
        self.send_bytes(to, bytes);
    }

    pub fn send_bytes(&self, to: Peer, bytes: Vec<u8>) {
        self.stats
            .sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match to.transport {
            Transport::Udp => {
                let addr = udp::outbound_addr(self.local, to.addr);
                if let Err(e) = self.udp.try_send_to(&bytes, addr) {
                    tracing::debug!(%addr, error = %e, "UDP send failed");
                }
            }
            Transport::Tcp => self.tcp.send(to.addr, bytes),
        }
    }

    /// TCP connections open now.
    pub fn tcp_connections(&self) -> usize {
        self.tcp.len()
    }
}

/// Kernel buffer sizes for the SIP UDP socket: a burst of thousands of datagrams (overload, a
/// registration storm after a network outage) must queue rather than be dropped before the
/// reader gets to them; the default (about 200 KB) drops within milliseconds.
const UDP_RECV_BUFFER: usize = 8 * 1024 * 1024;
const UDP_SEND_BUFFER: usize = 2 * 1024 * 1024;

/// The SIP UDP socket: dual-stack when bound to `[::]`, large buffers (the kernel may cap them
/// at `net.core.rmem_max`; a smaller buffer is not an error).
fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        let _ = sock.set_only_v6(false);
    }
    if let Err(e) = sock.set_recv_buffer_size(UDP_RECV_BUFFER) {
        tracing::debug!(error = %e, "cannot enlarge the SIP UDP receive buffer");
    }
    if let Err(e) = sock.set_send_buffer_size(UDP_SEND_BUFFER) {
        tracing::debug!(error = %e, "cannot enlarge the SIP UDP send buffer");
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    UdpSocket::from_std(sock.into())
}

/// UDP and TCP on the same address. With port 0 the kernel picks a free UDP port whose TCP
/// twin may be taken (an outgoing connection's ephemeral port): then another port is tried.
async fn bind_pair(
    addr: std::net::SocketAddr,
) -> std::io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
    let mut attempts = 0;
    loop {
        let udp = bind_udp(addr)?;
        match tokio::net::TcpListener::bind(udp.local_addr()?).await {
            Ok(listener) => return Ok((udp, listener)),
            Err(e)
                if addr.port() == 0
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && attempts < 20 =>
            {
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
