//! Support for the live SIP suite: a copy of `sip-config` with edits, the real `hotline` binary
//! started on free ports (and killed when dropped, also on panic), plain HTTP to its API, raw
//! UDP SIP, and bounded waiting.
#![allow(dead_code)]

pub mod agent;
pub mod audio;
pub mod caller;
pub mod capture;
pub mod events;
pub mod sipp;
pub mod softphone;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The admin token of the demo configuration.
pub const ADMIN: &str = "demo-admin";

/// The shipped demo configuration, to be edited before a server starts on it.
pub struct Config {
    main: toml::Table,
    /// The files `hotline.toml` includes, by file name.
    included: Vec<(String, toml::Table)>,
}

impl Config {
    pub fn demo() -> Config {
        let read = |name: &str| -> toml::Table {
            let text = std::fs::read_to_string(config_dir().join(name)).expect("read");
            text.parse()
                .unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
        };
        let main = read("hotline.toml");
        let included = main
            .get("include")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
            .map(|name| (name.to_string(), read(name)))
            .collect();
        Config { main, included }
    }

    /// The array section `section` (`queues`, `agents`, …) wherever it is defined.
    fn array_section(&mut self, section: &str) -> &mut Vec<toml::Value> {
        let table = if self.main.contains_key(section) {
            &mut self.main
        } else {
            self.included
                .iter_mut()
                .map(|(_, t)| t)
                .find(|t| t.contains_key(section))
                .unwrap_or_else(|| panic!("[[{section}]] is not in the demo configuration"))
        };
        table[section]
            .as_array_mut()
            .unwrap_or_else(|| panic!("[[{section}]] is not an array"))
    }

    /// The entry of array section `section` whose `key` is `value`.
    fn entry(&mut self, section: &str, key: &str, value: &str) -> &mut toml::Table {
        self.array_section(section)
            .iter_mut()
            .filter_map(toml::Value::as_table_mut)
            .find(|t| t.get(key).and_then(toml::Value::as_str) == Some(value))
            .unwrap_or_else(|| panic!("no [[{section}]] with {key} = {value:?} in the demo"))
    }

    /// Sets a key of the `[[queues]]` entry named `name` (`ring_secs`, `wrap_up_secs`,
    /// `max_wait_secs`, `strategy`, `no_answer_limit`, `overflow`, …).
    pub fn queue(mut self, name: &str, key: &str, value: impl Into<toml::Value>) -> Config {
        self.entry("queues", "name", name)
            .insert(key.into(), value.into());
        self
    }

    /// Sets a key of the `[[agents]]` entry with this `id`.
    pub fn agent(mut self, id: &str, key: &str, value: impl Into<toml::Value>) -> Config {
        self.entry("agents", "id", id)
            .insert(key.into(), value.into());
        self
    }

    /// Sets a `[sip]` key.
    pub fn sip(mut self, key: &str, value: impl Into<toml::Value>) -> Config {
        let sip = self
            .main
            .entry("sip")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        sip.as_table_mut()
            .expect("[sip]")
            .insert(key.into(), value.into());
        self
    }

    /// Sets a `[media]` key.
    pub fn media(mut self, key: &str, value: impl Into<toml::Value>) -> Config {
        let media = self
            .main
            .entry("media")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        media
            .as_table_mut()
            .expect("[media]")
            .insert(key.into(), value.into());
        self
    }

    /// Sets a `[callbacks]` key.
    pub fn callbacks(mut self, key: &str, value: impl Into<toml::Value>) -> Config {
        let callbacks = self
            .main
            .entry("callbacks")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        callbacks
            .as_table_mut()
            .expect("[callbacks]")
            .insert(key.into(), value.into());
        self
    }

    /// Sets a `[wallboard]` key.
    pub fn wallboard(mut self, key: &str, value: impl Into<toml::Value>) -> Config {
        let wallboard = self
            .main
            .entry("wallboard")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        wallboard
            .as_table_mut()
            .expect("[wallboard]")
            .insert(key.into(), value.into());
        self
    }

    /// Sets a key of the `[[trunks]]` entry named `name`.
    pub fn trunk(mut self, name: &str, key: &str, value: impl Into<toml::Value>) -> Config {
        let trunks = self.main["trunks"].as_array_mut().expect("[[trunks]]");
        let entry = trunks
            .iter_mut()
            .filter_map(toml::Value::as_table_mut)
            .find(|t| t.get("name").and_then(toml::Value::as_str) == Some(name))
            .unwrap_or_else(|| panic!("trunk {name} is not in the demo configuration"));
        entry.insert(key.into(), value.into());
        self
    }

    /// Adds a `[[numbers]]` entry like 12345's under another number, with these keys set.
    pub fn add_number(mut self, number: &str, keys: &[(&str, toml::Value)]) -> Config {
        let numbers = self.main["numbers"].as_array_mut().expect("[[numbers]]");
        let mut entry = numbers
            .iter()
            .filter_map(toml::Value::as_table)
            .find(|t| t.get("number").and_then(toml::Value::as_str) == Some("12345"))
            .expect("12345 in the demo configuration")
            .clone();
        entry.insert("number".into(), number.into());
        for (k, v) in keys {
            entry.insert((*k).into(), v.clone());
        }
        numbers.push(toml::Value::Table(entry));
        self
    }

    /// Sets a key of the `[[numbers]]` entry for `number`.
    pub fn number(mut self, number: &str, key: &str, value: impl Into<toml::Value>) -> Config {
        let numbers = self.main["numbers"].as_array_mut().expect("[[numbers]]");
        let entry = numbers
            .iter_mut()
            .filter_map(toml::Value::as_table_mut)
            .find(|t| t.get("number").and_then(toml::Value::as_str) == Some(number))
            .unwrap_or_else(|| panic!("number {number} is not in the demo configuration"));
        entry.insert(key.into(), value.into());
        self
    }

    /// Writes the configuration directory into `dir` (the other files copied as they are).
    fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("config dir");
        for entry in std::fs::read_dir(config_dir()).expect("sip-config") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).expect("copy");
            }
        }
        for (name, table) in &self.included {
            std::fs::write(dir.join(name), toml::to_string(table).expect("toml")).expect("write");
        }
        let main = dir.join("hotline.toml");
        std::fs::write(&main, toml::to_string(&self.main).expect("toml")).expect("write");
        main
    }
}

/// The server binary: `HOTLINE_LIVE_BIN` when set (a copy kept apart from a target directory
/// that other builds share), else the one cargo built for this test.
fn binary() -> PathBuf {
    std::env::var_os("HOTLINE_LIVE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hotline")))
}

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sip-config")
}

/// The scenario directory.
pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sip_live/scenarios")
}

/// A running `hotline serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// Where SIP listens (UDP and TCP).
    pub sip: SocketAddr,
    /// Where HTTP listens.
    pub http: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server on `cfg` with SIP on `sip_ip` (port chosen by the kernel) and HTTP on
    /// 127.0.0.1, and waits until it answers OPTIONS.
    pub fn start(mut cfg: Config, sip_ip: IpAddr) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        // Servers of parallel tests each get their own RTP ports, and the shipped prompts. The
        // first range depends on the process, so that test runs of other checkouts on the
        // same machine are less likely to use the same ports.
        static NEXT_RANGE: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
        let offset = (std::process::id() % 40) as u16;
        let k = (offset + NEXT_RANGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) % 40;
        let first = 31_000 + k * 200;
        cfg.main["server"].as_table_mut().expect("[server]").insert(
            "rtp_ports".into(),
            format!("{first}-{}", first + 199).into(),
        );
        let has_prompts = cfg
            .main
            .get("media")
            .is_some_and(|m| m.get("prompts_dir").is_some());
        if !has_prompts {
            let prompts = Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts");
            cfg = cfg.media("prompts_dir", prompts.display().to_string());
        }
        let main = cfg.write(&dir.path().join("config"));
        let mut cmd = Command::new(binary());
        cmd.args(["--log-format", "json", "serve", "--config"])
            .arg(&main)
            .arg("--sip-addr")
            .arg(SocketAddr::new(sip_ip, 0).to_string())
            .args(["--http-addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "info,hotline=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("HOTLINE_") || k == "DATABASE_URL" || k == "REDIS_URL" {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd.spawn().expect("spawn hotline");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let (http, sip) = loop {
            let found = log.lock().unwrap().iter().find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                let f = &v["fields"];
                (f["message"] == "hotline serving").then(|| {
                    (
                        f["http"].as_str().unwrap().parse().unwrap(),
                        f["sip"].as_str().unwrap().parse().unwrap(),
                    )
                })
            });
            if let Some(found) = found {
                break found;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "hotline exited ({status}):\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("hotline did not start within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let server = Server {
            child,
            sip,
            http,
            log,
            _dir: dir,
        };
        server.wait_sip_ready();
        server
    }

    /// The demo configuration, SIP on 127.0.0.1.
    pub fn demo() -> Server {
        Server::start(Config::demo(), [127, 0, 0, 1].into())
    }

    fn wait_sip_ready(&self) {
        let sock = udp_socket(self.sip.ip());
        for attempt in 0..50 {
            let call_id = format!("ready-{attempt}");
            sock.send_to(options(&sock, self.sip, &call_id).as_bytes(), self.sip)
                .expect("send");
            if let Some(res) = recv_matching(&sock, &call_id, Duration::from_millis(200)) {
                assert!(res.starts_with("SIP/2.0 200"), "{res}");
                return;
            }
        }
        panic!("SIP did not answer OPTIONS within 10 s");
    }

    /// The server's data directory (database, recordings).
    pub fn data_dir(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    /// `host:port` of SIP, for sipp.
    pub fn sip_target(&self) -> String {
        self.sip.to_string()
    }

    /// Everything logged so far (JSON lines).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Logged events whose message is `message` (their `fields`).
    pub fn log_events(&self, message: &str) -> Vec<Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["fields"]["message"] == message)
            .map(|v| v["fields"].clone())
            .collect()
    }

    /// Waits (up to 3 s) until `count` events with this message were logged; returns them all.
    pub fn wait_log(&self, message: &str, count: usize) -> Vec<Value> {
        wait_for(Duration::from_secs(3), message, || {
            let events = self.log_events(message);
            (events.len() >= count).then_some(events)
        })
    }

    /// One admin HTTP request; (status, JSON body).
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        http(self.http, method, path, Some(ADMIN), body)
    }

    /// One HTTP request with this bearer token; (status, JSON body).
    pub fn api_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        http(self.http, method, path, Some(token), body)
    }

    fn get(&self, path: &str) -> Value {
        let (status, body) = self.api("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub fn status(&self) -> Value {
        self.get("/api/v1/sip/status")
    }

    pub fn registrations(&self) -> Vec<Value> {
        let v = self.get("/api/v1/sip/registrations");
        v.as_array().expect("array").clone()
    }

    pub fn calls(&self) -> Vec<Value> {
        let v = self.get("/api/v1/sip/calls");
        v.as_array().expect("array").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // HOTLINE_LIVE_LOG_DIR keeps every server's whole log (named by its SIP port).
        if let Some(dir) = std::env::var_os("HOTLINE_LIVE_LOG_DIR") {
            let file = Path::new(&dir).join(format!("hotline-{}.log", self.sip.port()));
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(file, self.log());
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(25).collect();
            eprintln!("--- hotline log (last lines) ---");
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// One HTTP/1.1 request with `Connection: close`; (status, JSON body or Null).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw[9..12].parse().expect("status code");
    let payload = raw.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, serde_json::from_str(payload).unwrap_or(Value::Null))
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A port free on `ip` for both UDP and TCP, never handed out twice by this process.
/// Ports handed out by [`free_port`] and [`free_port_block`] in this process.
static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// `n` consecutive free ports starting at a multiple of `n` (SIPp's media port: audio RTP and
/// RTCP, and the video pair it binds at +2 even for audio-only scenarios), all reserved.
pub fn free_port_block(ip: IpAddr, n: u16) -> u16 {
    let free =
        |p: u16| UdpSocket::bind((ip, p)).is_ok() && std::net::TcpListener::bind((ip, p)).is_ok();
    for _ in 0..500 {
        let first = free_port(ip);
        if !first.is_multiple_of(n) || first > 65000 {
            continue;
        }
        let rest = (first + 1..first + n).collect::<Vec<_>>();
        let mut given = GIVEN.lock().unwrap();
        let set = given.get_or_insert_with(HashSet::new);
        if rest.iter().all(|p| !set.contains(p) && free(*p)) {
            set.extend(rest);
            return first;
        }
    }
    panic!("no block of {n} free ports on {ip}");
}

pub fn free_port(ip: IpAddr) -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind((ip, 0)).expect("bind UDP");
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind((ip, port)).is_err() {
            continue;
        }
        let mut given = GIVEN.lock().unwrap();
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free port on {ip}");
}

/// A UDP socket on `ip` (any port) with a short read timeout.
pub fn udp_socket(ip: IpAddr) -> UdpSocket {
    let sock = UdpSocket::bind((ip, 0)).expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    sock
}

/// `host:port` as it goes into a SIP header (IPv6 in brackets).
pub fn hostport(addr: SocketAddr) -> String {
    addr.to_string()
}

/// An OPTIONS request from `sock` to `to`.
pub fn options(sock: &UdpSocket, to: SocketAddr, call_id: &str) -> String {
    let me = hostport(sock.local_addr().unwrap());
    let to = hostport(to);
    format!(
        "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@{me}>;tag=p{call_id}\r\nTo: <sip:{to}>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// The first datagram mentioning `call_id` within `limit` (others are skipped).
pub fn recv_matching(sock: &UdpSocket, call_id: &str, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    let mut buf = vec![0u8; 70_000];
    while Instant::now() < deadline {
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if header(&text, "Call-ID").as_deref() == Some(call_id) {
                return Some(text);
            }
        }
    }
    None
}

/// The value of the first header `name` (case-insensitive; no compact forms) in a message.
pub fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
}

/// All values of header `name`.
pub fn headers(msg: &str, name: &str) -> Vec<String> {
    msg.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
        .collect()
}

/// One HTTP/1.1 GET with `Connection: close` and extra header lines (`Name: value`); (status,
/// response headers, body bytes).
pub fn http_bytes(
    addr: SocketAddr,
    path: &str,
    token: &str,
    extra: &[&str],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = extra.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\n{extra}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status: u16 = head[9..12].parse().expect("status code");
    let body = &raw[split + 4..];
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    (status, head, body)
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            return out;
        };
        if size == 0 || body.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[(eol + 4 + size).min(body.len())..];
    }
}
