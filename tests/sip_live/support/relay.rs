//! A one-client UDP relay that rewrites the server's digest challenges for clients that cannot
//! take them as they are. The server offers SHA-256 first, then MD5 (RFC 8760 order); SIPp
//! 3.6.1 reads only the first challenge and gives up on anything but MD5 (so MD5 first is
//! enough), and baresip 1.0.0 (libre 1.1.0) goes through all of them and fails on the first
//! that is not MD5 (so SHA-256 must go). Everything else passes through unchanged, and every
//! datagram is recorded.
//!
//! Clients must put `rport` in their Via so that responses come back through the relay.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the relay does to `WWW-Authenticate` lines in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenges {
    /// The MD5 challenge moved in front of the SHA-256 one.
    Md5First,
    /// The SHA-256 challenge removed.
    Md5Only,
}

/// One datagram that went through.
#[derive(Debug, Clone)]
pub struct Relayed {
    /// From the client to the server.
    pub upstream: bool,
    pub text: String,
}

pub struct Relay {
    /// Where the client sends.
    pub addr: SocketAddr,
    /// The source address the server sees.
    pub upstream_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Relayed>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Relay {
    /// Listens on `listen_ip` and talks to `server` from `source_ip`.
    pub fn start(
        listen_ip: IpAddr,
        source_ip: IpAddr,
        server: SocketAddr,
        mode: Challenges,
    ) -> Relay {
        let down = UdpSocket::bind((listen_ip, 0)).expect("bind relay");
        let up = UdpSocket::bind((source_ip, 0)).expect("bind relay upstream");
        for s in [&down, &up] {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        }
        let addr = down.local_addr().unwrap();
        let upstream_addr = up.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        let (down2, up2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
        let t1 = {
            let (stop, log, client) = (stop.clone(), log.clone(), client.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 70_000];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = down.recv_from(&mut buf) else {
                        continue;
                    };
                    *client.lock().unwrap() = Some(from);
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    log.lock().unwrap().push(Relayed {
                        upstream: true,
                        text,
                    });
                    let _ = up2.send_to(&buf[..n], server);
                }
            })
        };
        let t2 = {
            let (stop, log) = (stop.clone(), log.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 70_000];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, _)) = up.recv_from(&mut buf) else {
                        continue;
                    };
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let out = rewrite(&text, mode);
                    log.lock().unwrap().push(Relayed {
                        upstream: false,
                        text,
                    });
                    if let Some(to) = *client.lock().unwrap() {
                        let _ = down2.send_to(out.as_bytes(), to);
                    }
                }
            })
        };
        Relay {
            addr,
            upstream_addr,
            stop,
            log,
            threads: vec![t1, t2],
        }
    }

    /// Everything relayed so far (as the server sent it, before rewriting).
    pub fn log(&self) -> Vec<Relayed> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Reorders or drops the challenge lines of a response; other messages are returned as they are.
fn rewrite(msg: &str, mode: Challenges) -> String {
    if !msg.starts_with("SIP/2.0 401") && !msg.starts_with("SIP/2.0 407") {
        return msg.to_string();
    }
    let (head, body) = msg.split_once("\r\n\r\n").unwrap_or((msg, ""));
    let is_challenge = |l: &&str| {
        let l = l.to_ascii_lowercase();
        l.starts_with("www-authenticate:") || l.starts_with("proxy-authenticate:")
    };
    let lines: Vec<&str> = head.split("\r\n").collect();
    let (challenges, others): (Vec<&str>, Vec<&str>) = lines.into_iter().partition(is_challenge);
    let sha = |l: &&str| l.to_ascii_lowercase().contains("algorithm=sha-256");
    let mut kept: Vec<&str> = challenges.iter().filter(|l| !sha(l)).copied().collect();
    if mode == Challenges::Md5First {
        kept.extend(challenges.iter().filter(|l| sha(l)));
    }
    let mut out = others.join("\r\n");
    for c in kept {
        out.push_str("\r\n");
        out.push_str(c);
    }
    format!("{out}\r\n\r\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_challenges() {
        let msg = "SIP/2.0 401 Unauthorized\r\nCall-ID: x\r\n\
                   WWW-Authenticate: Digest algorithm=SHA-256, nonce=\"n\"\r\n\
                   WWW-Authenticate: Digest algorithm=MD5, nonce=\"n\"\r\nContent-Length: 0\r\n\r\n";
        let first = rewrite(msg, Challenges::Md5First);
        let md5 = first.find("algorithm=MD5").unwrap();
        assert!(md5 < first.find("algorithm=SHA-256").unwrap(), "{first}");
        let only = rewrite(msg, Challenges::Md5Only);
        assert!(
            !only.contains("SHA-256") && only.contains("algorithm=MD5"),
            "{only}"
        );
        assert!(only.ends_with("\r\n\r\n"));
        let ok = "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n";
        assert_eq!(rewrite(ok, Challenges::Md5Only), ok);
    }
}
