//! End to end, over HTTP against a running `hotline serve` (the shipped demo configuration), on
//! SQLite and on PostgreSQL: a field inspector's report with a photo goes through registration
//! by the shift lead, dispatch by the routing table, the department's acceptance and feedback
//! with a photo, the inspector's verification and closure; the audit trail holds every step,
//! each photo is tied to its step and downloads as sent, the notifications went out, and the
//! reporter learns the result.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const INSPECTOR: &str = "demo-inspector-01";
const SUPERVISOR: &str = "demo-supervisor";
const SANITATION: &str = "demo-dept-sanitation";

/// A running server on its own data directory (and database); killed when dropped.
struct Server {
    child: Child,
    http: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
    pg_db: Option<String>,
}

fn pg_server() -> String {
    std::env::var("HOTLINE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

async fn admin_sql(sql: &str) {
    use sqlx::Connection;
    let url = format!("{}/postgres", pg_server());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    let _ = conn.close().await;
}

impl Server {
    async fn start(postgres: bool) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
        for (k, _) in std::env::vars() {
            if k.starts_with("HOTLINE_") || k == "DATABASE_URL" || k == "REDIS_URL" {
                cmd.env_remove(k);
            }
        }
        let pg_db = if postgres {
            let name = format!(
                "hotline_e2e_{}_{}",
                std::process::id(),
                rand::random::<u32>()
            );
            admin_sql(&format!("CREATE DATABASE {name}")).await;
            cmd.env("DATABASE_URL", format!("{}/{name}", pg_server()));
            Some(name)
        } else {
            None
        };
        // Each server its own RTP ports (no calls are made, but the range is bound lazily).
        let first = 40_000 + (rand::random::<u16>() % 100) * 100;
        cmd.args(["--log-format", "json", "serve", "--config"])
            .arg(root.join("sip-config/hotline.toml"))
            .args(["--sip-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
            .arg("--rtp-ports")
            .arg(format!("{first}-{}", first + 99))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .current_dir(&root)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
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
        let deadline = Instant::now() + Duration::from_secs(60);
        let http = loop {
            let found = log.lock().unwrap().iter().find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                let f = &v["fields"];
                (f["message"] == "hotline serving").then(|| f["http"].as_str()?.parse().ok())?
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
            assert!(
                Instant::now() < deadline,
                "hotline did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Server {
            child,
            http,
            log,
            _dir: dir,
            pg_db,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(name) = self.pg_db.take() {
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(admin_sql(&format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
            })
            .join();
        }
        if std::thread::panicking() {
            eprintln!("server log:\n{}", self.log.lock().unwrap().join("\n"));
        }
    }
}

/// A small JPEG-typed photo with distinct content.
fn photo(seed: u8) -> Vec<u8> {
    let mut p = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    p.extend((0..4096u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    p.extend([0xFF, 0xD9]);
    p
}

/// A multipart body: one JSON part named `json_name`, then one `photo` part per photo.
fn multipart(json_name: &str, value: &Value, photos: &[Vec<u8>]) -> (String, Vec<u8>) {
    let boundary = "e2e-boundary-5b8f3c";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{json_name}\"\r\n\
             Content-Type: application/json\r\n\r\n{value}\r\n"
        )
        .as_bytes(),
    );
    for (i, p) in photos.iter().enumerate() {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; \
                 filename=\"p{i}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(p);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

struct Api {
    client: reqwest::Client,
}

impl Api {
    async fn get(&self, s: &Server, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(s.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn bytes(&self, s: &Server, path: &str, token: &str) -> (u16, Option<String>, Vec<u8>) {
        let r = self
            .client
            .get(s.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (
            r.status().as_u16(),
            ct,
            r.bytes().await.expect("body").to_vec(),
        )
    }

    async fn post(&self, s: &Server, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(s.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post_multipart(
        &self,
        s: &Server,
        path: &str,
        token: &str,
        (content_type, body): (String, Vec<u8>),
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(s.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let r = req.send().await.expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

async fn report_to_closure(postgres: bool) {
    let s = Server::start(postgres).await;
    let api = Api {
        client: reqwest::Client::new(),
    };
    let scene = photo(1);
    let report = json!({
        "category_id": "E0101",
        "description": "暴露垃圾 a heap of rubbish by the bus stop",
        "longitude": 101.705,
        "latitude": 26.585,
        "address": "炳草岗大街 12 号",
    });

    // 1. The inspector's handset reports, with a photo; the retry of a lost answer is the same
    //    report, not a second one.
    let body = multipart("report", &report, std::slice::from_ref(&scene));
    let (st, first) = api
        .post_multipart(
            &s,
            "/api/v1/reports",
            INSPECTOR,
            body.clone(),
            Some("e2e-1"),
        )
        .await;
    assert_eq!(st, 201, "{first}");
    let order = &first["order"];
    let id = order["id"].as_i64().expect("order id");
    assert_eq!(order["status"], "received");
    assert_eq!(order["channel"], "field-inspector");
    assert_eq!(order["grid_cell"], "510402001001001");
    assert_eq!(order["district"], "东区");
    assert_eq!(order["reporter_id"], "inspector-01");
    assert_eq!(order["request_type"], "urban-management");
    assert_eq!(first["attachments"].as_array().map(Vec::len), Some(1));
    let (st, again) = api
        .post_multipart(&s, "/api/v1/reports", INSPECTOR, body, Some("e2e-1"))
        .await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["order"]["id"], id);
    let (_, listed) = api
        .get(
            &s,
            "/api/v1/work-orders?channel=field-inspector",
            SUPERVISOR,
        )
        .await;
    assert_eq!(listed["total"], 1, "{listed}");

    let path = format!("/api/v1/work-orders/{id}/transitions");
    // 2. The shift lead registers it, confirming the category's registration criteria.
    let (st, r) = api
        .post(&s, &path, SUPERVISOR, json!({"action": "register"}))
        .await;
    assert_eq!(st, 400, "criteria must be confirmed: {r}");
    assert_eq!(r["field"], "criteria_met");
    let (st, r) = api
        .post(
            &s,
            &path,
            SUPERVISOR,
            json!({"action": "register", "criteria_met": true, "note": "confirmed on the photo"}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "registered");

    // 3. Dispatch without naming a department: the routing table sends E01 to sanitation.
    let (st, r) = api
        .post(&s, &path, SUPERVISOR, json!({"action": "dispatch"}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "dispatched");
    assert_eq!(r["department_id"], "sanitation");

    // 4. The department's inbox (处置通) has it; another department cannot touch it.
    let (st, inbox) = api.get(&s, "/api/v1/inbox", SANITATION).await;
    assert_eq!(st, 200, "{inbox}");
    let items = inbox
        .as_array()
        .or_else(|| inbox["items"].as_array())
        .cloned()
        .unwrap_or_default();
    assert!(items.iter().any(|o| o["id"] == id), "{inbox}");
    let (st, _) = api
        .post(&s, &path, "demo-dept-roads", json!({"action": "accept"}))
        .await;
    assert_eq!(st, 404, "another department does not even see it");
    let (st, r) = api
        .post(&s, &path, SANITATION, json!({"action": "accept"}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "accepted");

    // 5. Feedback with a photo of the cleared site.
    let cleared = photo(2);
    let cmd = json!({"action": "handle", "result": "rubbish removed, site swept"});
    let (st, r) = api
        .post_multipart(
            &s,
            &path,
            SANITATION,
            multipart("command", &cmd, std::slice::from_ref(&cleared)),
            None,
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "handled");
    assert_eq!(r["assignee"], "inspector-01");

    // 6. The reporting inspector verifies (核查) from the handset's inbox.
    let (_, inbox) = api.get(&s, "/api/v1/inbox", INSPECTOR).await;
    let items = inbox
        .as_array()
        .or_else(|| inbox["items"].as_array())
        .cloned()
        .unwrap_or_default();
    assert!(items.iter().any(|o| o["id"] == id), "{inbox}");
    let (st, r) = api
        .post(&s, &path, "demo-inspector-02", json!({"action": "verify"}))
        .await;
    assert_eq!(
        st, 404,
        "only the assigned inspector sees and verifies it: {r}"
    );
    let (st, r) = api
        .post(
            &s,
            &path,
            INSPECTOR,
            json!({"action": "verify", "note": "site is clean"}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "verified");

    // 7. Closure.
    let (st, r) = api
        .post(&s, &path, SUPERVISOR, json!({"action": "close"}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "closed");
    assert!(r["closed_at"].is_string());

    // The audit trail: every step, in order, by whom, with the status it moved between.
    let (st, events) = api
        .get(&s, &format!("/api/v1/work-orders/{id}/events"), SUPERVISOR)
        .await;
    assert_eq!(st, 200, "{events}");
    let steps: Vec<(String, String, String)> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["actor"].as_str().unwrap_or_default().to_string(),
                e["to_status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected = [
        ("create", "inspector-01", "received"),
        ("register", "supervisor", "registered"),
        ("dispatch", "supervisor", "dispatched"),
        ("accept", "dept-sanitation", "accepted"),
        ("handle", "dept-sanitation", "handled"),
        ("verify", "inspector-01", "verified"),
        ("close", "supervisor", "closed"),
    ];
    assert_eq!(
        steps,
        expected
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect::<Vec<_>>(),
        "{events:#}"
    );
    let event_id = |action: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .map(|e| e["id"].clone())
            .unwrap()
    };
    let dispatch = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "dispatch")
        .unwrap();
    assert_eq!(dispatch["data"]["department"], "sanitation");
    let close = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "close")
        .unwrap();
    assert_eq!(close["data"]["on_time"], true, "{close}");

    // The photos: one with the report, one with the feedback, each downloadable as sent.
    let (st, atts) = api
        .get(
            &s,
            &format!("/api/v1/work-orders/{id}/attachments"),
            SUPERVISOR,
        )
        .await;
    assert_eq!(st, 200, "{atts}");
    let atts = atts
        .as_array()
        .or_else(|| atts["items"].as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(atts.len(), 2, "{atts:?}");
    for (kind, sent) in [("report", &scene), ("feedback", &cleared)] {
        let a = atts.iter().find(|a| a["kind"] == kind).expect(kind);
        if kind == "feedback" {
            assert_eq!(a["case_event_id"], event_id("handle"));
        }
        let (st, ct, got) = api
            .bytes(&s, a["url"].as_str().expect("url"), SUPERVISOR)
            .await;
        assert_eq!(st, 200);
        assert_eq!(ct.as_deref(), Some("image/jpeg"));
        assert_eq!(&got, sent, "{kind} photo comes back as sent");
    }

    // Notifications: the dispatch reached the department, the verification task the
    // inspector, and the closure the reporter (the log notifier delivers them).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (st, n) = api
            .get(&s, &format!("/api/v1/notifications?order={id}"), SUPERVISOR)
            .await;
        assert_eq!(st, 200, "{n}");
        let items = n
            .as_array()
            .or_else(|| n["items"].as_array())
            .cloned()
            .unwrap_or_default();
        let has = |kind: &str, to: &str| {
            items
                .iter()
                .any(|x| x["kind"] == kind && x["recipient"] == to && !x["delivered_at"].is_null())
        };
        if has("dispatched", "department:sanitation")
            && has("verification_task", "inspector:inspector-01")
            && has("closed", "reporter:inspector-01")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "notifications not delivered: {n:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_report_to_closure() {
    report_to_closure(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_report_to_closure() {
    report_to_closure(true).await;
}
