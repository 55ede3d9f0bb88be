//! A seat agent's softphone (or the demo supervisor's, 8001): baresip registering as agent N with its own configuration
//! directory, answering by itself or not at all, sending a tone of its own (440 Hz for 1001,
//! 660 Hz for 1002, …) and dumping what it hears to WAV (`sndfile`); its SIP trace parsed.
//! Also the API helpers that wait for an agent's registration and state.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::audio::{read_wav, write_pcm_tone};
use super::{header, wait_for, Server};

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// Whether the softphone answers an offered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// At once (`answermode=auto`).
    Auto,
    /// Never: it rings until the server cancels.
    Never,
}

/// The tone agent `id` sends: each demo agent has its own, all below the caller's 1000 Hz.
pub fn agent_tone(id: &str) -> u32 {
    match id {
        "1001" => 440,
        "1002" => 660,
        "1003" => 330,
        "2001" => 550,
        "2002" => 770,
        // The demo supervisor's softphone (not an agent, but the same kind of phone).
        "8001" => 880,
        other => panic!("no tone for agent {other}"),
    }
}

/// A baresip process with its own configuration directory; killed when dropped.
pub struct Agent {
    pub id: String,
    /// Where its SIP listens.
    pub sip: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

impl Agent {
    /// Starts baresip registering as agent `id` (password `demo-<id>`) at the server's SIP
    /// address (MD5 digest: the server must run with `digest_algorithms = ["MD5"]`), with SIP
    /// tracing on; it quits by itself after `life`.
    pub fn start(server: &Server, id: &str, answer: Answer, life: Duration) -> Agent {
        Agent::start_at(server.sip, id, answer, life, 60)
    }

    /// Like [`Agent::start`], against `registrar`, asking for registrations of `regint` s.
    pub fn start_at(
        registrar: SocketAddr,
        id: &str,
        answer: Answer,
        life: Duration,
        regint: u32,
    ) -> Agent {
        let dir = tempfile::tempdir().expect("tempdir");
        // baresip listens on the port (UDP, TCP) and TLS on the next one.
        let port = super::free_port_block(LOCAL, 2);
        let tone = dir.path().join("tone.wav");
        let secs = u32::try_from(life.as_secs()).unwrap_or(600).clamp(1, 600);
        write_pcm_tone(&tone, agent_tone(id), secs);
        let dumps = dir.path().join("heard");
        std::fs::create_dir_all(&dumps).expect("dump dir");
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{port}\n\
             audio_player\t\taubridge,play-{id}\n\
             audio_source\t\taufile,{}\n\
             audio_alert\t\taubridge,alert-{id}\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module\t\t\taubridge.so\n\
             module\t\t\tsndfile.so\n\
             module_app\t\taccount.so\n\
             snd_path\t\t{}\n",
            tone.display(),
            dumps.display()
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let mode = match answer {
            Answer::Auto => "auto",
            Answer::Never => "manual",
        };
        let account = format!(
            "<sip:{id}@{registrar};transport=udp>;auth_pass=demo-{id};regint={regint};\
             answermode={mode}\n"
        );
        std::fs::write(dir.path().join("accounts"), account).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .arg("-s")
            .arg("-t")
            .arg(life.as_secs().max(1).to_string())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("trace.txt")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run baresip ({e}): install it (Debian package baresip-core)")
            });
        Agent {
            id: id.into(),
            sip: SocketAddr::new(LOCAL, port),
            child,
            dir,
        }
    }

    /// The tone this agent sends.
    pub fn tone(&self) -> u32 {
        agent_tone(&self.id)
    }

    /// What baresip printed (its SIP trace and log).
    pub fn output(&self) -> String {
        let read = |p: &Path| std::fs::read(p).unwrap_or_default();
        let mut out = read(&self.dir.path().join("trace.txt"));
        out.extend(read(&self.dir.path().join("stderr.txt")));
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The SIP messages between this softphone and `server`.
    pub fn trace(&self, server: SocketAddr) -> Vec<Traced> {
        sip_trace(&self.output(), server)
    }

    /// The INVITEs (not retransmissions: one per Call-ID) the server sent this softphone.
    pub fn invites(&self, server: SocketAddr) -> Vec<Traced> {
        let mut seen = std::collections::HashSet::new();
        self.trace(server)
            .into_iter()
            .filter(|m| !m.to_server && m.first_line().starts_with("INVITE "))
            .filter(|m| seen.insert(header(&m.text, "Call-ID").unwrap_or_default()))
            .collect()
    }

    /// Requests of `method` the server sent this softphone.
    pub fn requests(&self, server: SocketAddr, method: &str) -> Vec<Traced> {
        self.trace(server)
            .into_iter()
            .filter(|m| !m.to_server && m.first_line().starts_with(&format!("{method} ")))
            .collect()
    }

    /// The WAV files of what it heard, one per call, oldest first.
    pub fn heard_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("heard"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.to_string_lossy().ends_with("-dec.wav"));
        files.sort();
        files
    }

    /// Everything it heard (all calls, mono 8 kHz).
    pub fn heard(&self) -> Vec<i16> {
        self.heard_files()
            .iter()
            .flat_map(|p| read_wav(p).0)
            .collect()
    }

    /// Whether baresip is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then wait (bounded) for it to exit.
    pub fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
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

impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let out = self.output();
            let tail: Vec<&str> = out.lines().rev().take(60).collect();
            eprintln!("--- baresip {} output (last lines) ---", self.id);
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// One SIP message in baresip's trace (`-s`).
pub struct Traced {
    /// Sent by baresip to the server (otherwise received from it).
    pub to_server: bool,
    pub text: String,
}

impl Traced {
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.text, name)
    }
}

/// The SIP messages in baresip's output between it and `server`. Each one is printed as a
/// line `#` (in colour), a line `UDP <from> -> <to>`, the message, and a colour reset.
pub fn sip_trace(output: &str, server: SocketAddr) -> Vec<Traced> {
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

/// The registration of softphone user `id`, if any.
pub fn registration(server: &Server, id: &str) -> Option<Value> {
    server.registrations().into_iter().find(|r| r["user"] == id)
}

/// Waits until `id` is registered.
pub fn wait_registered(server: &Server, id: &str, limit: Duration) -> Value {
    wait_for(limit, &format!("{id} registered"), || {
        registration(server, id)
    })
}

/// `GET /api/v1/agents/{id}/status` (as admin).
pub fn status(server: &Server, id: &str) -> Value {
    let (code, body) = server.api("GET", &format!("/api/v1/agents/{id}/status"), None);
    assert_eq!(code, 200, "GET /api/v1/agents/{id}/status: {body}");
    body
}

/// Waits until agent `id`'s status shows `state`; returns the status.
pub fn wait_state(server: &Server, id: &str, state: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let last = status(server, id);
        if last["state"] == state {
            return last;
        }
        assert!(
            Instant::now() < deadline,
            "agent {id} not {state} within {limit:?}; last status {last}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts agent `id` and waits until it is registered and ready.
pub fn ready_agent(server: &Server, id: &str, answer: Answer, life: Duration) -> Agent {
    let agent = Agent::start(server, id, answer, life);
    wait_registered(server, id, Duration::from_secs(10));
    wait_state(server, id, "ready", Duration::from_secs(5));
    agent
}
