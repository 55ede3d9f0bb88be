//! A small W3C WebDriver client over chromedriver's HTTP API (plain HTTP/1.1 with JSON, through
//! the live suite's `http`): chromedriver on a free loopback port, one headless Chromium
//! session, navigation, elements by CSS selector, clicks and keys, scripts, and screenshots
//! saved as numbered PNGs. Everything it started is ended when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::support::{free_port, wait_for};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver request: (status, JSON body). The body is read by its Content-Length, as
/// chromedriver may keep the connection open.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    _token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("chromedriver at {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("chromedriver status line {line:?}"));
    let mut length = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).expect("header line");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut payload = vec![0; length];
    r.read_exact(&mut payload).expect("body");
    (
        status,
        serde_json::from_slice(&payload).unwrap_or(Value::Null),
    )
}

/// chromedriver and one headless Chromium session.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    shots: PathBuf,
    shot_no: std::cell::Cell<u32>,
}

/// Where a test's screenshots go: `<target>/test-output/browser/<test>/`.
pub fn output_dir(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("test-output").join("browser").join(test)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (1400×1000) whose screenshots go to the
    /// output directory of `test` (emptied first).
    pub fn start(test: &str) -> Browser {
        let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let port = free_port(ip);
        let driver = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian chromium-driver) runs");
        let addr = SocketAddr::new(ip, port);
        wait_for(Duration::from_secs(10), "chromedriver ready", || {
            std::net::TcpStream::connect(addr).ok()?;
            let (code, v) = http(addr, "GET", "/status", None, None);
            (code == 200 && v["value"]["ready"] == true).then_some(())
        });
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=zh-CN"]
            }
        }}});
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
            shots: output_dir(test),
            shot_no: std::cell::Cell::new(0),
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"))
            .to_string();
        let _ = std::fs::remove_dir_all(&b.shots);
        std::fs::create_dir_all(&b.shots).expect("screenshot directory");
        b
    }

    /// One WebDriver command; its `value`, panicking on a WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (code, v) = http(self.addr, method, path, None, body.as_ref());
        assert!(code == 200, "WebDriver {method} {path}: {code} {v}");
        v["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn go(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    /// The element matching `css`, waiting up to 10 s for it.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (code, v) = http(
                self.addr,
                "POST",
                &self.s("/element"),
                None,
                Some(&json!({"using": "css selector", "value": css})),
            );
            if let (200, Some(e)) = (code, v["value"][ELEMENT].as_str()) {
                return e.to_string();
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("missing-{}", css.replace(['#', ' ', '.'], "")));
                panic!("browser: no element {css} within 10 s (last {code} {v})");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/click")),
            Some(json!({})),
        );
    }

    /// Clears the field and types `text` into it.
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/clear")),
            Some(json!({})),
        );
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/value")),
            Some(json!({ "text": text })),
        );
    }

    /// The visible text of the element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.call("GET", &self.s(&format!("/element/{e}/text")), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits until `script` returns something other than null / false / "" in the page; that.
    pub fn wait_js(&self, limit: Duration, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.js(script, json!([]));
            if !(v.is_null() || v == false || v == "") {
                return v;
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("timeout-{}", what.replace(' ', "-")));
                panic!("browser: {what} not within {limit:?} (last {v})");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Saves a screenshot as `NN-<step>.png` and prints its path.
    pub fn screenshot(&self, step: &str) -> PathBuf {
        let n = self.shot_no.get() + 1;
        self.shot_no.set(n);
        let v = self.call("GET", &self.s("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let path = self.shots.join(format!("{n:02}-{step}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        println!("screenshot: {}", path.display());
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(self.addr, "DELETE", &self.s(""), None, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
