//! Capturing what reaches a UDP port on loopback: dumpcap writing a classic pcap file,
//! stopped with SIGINT, and the UDP payloads (RTP) read back from it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An even free port (SIPp's RTP; its RTCP would be the next one).
pub fn even_free_port() -> u16 {
    // SIPp binds the port, the next (RTCP) and the video pair at +2/+3.
    super::free_port_block([127, 0, 0, 1].into(), 4)
}

/// dumpcap writing UDP to `port` on loopback into a classic pcap file; stopped with SIGINT.
pub struct Capture {
    child: std::process::Child,
}

impl Capture {
    pub fn start(port: u16, file: &Path) -> Capture {
        let child = Command::new("dumpcap")
            .args(["-q", "-i", "lo", "-P", "-f"])
            .arg(format!("udp dst port {port}"))
            .arg("-w")
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dumpcap (Debian package tshark) is needed for the media tests");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) < 24 {
            assert!(Instant::now() < deadline, "dumpcap did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        // The filter is compiled and the socket bound once the header is written.
        std::thread::sleep(Duration::from_millis(300));
        Capture { child }
    }

    pub fn stop(mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// UDP payloads of an Ethernet (loopback) pcap file.
pub fn udp_payloads(file: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(file).expect("capture file");
    assert!(data.len() >= 24, "not a pcap file");
    let le = data[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    assert_eq!(u32_at(&data[20..24]), 1, "Ethernet link type on lo");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let len = u32_at(&data[at + 8..at + 12]) as usize;
        let frame = &data[(at + 16).min(data.len())..(at + 16 + len).min(data.len())];
        at += 16 + len;
        if frame.len() < 14 + 20 + 8 || frame[12..14] != [0x08, 0x00] {
            continue;
        }
        let ihl = usize::from(frame[14] & 0x0F) * 4;
        if frame[14 + 9] != 17 || frame.len() < 14 + ihl + 8 {
            continue;
        }
        out.push(frame[14 + ihl + 8..].to_vec());
    }
    out
}

/// The RTP packets among UDP payloads (version 2, at least a header).
pub fn rtp_packets(payloads: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    payloads
        .into_iter()
        .filter(|p| p.len() >= 12 && p[0] >> 6 == 2)
        .collect()
}

/// The audio of A-law RTP packets (payload type 8) in order, decoded to 16-bit samples.
pub fn alaw_audio(packets: &[Vec<u8>]) -> Vec<i16> {
    packets
        .iter()
        .filter(|p| p[1] & 0x7F == 8)
        .flat_map(|p| {
            p[12..]
                .iter()
                .map(|&c| hotline::media::g711::alaw_decode(c))
        })
        .collect()
}
