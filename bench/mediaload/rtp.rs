//! RTP of both sides: one sender thread that sends every stream's 20 ms PCMU packet with
//! `sendmmsg`, the streams spread over a few phases of the period on an absolute grid; and
//! one receiver thread per socket (`recvmmsg`, kernel receive timestamps) that checks the
//! payloads the server relayed from the other side.
//!
//! Payload (160 octets): magic, stream id, send time (ns, CLOCK_REALTIME), counter, then a
//! 1 kHz tone so the recordings are not silent.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline::media::rtp::{RtpHeader, RtpPacket};

use crate::stats::{Histogram, RxStream};

pub const MAGIC: [u8; 4] = *b"HLML";
const HEADER: usize = 12;
const PAYLOAD: usize = 160;
const PACKET: usize = HEADER + PAYLOAD;
/// Octets of the payload the generator writes itself (the rest is the tone).
const STAMP: usize = 20;
const PERIOD_NS: u64 = 20_000_000;

/// Wall-clock time in ns (the kernel's receive timestamps use the same clock).
pub fn now_ns() -> u64 {
    let mut ts: libc::timespec = unsafe { zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A stream to start: its id, the socket it goes out of (0 = caller side, 1 = callee side)
/// and the server port it goes to.
#[derive(Debug, Clone, Copy)]
pub struct NewStream {
    pub id: u32,
    pub side: usize,
    pub dest: SocketAddrV4,
}

/// State the threads share with the main thread.
pub struct Shared {
    /// Measurement window [start, end) in `now_ns` time; u64::MAX until it is set.
    pub win_start: AtomicU64,
    pub win_end: AtomicU64,
    pub stop_send: AtomicBool,
    pub stop_recv: AtomicBool,
    pub new_streams: Mutex<Vec<NewStream>>,
    /// Streams to stop sending (their call ended), by id.
    pub ended_streams: Mutex<Vec<u32>>,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            win_start: AtomicU64::new(u64::MAX),
            win_end: AtomicU64::new(u64::MAX),
            stop_send: AtomicBool::new(false),
            stop_recv: AtomicBool::new(false),
            new_streams: Mutex::new(Vec::new()),
            ended_streams: Mutex::new(Vec::new()),
        }
    }

    fn window(&self) -> (u64, u64) {
        (
            self.win_start.load(Ordering::Acquire),
            self.win_end.load(Ordering::Acquire),
        )
    }
}

fn setsockopt_int(fd: i32, level: i32, name: i32, value: i32) -> bool {
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    r == 0
}

/// Large socket buffers: the *FORCE options (root) go past net.core.*mem_max.
pub fn big_buffers(sock: &UdpSocket, bytes: i32) {
    let fd = sock.as_raw_fd();
    if !setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes) {
        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, bytes);
    }
    if !setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, bytes) {
        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, bytes);
    }
}

/// An RTP socket on 127.0.0.1 with large buffers.
pub fn bind_rtp() -> io::Result<UdpSocket> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    big_buffers(&s, 64 << 20);
    Ok(s)
}

fn tone() -> [u8; PAYLOAD] {
    let mut pcm = [0i16; PAYLOAD];
    for (n, s) in pcm.iter_mut().enumerate() {
        *s = (6000.0 * (2.0 * std::f64::consts::PI * n as f64 / 8.0).sin()) as i16;
    }
    let mut out = [0u8; PAYLOAD];
    hotline::media::g711::encode_ulaw(&pcm, &mut out);
    out
}

struct Tx {
    id: u32,
    addr: libc::sockaddr_in,
    seq: u16,
    ts: u32,
    counter: u32,
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    let mut s: libc::sockaddr_in = unsafe { zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}

/// What the sender did.
pub struct SenderReport {
    /// Packets sent in the window, by stream id.
    pub sent: Vec<u32>,
    pub packets: u64,
    pub errors: u64,
    /// How late the sender woke for a phase: the worst, and phases more than 5 ms late.
    pub max_late_us: u64,
    pub late_phases: u64,
}

struct Batch {
    bufs: Vec<[u8; PACKET]>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

/// Runs until `stop_send`; new streams are picked up at the start of each period.
pub fn sender(
    shared: Arc<Shared>,
    socks: [UdpSocket; 2],
    phases: usize,
    batch: usize,
    max_streams: usize,
) -> SenderReport {
    let tone = tone();
    let mut b = Batch {
        bufs: vec![[0u8; PACKET]; batch],
        iov: vec![
            libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0
            };
            batch
        ],
        hdrs: vec![unsafe { zeroed() }; batch],
    };
    for buf in &mut b.bufs {
        buf[HEADER + STAMP..].copy_from_slice(&tone[STAMP..]);
    }
    let mut groups: Vec<Vec<Vec<Tx>>> = (0..2)
        .map(|_| (0..phases).map(|_| Vec::new()).collect())
        .collect();
    let mut rep = SenderReport {
        sent: vec![0; max_streams],
        packets: 0,
        errors: 0,
        max_late_us: 0,
        late_phases: 0,
    };
    let step_ns = PERIOD_NS / phases as u64;
    let t0 = Instant::now() + Duration::from_millis(20);
    let mut assigned = 0usize;
    let mut k: u64 = 0;
    while !shared.stop_send.load(Ordering::Relaxed) {
        let due = t0 + Duration::from_nanos(step_ns * k);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            let late = (now - due).as_micros() as u64;
            rep.max_late_us = rep.max_late_us.max(late);
            if late > 5000 {
                rep.late_phases += 1;
            }
        }
        let phase = (k % phases as u64) as usize;
        if phase == 0 {
            if let Ok(mut v) = shared.new_streams.try_lock() {
                for ns in v.drain(..) {
                    groups[ns.side][assigned % phases].push(Tx {
                        id: ns.id,
                        addr: sockaddr(ns.dest),
                        seq: (ns.id as u16).wrapping_mul(7919),
                        ts: ns.id.wrapping_mul(104_729),
                        counter: 0,
                    });
                    assigned += 1;
                }
            }
            if let Ok(mut v) = shared.ended_streams.try_lock() {
                if !v.is_empty() {
                    let ended: std::collections::HashSet<u32> = v.drain(..).collect();
                    for g in groups.iter_mut().flatten() {
                        g.retain(|tx| !ended.contains(&tx.id));
                    }
                }
            }
        }
        for (side, sock) in socks.iter().enumerate() {
            let fd = sock.as_raw_fd();
            for chunk in groups[side][phase].chunks_mut(batch) {
                send_batch(fd, chunk, &mut b, &shared, &mut rep);
            }
        }
        k += 1;
    }
    rep
}

fn send_batch(fd: i32, chunk: &mut [Tx], b: &mut Batch, shared: &Shared, rep: &mut SenderReport) {
    let stamp = now_ns();
    let (ws, we) = shared.window();
    let in_window = stamp >= ws && stamp < we;
    for (j, tx) in chunk.iter_mut().enumerate() {
        let buf = &mut b.bufs[j];
        RtpHeader {
            marker: false,
            payload_type: 0,
            seq: tx.seq,
            timestamp: tx.ts,
            ssrc: 0x4d4c_0000 ^ tx.id,
        }
        .write(&mut buf[..]);
        let p = &mut buf[HEADER..HEADER + STAMP];
        p[0..4].copy_from_slice(&MAGIC);
        p[4..8].copy_from_slice(&tx.id.to_be_bytes());
        p[8..16].copy_from_slice(&stamp.to_be_bytes());
        p[16..20].copy_from_slice(&tx.counter.to_be_bytes());
        tx.seq = tx.seq.wrapping_add(1);
        tx.ts = tx.ts.wrapping_add(PAYLOAD as u32);
        tx.counter += 1;
        b.iov[j] = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: PACKET,
        };
        let h = &mut b.hdrs[j].msg_hdr;
        h.msg_name = (&mut tx.addr as *mut libc::sockaddr_in).cast();
        h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        h.msg_iov = &mut b.iov[j];
        h.msg_iovlen = 1;
    }
    let n = chunk.len();
    let mut off = 0;
    while off < n {
        let r = unsafe { libc::sendmmsg(fd, b.hdrs.as_mut_ptr().add(off), (n - off) as u32, 0) };
        if r < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            // An ICMP error from an earlier packet, or a full buffer: skip this one.
            rep.errors += 1;
            off += 1;
            continue;
        }
        for tx in &chunk[off..off + r as usize] {
            rep.packets += 1;
            if in_window {
                rep.sent[tx.id as usize] += 1;
            }
        }
        off += r as usize;
    }
}

/// What one receiver saw.
pub struct RxReport {
    pub streams: Vec<RxStream>,
    pub hist: Histogram,
    /// Packets without our marker (music on hold before the bridge).
    pub unmarked: u64,
    /// Marked packets sent outside the window.
    pub outside: u64,
    pub total: u64,
    /// Packets with no kernel timestamp (user-space time used).
    pub no_timestamp: u64,
}

const RX_BATCH: usize = 64;

/// Receives on `sock` until `stop_recv`.
pub fn receiver(
    shared: Arc<Shared>,
    sock: UdpSocket,
    max_streams: usize,
    poll: Option<Duration>,
) -> RxReport {
    let fd = sock.as_raw_fd();
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1);
    let _ = sock.set_read_timeout(Some(Duration::from_millis(50)));
    let mut rep = RxReport {
        streams: vec![RxStream::default(); max_streams],
        hist: Histogram::new(),
        unmarked: 0,
        outside: 0,
        total: 0,
        no_timestamp: 0,
    };
    let mut bufs = vec![[0u8; 2048]; RX_BATCH];
    let mut ctrl = vec![[0u64; 16]; RX_BATCH];
    let mut iov: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { zeroed() }; RX_BATCH];
    while !shared.stop_recv.load(Ordering::Relaxed) {
        for (j, h) in hdrs.iter_mut().enumerate() {
            h.msg_hdr.msg_iov = &mut iov[j];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = ctrl[j].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = size_of::<[u64; 16]>() as _;
            h.msg_len = 0;
        }
        let flags = if poll.is_some() {
            libc::MSG_DONTWAIT
        } else {
            libc::MSG_WAITFORONE
        };
        let r = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                RX_BATCH as u32,
                flags,
                std::ptr::null_mut(),
            )
        };
        if r <= 0 {
            if let Some(p) = poll {
                std::thread::sleep(p);
            }
            continue;
        }
        let fallback = now_ns();
        let (ws, we) = shared.window();
        for j in 0..r as usize {
            rep.total += 1;
            let at = kernel_time(&hdrs[j].msg_hdr).unwrap_or_else(|| {
                rep.no_timestamp += 1;
                fallback
            });
            let len = hdrs[j].msg_len as usize;
            let Ok((_, payload)) = RtpPacket::parse(&bufs[j][..len]) else {
                rep.unmarked += 1;
                continue;
            };
            if payload.len() < STAMP || payload[0..4] != MAGIC {
                rep.unmarked += 1;
                continue;
            }
            let id = u32::from_be_bytes(payload[4..8].try_into().unwrap()) as usize;
            let sent = u64::from_be_bytes(payload[8..16].try_into().unwrap());
            let counter = u32::from_be_bytes(payload[16..20].try_into().unwrap());
            if sent < ws || sent >= we || id >= max_streams {
                rep.outside += 1;
                continue;
            }
            let transit = at as i64 - sent as i64;
            rep.hist.add(transit);
            rep.streams[id].on_packet(transit, counter);
        }
    }
    rep
}

/// The SCM_TIMESTAMPNS control message of a received datagram.
fn kernel_time(h: &libc::msghdr) -> Option<u64> {
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}
