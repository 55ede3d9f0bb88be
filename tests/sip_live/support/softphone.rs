//! A seat agent's softphone played by SIPp, for what baresip cannot be told to do: it
//! registers as agent N (`scenarios/softphone.xml`, digest by `-au`/`-ap`) and stays up for a
//! bounded time, while an out-of-call scenario answers the server's INVITE with the agent's
//! tone (A-law) and then hangs up, transfers by REFER, or holds and resumes by re-INVITE.
//! Also a citizen's phone behind the carrier (the trunk's `outbound_proxy`) for the calls the
//! server places: SIPp answering and echoing the RTP it gets, or busy.

use std::net::SocketAddr;
use std::time::Duration;

use super::agent::agent_tone;
use super::audio::write_alaw_tone;
use super::capture::even_free_port;
use super::sipp::{Run, Running, Sipp};
use super::Server;

/// What the agent does once it has answered.
#[derive(Debug, Clone)]
pub enum Script {
    /// Hangs up after `talk` (`agent_hangup.xml`).
    HangUp { talk: Duration },
    /// After `talk`, a blind transfer by REFER to `target` (`agent_refer.xml`).
    Refer { talk: Duration, target: String },
    /// After `talk`, holds (`a=sendonly`) for `hold`, resumes, and waits for the server's BYE
    /// (`agent_hold.xml`).
    Hold { talk: Duration, hold: Duration },
}

/// A SIPp softphone registered as an agent; killed when dropped.
pub struct SippAgent {
    pub id: String,
    running: Running,
    _dir: tempfile::TempDir,
}

impl SippAgent {
    /// Registers as agent `id` (password `demo-<id>`; the server must offer MD5 first) and
    /// stays up for `life`, answering the first call the server offers as `script` says.
    pub fn start(server: &Server, id: &str, script: Script, life: Duration) -> SippAgent {
        let dir = tempfile::tempdir().expect("tempdir");
        let voice = dir.path().join("voice.wav");
        write_alaw_tone(&voice, agent_tone(id), 5);
        let (ooc, talk, hold, target) = match &script {
            Script::HangUp { talk } => ("agent_hangup.xml", *talk, Duration::ZERO, ""),
            Script::Refer { talk, target } => {
                ("agent_refer.xml", *talk, Duration::ZERO, target.as_str())
            }
            Script::Hold { talk, hold } => ("agent_hold.xml", *talk, *hold, ""),
        };
        let ooc = super::scenarios().join(ooc).display().to_string();
        let ms = |d: Duration| d.as_millis().to_string();
        let running = Sipp::new(&server.sip_target(), "softphone.xml")
            .args(&["-oocsf", &ooc, "-au", id, "-ap", &format!("demo-{id}")])
            .args(&["-mp", &even_free_port().to_string(), "-mi", "127.0.0.1"])
            .set("id", id)
            .set("life_ms", &ms(life))
            .set("talk_ms", &ms(talk))
            .set("hold_ms", &ms(hold))
            .set("target", if target.is_empty() { "none" } else { target })
            .with_file("voice.wav", &voice)
            .limit(life + Duration::from_secs(5))
            .spawn();
        SippAgent {
            id: id.into(),
            running,
            _dir: dir,
        }
    }

    /// Waits until SIPp has exited (its life is over) and returns its run: the messages of the
    /// registration and of the call.
    pub fn wait(self) -> Run {
        self.running.wait()
    }
}

/// How the citizen's phone answers a call the server places.
#[derive(Debug, Clone, Copy)]
pub enum Citizen {
    /// Answers, echoes the RTP, and hangs up after this long (`citizen.xml`).
    Answers(Duration),
    /// 486 Busy Here (`citizen_busy.xml`).
    Busy,
}

/// A citizen's phone on 127.0.0.1 waiting for one call; killed when dropped.
pub struct CitizenPhone {
    /// Where it listens: the trunk's `outbound_proxy`.
    pub addr: SocketAddr,
    running: Running,
}

impl CitizenPhone {
    /// Starts SIPp as a UAS on 127.0.0.1:`port` (the trunk's `outbound_proxy`, chosen before
    /// the server starts) for one call within `limit`; it answers whoever calls.
    pub fn start(server: &Server, port: u16, how: Citizen, limit: Duration) -> CitizenPhone {
        let sipp = match how {
            Citizen::Answers(hold) => Sipp::new(&server.sip_target(), "citizen.xml")
                .set("hold_ms", &hold.as_millis().to_string())
                .args(&["-rtp_echo", "-mp", &even_free_port().to_string()])
                .args(&["-mi", "127.0.0.1"]),
            Citizen::Busy => Sipp::new(&server.sip_target(), "citizen_busy.xml"),
        };
        let running = sipp.port(port).limit(limit).spawn();
        CitizenPhone {
            addr: SocketAddr::new([127, 0, 0, 1].into(), port),
            running,
        }
    }

    /// Waits until SIPp has handled its call and exited.
    pub fn wait(self) -> Run {
        self.running.wait()
    }
}
