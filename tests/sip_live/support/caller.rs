//! A citizen's call through the trunk: SIPp running `scenarios/caller.xml` with a tone of its
//! own as its voice, an optional RFC 2833 digit, a hold time before its BYE (or a wait for the
//! server's BYE), and dumpcap
//! capturing everything the server sends to its media port, decoded back to audio.

use std::path::PathBuf;
use std::time::Duration;

use super::audio::write_alaw_tone;
use super::capture::{alaw_audio, even_free_port, rtp_packets, udp_payloads, Capture};
use super::sipp::{shipped_pcaps, Run, Running, Sipp};
use super::Server;

/// The frequency of a caller's voice (an agent's tones are 440 Hz and up, below this).
pub const CALLER_HZ: u32 = 1000;

/// A call to be made.
pub struct Caller {
    dialled: String,
    from: String,
    hold: Duration,
    digit: Option<(char, Duration)>,
    await_bye: bool,
}

impl Caller {
    /// A call from `from` (the caller's number) to `dialled` (12345, 12319, …), hanging up
    /// 10 s after the answer unless told otherwise.
    pub fn new(dialled: &str, from: &str) -> Caller {
        Caller {
            dialled: dialled.into(),
            from: from.into(),
            hold: Duration::from_secs(10),
            digit: None,
            await_bye: false,
        }
    }

    /// How long after the answer (or after the digit) the caller hangs up.
    pub fn hold(mut self, hold: Duration) -> Caller {
        self.hold = hold;
        self
    }

    /// Presses `key` (0–9, `*`, `#`) by RFC 2833 `after` the answer.
    pub fn digit(mut self, key: char, after: Duration) -> Caller {
        self.digit = Some((key, after));
        self
    }

    /// Waits for the server to hang up (after the digit, if any) instead of hanging up after
    /// the hold time; `limit` bounds the wait (the run fails after it).
    pub fn until_hung_up(mut self, limit: Duration) -> Caller {
        self.await_bye = true;
        self.hold = limit;
        self
    }

    /// Starts SIPp (and the capture of its media port) in the background.
    pub fn dial(self, server: &Server) -> Calling {
        let dir = tempfile::tempdir().expect("tempdir");
        let voice = dir.path().join("voice.wav");
        // rtp_stream loops the file; a few seconds are enough.
        write_alaw_tone(&voice, CALLER_HZ, 5);
        let (key, after) = self.digit.unwrap_or(('1', Duration::ZERO));
        let pcap_name = match key {
            '#' => "dtmf_2833_pound.pcap".to_string(),
            '*' => "dtmf_2833_star.pcap".to_string(),
            d if d.is_ascii_digit() => format!("dtmf_2833_{d}.pcap"),
            other => panic!("no RFC 2833 capture for key {other:?}"),
        };
        let media_port = even_free_port();
        let pcap = dir.path().join("to-caller.pcap");
        let capture = Capture::start(media_port, &pcap);
        let limit = self.hold + after + Duration::from_secs(60);
        let sipp = Sipp::new(&server.sip_target(), "caller.xml")
            .args(&["-s", &self.dialled])
            .args(&["-mp", &media_port.to_string(), "-mi", "127.0.0.1"])
            .set("caller", &self.from)
            .set("hold_ms", &self.hold.as_millis().to_string())
            .set("digit_ms", &after.as_millis().to_string())
            .set("await_bye", if self.await_bye { "1" } else { "0" })
            .with_file("voice.wav", &voice)
            .with_file("digit.pcap", &shipped_pcaps().join(pcap_name))
            .limit(limit)
            .spawn();
        Calling {
            sipp,
            capture,
            pcap,
            _dir: dir,
        }
    }
}

/// A call in progress.
pub struct Calling {
    sipp: Running,
    capture: Capture,
    pcap: PathBuf,
    _dir: tempfile::TempDir,
}

impl Calling {
    /// Waits until SIPp has hung up and exited.
    pub fn wait(self) -> Called {
        let run = self.sipp.wait();
        self.capture.stop();
        let packets = rtp_packets(udp_payloads(&self.pcap));
        let heard = alaw_audio(&packets);
        Called {
            run,
            packets,
            heard,
        }
    }
}

/// A finished call, seen from the caller.
pub struct Called {
    pub run: Run,
    /// The RTP packets the server sent to the caller's media port.
    pub packets: Vec<Vec<u8>>,
    /// Their audio (A-law decoded), in arrival order.
    pub heard: Vec<i16>,
}

impl Called {
    /// Panics with SIPp's traces unless the call succeeded.
    pub fn assert_success(&self) -> &Called {
        self.run.assert_success(1);
        self
    }
}
