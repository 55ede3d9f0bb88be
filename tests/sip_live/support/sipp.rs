//! Running SIPp: always with a bounded call count (`-m`), a global timeout that counts as a
//! failure, no stdin, and traces (messages, errors, statistics) written to a temporary
//! directory and read back after the run.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, scenarios};

/// A SIPp command line being put together.
pub struct Sipp {
    args: Vec<String>,
    local_ip: IpAddr,
    port: Option<u16>,
    max_calls: u32,
    limit: Duration,
    label: String,
    pcaps: bool,
    files: Vec<(String, PathBuf)>,
}

/// Where Debian's sip-tester keeps SIPp's sample captures (`g711a.pcap`, `dtmf_2833_*.pcap`).
pub fn shipped_pcaps() -> PathBuf {
    ["/usr/share/sip-tester", "/usr/share/sipp/pcap"]
        .into_iter()
        .map(PathBuf::from)
        .find(|d| d.join("g711a.pcap").exists())
        .expect("SIPp's pcap samples (Debian package sip-tester)")
}

impl Sipp {
    /// A run against `target` (`host:port`) of the scenario file `scenario` (in
    /// `tests/sip_live/scenarios`), or of a built-in one when it has no `.xml` suffix.
    pub fn new(target: &str, scenario: &str) -> Sipp {
        let mut args = vec![target.to_string()];
        if scenario.ends_with(".xml") {
            args.push("-sf".into());
            args.push(scenarios().join(scenario).display().to_string());
        } else {
            args.push("-sn".into());
            args.push(scenario.into());
        }
        Sipp {
            args,
            local_ip: [127, 0, 0, 1].into(),
            port: None,
            max_calls: 1,
            limit: Duration::from_secs(20),
            label: scenario.into(),
            pcaps: false,
            files: Vec::new(),
        }
    }

    /// Makes SIPp's sample captures (`pcap/g711a.pcap`, `pcap/dtmf_2833_1.pcap`, which
    /// `uac_pcap` plays) available in its working directory, and gives it a media port of its
    /// own (`-mp`, even: RTCP is the next one), so that parallel runs do not share the default 6000.
    pub fn with_pcaps(mut self, media_port: u16) -> Sipp {
        self.pcaps = true;
        self.args(&["-mp", &media_port.to_string(), "-mi", "127.0.0.1"])
    }

    /// Makes `path` available as `name` in SIPp's working directory (where a scenario's
    /// `rtp_stream` and `play_pcap_audio` files are looked up).
    pub fn with_file(mut self, name: &str, path: &Path) -> Sipp {
        self.files.push((name.into(), path.to_path_buf()));
        self
    }

    /// The local address SIPp binds (`-i`).
    pub fn local_ip(mut self, ip: IpAddr) -> Sipp {
        self.local_ip = ip;
        self
    }

    /// The local port (`-p`); a free one otherwise.
    pub fn port(mut self, port: u16) -> Sipp {
        self.port = Some(port);
        self
    }

    /// Calls to make (`-m`, also the limit of simultaneous calls unless `-l` is given).
    pub fn calls(mut self, n: u32) -> Sipp {
        self.max_calls = n;
        self
    }

    /// The global timeout (`-timeout`, counted as an error); the process is killed a few
    /// seconds after it.
    pub fn limit(mut self, limit: Duration) -> Sipp {
        self.limit = limit;
        self
    }

    /// Further arguments.
    pub fn args(mut self, args: &[&str]) -> Sipp {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// `-set name value` (a global variable, `[$name]` in the scenario).
    pub fn set(self, name: &str, value: &str) -> Sipp {
        self.args(&["-set", name, value])
    }

    /// Starts SIPp in the background.
    pub fn spawn(self) -> Running {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = self.port.unwrap_or_else(|| free_port(self.local_ip));
        if self.pcaps {
            std::os::unix::fs::symlink(shipped_pcaps(), dir.path().join("pcap"))
                .expect("pcap link");
        }
        for (name, path) in &self.files {
            std::os::unix::fs::symlink(path, dir.path().join(name)).expect("file link");
        }
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut cmd = Command::new("sipp");
        cmd.args(&self.args)
            .arg("-i")
            .arg(self.local_ip.to_string())
            .arg("-p")
            .arg(port.to_string())
            .arg("-m")
            .arg(self.max_calls.to_string())
            .arg("-timeout")
            .arg(format!("{}s", self.limit.as_secs().max(1)))
            .args(["-timeout_error", "-nostdin", "-trace_msg", "-message_file"])
            .arg(path("messages.log"))
            .args(["-trace_err", "-error_file"])
            .arg(path("errors.log"))
            .args(["-trace_stat", "-stf"])
            .arg(path("stats.csv"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(path("screen.txt")).expect("screen file"))
            .stderr(std::fs::File::create(path("stderr.txt")).expect("stderr file"));
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run sipp ({e}): install SIPp (Debian package sip-tester)")
        });
        Running {
            child,
            dir,
            port,
            deadline: Instant::now() + self.limit + Duration::from_secs(5),
            label: self.label,
        }
    }

    /// Runs SIPp to the end.
    pub fn run(self) -> Run {
        self.spawn().wait()
    }
}

/// A SIPp process running in the background; killed when dropped.
pub struct Running {
    child: Child,
    dir: tempfile::TempDir,
    /// SIPp's local port.
    pub port: u16,
    deadline: Instant,
    label: String,
}

impl Running {
    /// Waits for SIPp to exit (killing it after its deadline) and reads its traces.
    pub fn wait(mut self) -> Run {
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("wait sipp") {
                break status.code().unwrap_or(-1);
            }
            if Instant::now() > self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break -1;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let read = |name: &str| -> String {
            let p: PathBuf = self.dir.path().join(name);
            std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let messages = parse_messages(&read("messages.log"));
        Run {
            label: self.label.clone(),
            port: self.port,
            code,
            stats: parse_stats(&read("stats.csv")),
            messages,
            errors: read("errors.log"),
            screen: read("screen.txt") + &read("stderr.txt"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One message in SIPp's message trace.
#[derive(Debug, Clone)]
pub struct Traced {
    pub received: bool,
    pub text: String,
}

impl Traced {
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        super::header(&self.text, name)
    }

    /// A response with this status code, to a request of this CSeq method.
    pub fn is_response(&self, code: u16, method: &str) -> bool {
        self.first_line().starts_with(&format!("SIP/2.0 {code} "))
            && self
                .header("CSeq")
                .is_some_and(|c| c.split_whitespace().nth(1) == Some(method))
    }

    /// A request of this method.
    pub fn is_request(&self, method: &str) -> bool {
        self.first_line().starts_with(&format!("{method} "))
    }
}

/// What a SIPp run left behind.
#[derive(Debug)]
pub struct Run {
    pub label: String,
    /// SIPp's local port.
    pub port: u16,
    /// The exit code: 0 all calls succeeded, 1 some failed, 255 fatal error, -1 killed.
    pub code: i32,
    /// The last row of the statistics file, by column name (`SuccessfulCall(C)`, …).
    pub stats: HashMap<String, String>,
    pub messages: Vec<Traced>,
    pub errors: String,
    pub screen: String,
}

impl Run {
    /// A cumulative counter from the statistics (`name` without the `(C)`).
    pub fn stat(&self, name: &str) -> u64 {
        self.stats
            .get(&format!("{name}(C)"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Panics with the traces unless SIPp exited 0 with `calls` successful calls.
    pub fn assert_success(&self, calls: u64) -> &Run {
        assert!(
            self.code == 0 && self.stat("SuccessfulCall") == calls,
            "{}: exit code {}, {} successful and {} failed calls (expected {calls} successful)\n{}",
            self.label,
            self.code,
            self.stat("SuccessfulCall"),
            self.stat("FailedCall"),
            self.dump()
        );
        self
    }

    /// Messages SIPp received.
    pub fn received(&self) -> impl Iterator<Item = &Traced> {
        self.messages.iter().filter(|m| m.received)
    }

    /// Messages SIPp sent.
    pub fn sent(&self) -> impl Iterator<Item = &Traced> {
        self.messages.iter().filter(|m| !m.received)
    }

    /// The errors, the screen and the last messages, for failure reports.
    pub fn dump(&self) -> String {
        let tail: Vec<String> = self
            .messages
            .iter()
            .rev()
            .take(8)
            .rev()
            .map(|m| {
                let dir = if m.received { "<<<" } else { ">>>" };
                format!("{dir}\n{}", m.text)
            })
            .collect();
        format!(
            "--- errors ---\n{}\n--- screen ---\n{}\n--- last messages ---\n{}",
            self.errors,
            self.screen,
            tail.join("\n")
        )
    }
}

/// Splits SIPp's `-message_file` into messages. Each entry starts with a line of dashes and a
/// time stamp, then "UDP message sent (N bytes):" or "TCP message received [N] bytes :".
fn parse_messages(log: &str) -> Vec<Traced> {
    let mut out = Vec::new();
    let mut current: Option<(bool, Vec<&str>)> = None;
    let mut header_next = false;
    for line in log.lines() {
        if line.starts_with("----------------------------------------------- ") {
            if let Some((received, lines)) = current.take() {
                out.push(finish(received, &lines));
            }
            header_next = true;
            continue;
        }
        if header_next {
            header_next = false;
            if line.contains(" message received ") {
                current = Some((true, Vec::new()));
            } else if line.contains(" message sent ") {
                current = Some((false, Vec::new()));
            }
            continue;
        }
        if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((received, lines)) = current.take() {
        out.push(finish(received, &lines));
    }
    out
}

fn finish(received: bool, lines: &[&str]) -> Traced {
    let text = lines.join("\r\n");
    Traced {
        received,
        text: text.trim_matches(['\r', '\n']).to_string(),
    }
}

fn parse_stats(csv: &str) -> HashMap<String, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(head) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    head.split(';')
        .map(str::to_string)
        .zip(last.split(';').map(str::to_string))
        .collect()
}
