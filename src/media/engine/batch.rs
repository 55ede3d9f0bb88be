//! Reading a UDP socket with `recvmmsg(2)`: up to [`BATCH`] datagrams per system call, and —
//! the point for RTP, where a socket rarely holds more than one — a short count tells that the
//! socket is drained, which saves the extra `recvfrom` that would only return `EAGAIN` under
//! an edge-triggered poll. Buffers live in the struct, so nothing is allocated per call.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Datagrams read per call at most.
pub const BATCH: usize = 8;
/// Largest datagram kept (RTP/RTCP of G.711 is far smaller; larger ones are cut and dropped
/// as malformed by the parsers).
pub const DATAGRAM: usize = 2048;

pub struct RecvBatch {
    bufs: Box<[[u8; DATAGRAM]; BATCH]>,
    addrs: [libc::sockaddr_storage; BATCH],
    lens: [usize; BATCH],
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            bufs: Box::new([[0; DATAGRAM]; BATCH]),
            // SAFETY: sockaddr_storage is plain data for which all zeros is a valid value.
            addrs: unsafe { std::mem::zeroed() },
            lens: [0; BATCH],
        }
    }
}

impl RecvBatch {
    /// Reads what is queued on `fd` without blocking: the number of datagrams (≥ 1), or
    /// `WouldBlock` when there was none.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        // SAFETY: zeroed iovec/mmsghdr are valid (null pointers, zero lengths) and are filled
        // in below before use.
        let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for k in 0..BATCH {
            iov[k] = libc::iovec {
                iov_base: self.bufs[k].as_mut_ptr().cast(),
                iov_len: DATAGRAM,
            };
            let h = &mut msgs[k].msg_hdr;
            h.msg_name = (&mut self.addrs[k] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut iov[k];
            h.msg_iovlen = 1;
        }
        // SAFETY: every pointer in `msgs` points into `iov`, `self.bufs` or `self.addrs`, all
        // alive and exclusively borrowed for the duration of the call; the lengths match.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        for (len, m) in self.lens.iter_mut().zip(msgs.iter()).take(n) {
            *len = (m.msg_len as usize).min(DATAGRAM);
        }
        Ok(n)
    }

    /// Datagram `k` of the last [`recv`](Self::recv) and where it came from.
    pub fn get(&self, k: usize) -> Option<(&[u8], SocketAddr)> {
        let addr = to_socket_addr(&self.addrs[k])?;
        Some((&self.bufs[k][..self.lens[k]], addr))
    }
}

fn to_socket_addr(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a: &libc::sockaddr_in = unsafe { &*(s as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*(s as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn reads_several_datagrams_and_tells_when_drained() {
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(rx) = std::net::UdpSocket::bind(bind) else {
                continue; // no IPv6 here
            };
            rx.set_nonblocking(true).unwrap();
            let tx = std::net::UdpSocket::bind(bind).unwrap();
            let mut b = RecvBatch::default();
            assert_eq!(
                b.recv(rx.as_raw_fd()).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            for k in 0..3u8 {
                tx.send_to(&[k; 10], rx.local_addr().unwrap()).unwrap();
            }
            let n = b.recv(rx.as_raw_fd()).unwrap();
            assert_eq!(n, 3);
            for k in 0..3 {
                let (data, from) = b.get(k).unwrap();
                assert_eq!(data, &[k as u8; 10]);
                assert_eq!(from, tx.local_addr().unwrap());
            }
            // More than a batch: a full batch first, then the rest.
            for k in 0..(BATCH + 2) {
                tx.send_to(&[k as u8; 3], rx.local_addr().unwrap()).unwrap();
            }
            assert_eq!(b.recv(rx.as_raw_fd()).unwrap(), BATCH);
            assert_eq!(b.recv(rx.as_raw_fd()).unwrap(), 2);
            assert_eq!(b.get(1).unwrap().0, &[(BATCH + 1) as u8; 3]);
        }
    }
}
