//! The server's WebSocket event stream (`/api/v1/events?access_token=…`) as an agent's desk
//! sees it: a background thread collects the JSON events until the stream is dropped.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// An open event stream; closed when dropped.
pub struct Events {
    events: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Events {
    /// Opens the stream at `http` with `token`; panics unless the handshake succeeds.
    pub fn open(http: SocketAddr, token: &str) -> Events {
        let stream = TcpStream::connect_timeout(&http, Duration::from_secs(5)).expect("connect");
        let url = format!("ws://{http}/api/v1/events?access_token={token}");
        let (mut socket, response) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("WebSocket handshake at {url}: {e}"));
        assert_eq!(response.status().as_u16(), 101, "{response:?}");
        socket
            .get_mut()
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (sink, halt) = (events.clone(), stop.clone());
        let reader = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match socket.read() {
                    Ok(tungstenite::Message::Text(text)) => {
                        let v = serde_json::from_str(text.as_str())
                            .unwrap_or_else(|_| Value::String(text.to_string()));
                        sink.lock().unwrap().push(v);
                    }
                    Ok(tungstenite::Message::Close(_)) => break,
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e))
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            let _ = socket.close(None);
        });
        Events {
            events,
            stop,
            reader: Some(reader),
        }
    }

    /// Every event received so far.
    pub fn all(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Events of this `type`.
    pub fn of_type(&self, kind: &str) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }

    /// Waits up to `limit` for an event of this `type` matching `pred`.
    pub fn wait(&self, kind: &str, limit: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(e) = self.of_type(kind).into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no matching {kind:?} event within {limit:?}; received: {:?}",
                self.all()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}
