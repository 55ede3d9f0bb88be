//! TCP: accepted and outgoing connections, each with a reader that frames messages by
//! Content-Length and a writer fed by a channel, so sending never waits on a slow peer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::via::{deliver, salvage_response, unmap};
use super::{Lanes, Peer, Transport};
use crate::sip::message::parse::Frame;
use crate::sip::message::{ParseError, StreamFramer};

/// Most connections held at once; beyond, new ones are closed at accept.
const MAX_CONNECTIONS: usize = 20_000;
/// Messages queued for one connection's writer.
const WRITE_QUEUE: usize = 1024;
/// A connection that sends nothing for this long is closed: half-open connections (a phone
/// that lost power) must not be held forever. Softphones refresh their registration (at most
/// every `register_max_expires`, 1 h by default) and usually send keep-alives far more often.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

pub(super) struct Connections {
    pub conns: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    pub lanes: Lanes,
}

impl Connections {
    pub fn len(&self) -> usize {
        self.conns.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Queues bytes for `to`, connecting first when no connection exists.
    pub fn send(self: &Arc<Self>, to: SocketAddr, bytes: Vec<u8>) {
        let existing = self.conns.lock().ok().and_then(|c| c.get(&to).cloned());
        match existing {
            Some(tx) => {
                if tx.try_send(bytes).is_err() {
                    tracing::warn!(%to, "TCP write queue full or closed; message dropped");
                }
            }
            None => {
                let me = self.clone();
                tokio::spawn(async move {
                    match TcpStream::connect(to).await {
                        Ok(stream) => {
                            let tx = me.register(stream, to);
                            let _ = tx.try_send(bytes);
                        }
                        Err(e) => tracing::debug!(%to, error = %e, "TCP connect failed"),
                    }
                });
            }
        }
    }

    /// Starts reader and writer for a connection and returns the writer's queue.
    fn register(self: &Arc<Self>, stream: TcpStream, peer: SocketAddr) -> mpsc::Sender<Vec<u8>> {
        let _ = stream.set_nodelay(true);
        let (tx, rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
        if let Ok(mut c) = self.conns.lock() {
            c.insert(peer, tx.clone());
        }
        let (read, write) = stream.into_split();
        tokio::spawn(write_loop(write, rx));
        let me = self.clone();
        let reply = tx.clone();
        tokio::spawn(async move {
            read_loop(read, peer, &me.lanes, reply.clone()).await;
            if let Ok(mut c) = me.conns.lock() {
                // Only this connection's entry: the peer may have connected again meanwhile.
                if c.get(&peer).is_some_and(|tx| tx.same_channel(&reply)) {
                    c.remove(&peer);
                }
            }
        });
        tx
    }
}

pub(super) async fn accept_loop(listener: TcpListener, conns: Arc<Connections>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                if conns.len() >= MAX_CONNECTIONS {
                    tracing::warn!(%addr, "too many TCP connections; closing the new one");
                    continue;
                }
                conns.register(stream, unmap(addr));
            }
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn write_loop(mut write: tokio::net::tcp::OwnedWriteHalf, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(bytes) = rx.recv().await {
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = write.shutdown().await;
}

async fn read_loop(
    mut read: tokio::net::tcp::OwnedReadHalf,
    peer: SocketAddr,
    lanes: &Lanes,
    reply: mpsc::Sender<Vec<u8>>,
) {
    let from = Peer {
        transport: Transport::Tcp,
        addr: peer,
    };
    let mut framer = StreamFramer::new(lanes.max_message);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout(IDLE_TIMEOUT, read.read(&mut buf)).await {
            Err(_) => {
                tracing::debug!(%peer, "idle TCP connection closed");
                return;
            }
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => n,
        };
        framer.push(&buf[..n]);
        loop {
            match framer.next_frame() {
                Ok(None) => break,
                Ok(Some(Frame::Ping)) => {
                    let _ = reply.try_send(b"\r\n".to_vec());
                }
                Ok(Some(Frame::Message(msg))) => {
                    if let Some(res) = deliver(lanes, *msg, from).await {
                        let _ = reply.try_send(res.to_bytes());
                    }
                }
                Err(e) => {
                    lanes.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, error = %e, "malformed SIP on TCP; closing");
                    let (code, reason) = match e {
                        ParseError::TooLarge(_) => (513, "Message Too Large".to_string()),
                        other => (400, format!("Bad Request ({other})")),
                    };
                    if let Some(res) = salvage_response(&buf[..n], code, &reason) {
                        let _ = reply.try_send(res);
                    }
                    return;
                }
            }
        }
    }
}
