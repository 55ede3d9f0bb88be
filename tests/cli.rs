//! The real `hotline` binary, as a user runs it: `serve` on the embedded default (SQLite under
//! a data directory) and on PostgreSQL via DATABASE_URL, driven over real HTTP through a whole
//! order lifecycle, then stopped with SIGTERM; `migrate`; JSON logs.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request with `Connection: close`; returns (status, JSON body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
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

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(data_dir: &std::path::Path, env: &[(&str, &str)], extra: &[&str]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
        cmd.args(["serve", "--config", "sip-config/hotline.toml", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{port}"))
            // Any free port: servers of parallel tests must not share 5060.
            .env("HOTLINE_SIP_ADDR", "127.0.0.1:0")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn hotline");
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "hotline did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// SIGTERM, then the exit status and everything logged.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut log = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    e.read_to_string(&mut log).unwrap();
                }
                return (status, log);
            }
            assert!(Instant::now() < deadline, "hotline did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Creates an order and moves it through the whole lifecycle over HTTP; checks its trail.
fn walk_lifecycle(port: u16) {
    let (st, health) = http(port, "GET", "/healthz", None, None);
    assert_eq!(st, 200, "{health}");
    let (st, order) = http(
        port,
        "POST",
        "/api/v1/work-orders",
        Some("demo-agent-1001"),
        Some(
            &json!({"request_type": "help", "description": "楼道灯坏了 stairwell light broken",
                     "caller_number": "13800000000"}),
        ),
    );
    assert_eq!(st, 201, "{order}");
    let path = format!(
        "/api/v1/work-orders/{}/transitions",
        order["number"].as_str().unwrap()
    );
    for (token, cmd, status) in [
        (
            "demo-agent-1001",
            json!({"action": "register"}),
            "registered",
        ),
        (
            "demo-supervisor",
            json!({"action": "dispatch", "department": "housing"}),
            "dispatched",
        ),
        (
            "demo-supervisor",
            json!({"action": "handle", "result": "replaced"}),
            "handled",
        ),
        ("demo-supervisor", json!({"action": "verify"}), "verified"),
        ("demo-supervisor", json!({"action": "close"}), "closed"),
        (
            "demo-agent-1001",
            json!({"action": "follow_up", "result": "basically_satisfied"}),
            "closed",
        ),
    ] {
        let (st, body) = http(port, "POST", &path, Some(token), Some(&cmd));
        assert_eq!(st, 200, "{cmd}: {body}");
        assert_eq!(body["status"], status);
    }
    let (st, body) = http(
        port,
        "POST",
        &path,
        Some("demo-supervisor"),
        Some(&json!({"action": "verify"})),
    );
    assert_eq!(st, 409, "{body}");
    let (st, events) = http(
        port,
        "GET",
        &format!("/api/v1/work-orders/{}/events", order["id"]),
        Some("demo-supervisor"),
        None,
    );
    assert_eq!(st, 200);
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "register",
            "dispatch",
            "handle",
            "verify",
            "close",
            "follow_up"
        ]
    );
}

#[test]
fn serve_on_sqlite_by_default_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[], &[]);
    walk_lifecycle(server.port);
    let (status, log) = server.stop();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(
        log.contains("demo credentials are configured"),
        "the demo warning: {log}"
    );
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        data.join("hotline.db").exists(),
        "SQLite file under the data directory"
    );
    // The data survives a restart.
    let server = Server::start(&data, &[], &[]);
    let (st, list) = http(
        server.port,
        "GET",
        "/api/v1/work-orders",
        Some("demo-admin"),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(list["total"], 1);
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn serve_on_postgres_via_database_url() {
    let name = format!("hotline_test_cli_{}", std::process::id());
    let admin = |sql: String| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&format!("{}/postgres", common::pg_server()))
                .await
                .expect("PostgreSQL (set HOTLINE_TEST_PG)");
            sqlx::query(&sql).execute(&mut c).await.unwrap();
        });
    };
    admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    admin(format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", common::pg_server());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[("DATABASE_URL", &url)],
        &["--log-format", "json"],
    );
    walk_lifecycle(server.port);
    let (status, log) = server.stop();
    admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert!(status.success(), "{log}");
    assert!(
        !dir.path().join("hotline.db").exists(),
        "no SQLite file when on PostgreSQL"
    );
    // --log-format json: every line is a JSON object.
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"));
        assert!(v["level"].is_string());
    }
}

#[test]
fn migrate_creates_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "migrate",
            "--config",
            "sip-config/hotline.toml",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sqlite case store is up to date"));
    assert!(dir.path().join("hotline.db").exists());
}

#[test]
fn bad_flags_and_config_fail_clearly() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&["serve", "--config", "/nonexistent/hotline.toml"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/hotline.toml") && err.contains("cannot read"),
        "{err}"
    );
    let out = run(&[
        "serve",
        "--rtp-ports",
        "30000-20000",
        "--http-addr",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rtp-ports"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--http-addr", "not-an-address"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    let first = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(first.contains("--http-addr"), "{first}");
}
