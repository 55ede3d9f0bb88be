//! baresip as agent 1001's softphone: it registers with digest, the registration shows in the
//! API, baresip refreshes it before it lapses, and on SIGTERM it unregisters.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::relay::{Challenges, Relay};
use crate::support::{free_port, wait_for, Config, Server};

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

/// The `algorithm` of the digest credentials baresip sent (MD5 when the parameter is absent).
fn algorithms_used(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .map(|l| {
            l.split(',')
                .find_map(|p| p.trim().strip_prefix("algorithm="))
                .map(|a| a.trim_matches('"').to_string())
                .unwrap_or_else(|| "MD5 (no algorithm parameter)".into())
        })
        .collect()
}

#[test]
fn baresip_registers_refreshes_and_unregisters() {
    let cfg = Config::demo().sip("register_min_expires", 5);
    let server = Server::start(cfg, LOCAL);
    let relay = Relay::start(LOCAL, LOCAL, server.sip, Challenges::Md5Only);
    let mut phone = Baresip::start(relay.addr, Duration::from_secs(60));

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
    let registers_ok = relay
        .log()
        .iter()
        .filter(|m| !m.upstream && m.text.starts_with("SIP/2.0 200") && m.text.contains("REGISTER"))
        .count();
    assert!(registers_ok >= 2, "{registers_ok} REGISTERs accepted");

    let algorithms = algorithms_used(&phone.output());
    assert!(!algorithms.is_empty(), "no credentials in the trace");
    eprintln!("baresip digest algorithms: {algorithms:?}");

    let status = phone.terminate(Duration::from_secs(10));
    assert!(status.success(), "baresip exited with {status}");
    wait_for(Duration::from_secs(3), "1001 unregistered", || {
        registration(&server).is_none().then_some(())
    });
    let unregistered = server.wait_log("softphone unregistered", 1);
    assert_eq!(unregistered[0]["user"], "1001", "{unregistered:?}");
}

/// baresip talking to the server directly. baresip 1.0.0 (libre 1.1.0) looks at the first
/// challenge, SHA-256, and gives up: "Register: Function not implemented" (ENOSYS).
#[test]
#[ignore = "baresip 1.0.0 (libre 1.1.0) stops at the SHA-256 challenge, which comes first"]
fn direct_baresip_against_sha256_first() {
    let server = Server::demo();
    let _phone = Baresip::start(server.sip, Duration::from_secs(20));
    wait_for(Duration::from_secs(10), "1001 registered", || {
        registration(&server)
    });
}
