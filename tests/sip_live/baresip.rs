//! baresip as agent 1001's softphone: it registers with digest, the registration shows in the
//! API, baresip refreshes it before it lapses, and on SIGTERM it unregisters.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{free_port, header, headers, wait_for, Config, Server};

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
/// The registration interval baresip asks for (`regint`), in seconds.
const REGINT: u32 = 6;

/// A baresip process with its own configuration directory; killed when dropped.
struct Baresip {
    child: Child,
    dir: tempfile::TempDir,
}

impl Baresip {
    /// Starts baresip registering as 1001 at `registrar`, with SIP tracing on, no audio
    /// devices and only the modules it needs; it quits by itself after `life`.
    fn start(registrar: SocketAddr, life: Duration) -> Baresip {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port(LOCAL);
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{port}\n\
             audio_player\t\taufile,/dev/null\n\
             audio_source\t\taufile,/dev/null\n\
             audio_alert\t\taufile,/dev/null\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module_app\t\taccount.so\n"
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let account =
            format!("<sip:1001@{registrar};transport=udp>;auth_pass=demo-1001;regint={REGINT}\n");
        std::fs::write(dir.path().join("accounts"), account).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .arg("-s")
            .arg("-t")
            .arg(life.as_secs().to_string())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("trace.txt")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run baresip ({e}): install it (Debian package baresip-core)")
            });
        Baresip { child, dir }
    }

    /// What baresip printed (its SIP trace and log).
    fn output(&self) -> String {
        let read = |p: &Path| std::fs::read(p).unwrap_or_default();
        let mut out = read(&self.dir.path().join("trace.txt"));
        out.extend(read(&self.dir.path().join("stderr.txt")));
        String::from_utf8_lossy(&out).into_owned()
    }

    /// SIGTERM, then wait (bounded) for it to exit.
    fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "baresip did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- baresip output ---\n{}", self.output());
        }
    }
}

fn registration(server: &Server) -> Option<Value> {
    server
        .registrations()
        .into_iter()
        .find(|r| r["user"] == "1001")
}

/// One SIP message in baresip's trace (`-s`).
struct Traced {
    /// Sent by baresip to `server` (otherwise received from it).
    to_server: bool,
    text: String,
}

impl Traced {
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

/// The SIP messages in baresip's output between it and `server`. Each one is printed as a
/// line `#` (in colour), a line `UDP <from> -> <to>`, the message, and a colour reset.
fn sip_trace(output: &str, server: SocketAddr) -> Vec<Traced> {
    let mut out = Vec::new();
    let mut current: Option<(bool, Vec<&str>)> = None;
    for line in output.lines() {
        if let Some((to_server, lines)) = current.as_mut() {
            if line.starts_with('\u{1b}') {
                out.push(Traced {
                    to_server: *to_server,
                    text: lines.join("\r\n").trim_end().to_string(),
                });
                current = None;
            } else {
                lines.push(line);
            }
            continue;
        }
        let Some(route) = line.strip_prefix("UDP ") else {
            continue;
        };
        let Some((from, to)) = route.split_once(" -> ") else {
            continue;
        };
        if to.trim() == server.to_string() {
            current = Some((true, Vec::new()));
        } else if from.trim() == server.to_string() {
            current = Some((false, Vec::new()));
        }
    }
    out
}

/// Responses from the server with this status code to REGISTER.
fn register_responses(trace: &[Traced], code: u16) -> Vec<&Traced> {
    trace
        .iter()
        .filter(|m| !m.to_server)
        .filter(|m| m.first_line().starts_with(&format!("SIP/2.0 {code} ")))
        .filter(|m| header(&m.text, "CSeq").is_some_and(|c| c.ends_with(" REGISTER")))
        .collect()
}

/// The `algorithm` of the digest credentials baresip sent (MD5 when the parameter is absent).
fn algorithms_used(trace: &[Traced]) -> Vec<String> {
    trace
        .iter()
        .filter(|m| m.to_server)
        .filter_map(|m| header(&m.text, "Authorization"))
        .map(|a| {
            a.split(',')
                .find_map(|p| p.trim().strip_prefix("algorithm="))
                .map_or("MD5", |a| a.trim_matches('"'))
                .to_string()
        })
        .collect()
}

/// The server offers MD5 alone (`digest_algorithms = ["MD5"]`): baresip 1.0.0 (libre 1.1.0)
/// goes through every challenge and gives up on the first that is not MD5.
#[test]
fn baresip_registers_refreshes_and_unregisters() {
    let cfg = Config::demo()
        .sip("register_min_expires", 5)
        .sip("digest_algorithms", vec!["MD5"]);
    let server = Server::start(cfg, LOCAL);
    let mut phone = Baresip::start(server.sip, Duration::from_secs(60));

    let first = wait_for(Duration::from_secs(10), "1001 registered", || {
        registration(&server)
    });
    assert_eq!(first["transport"], "UDP", "{first}");
    assert!(
        first["user_agent"].as_str().unwrap().starts_with("baresip"),
        "{first}"
    );
    let granted = first["expires_in"].as_u64().unwrap();
    assert!(granted <= u64::from(REGINT), "{first}");

    // A refresh: expires_in goes back up before the binding lapses.
    let mut last = granted;
    wait_for(
        Duration::from_secs(u64::from(REGINT) + 3),
        "registration refreshed",
        || {
            let now = registration(&server).expect("still registered")["expires_in"]
                .as_u64()
                .unwrap();
            let refreshed = now > last;
            last = now;
            refreshed.then_some(())
        },
    );
    // The same seen from baresip: two REGISTERs accepted, each after an MD5-only challenge.
    let trace = wait_for(
        Duration::from_secs(3),
        "two REGISTER 200s in baresip's trace",
        || {
            let trace = sip_trace(&phone.output(), server.sip);
            (register_responses(&trace, 200).len() >= 2).then_some(trace)
        },
    );
    let challenges = register_responses(&trace, 401);
    assert!(!challenges.is_empty(), "no 401 in baresip's trace");
    for c in &challenges {
        let offered = headers(&c.text, "WWW-Authenticate");
        assert_eq!(offered.len(), 1, "{}", c.text);
        assert!(offered[0].contains("algorithm=MD5"), "{}", c.text);
    }
    let algorithms = algorithms_used(&trace);
    assert!(algorithms.len() >= 2, "credentials sent: {algorithms:?}");
    assert!(algorithms.iter().all(|a| a == "MD5"), "{algorithms:?}");

    let status = phone.terminate(Duration::from_secs(10));
    assert!(status.success(), "baresip exited with {status}");
    wait_for(Duration::from_secs(3), "1001 unregistered", || {
        registration(&server).is_none().then_some(())
    });
    let unregistered = server.wait_log("softphone unregistered", 1);
    assert_eq!(unregistered[0]["user"], "1001", "{unregistered:?}");
}
