//! Media against SIPp's `uac_pcap` (G.711 A-law from a capture, then an RFC 2833 digit '1'):
//! the server answers with real SDP, plays the greeting that SIPp's media port receives
//! (captured on loopback with dumpcap), detects the digit, and records the call to a
//! two-channel WAV — caller left, what the caller heard right — that is not silent.

use std::path::Path;
use std::time::Duration;

use crate::support::capture::{even_free_port, udp_payloads, Capture};
use crate::support::sipp::Sipp;
use crate::support::{free_port, wait_for, Config, Server};

/// RMS level of one channel of interleaved stereo samples.
fn channel_rms(samples: &[i16], ch: usize) -> f64 {
    let v: Vec<f64> = samples
        .iter()
        .skip(ch)
        .step_by(2)
        .map(|&s| f64::from(s))
        .collect();
    (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// `forward = { trunk = "carrier", number = "9000" }` for a test number.
fn forward_to_9000() -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("trunk".into(), "carrier".into());
    t.insert("number".into(), "9000".into());
    toml::Value::Table(t)
}

#[test]
fn sipp_pcap_call_hears_the_greeting_sends_a_digit_and_is_recorded() {
    let server = Server::start(
        Config::demo().number("12345", "max_call_secs", 60),
        [127, 0, 0, 1].into(),
    );
    let work = tempfile::tempdir().expect("tempdir");
    let media_port = even_free_port();
    let pcap = work.path().join("to-sipp.pcap");
    let capture = Capture::start(media_port, &pcap);
    let run = Sipp::new(&server.sip_target(), "uac_pcap")
        .with_pcaps(media_port)
        .args(&["-s", "12345"])
        .limit(Duration::from_secs(40))
        .run();
    capture.stop();
    assert_eq!(run.code, 0, "SIPp failed: {}", run.screen);

    // What SIPp's media port received: the server's RTP, A-law as SIPp offered, not silence.
    let packets: Vec<Vec<u8>> = udp_payloads(&pcap)
        .into_iter()
        .filter(|p| p.len() >= 12 && p[0] >> 6 == 2)
        .collect();
    assert!(
        packets.len() >= 300,
        "SIPp received {} RTP packets from the server in a ~9 s call",
        packets.len()
    );
    assert!(packets.iter().all(|p| p[1] & 0x7F == 8), "all PCMA");
    let ssrc = &packets[0][8..12];
    assert!(packets.iter().all(|p| &p[8..12] == ssrc), "one SSRC");
    let loud = packets
        .iter()
        .filter(|p| {
            p[12..].iter().any(|&c| {
                let v = hotline::media::g711::alaw_decode(c);
                v.unsigned_abs() > 2000
            })
        })
        .count();
    assert!(loud >= 100, "only {loud} packets carry audible audio");

    // The digit SIPp sent after 8 s.
    let pressed = server.wait_log("caller pressed a key", 1);
    assert_eq!(pressed[0]["digit"], "1", "{pressed:?}");

    // The recording, finished when the call ended.
    let finished = server.wait_log("recording finished", 1);
    let path = finished[0]["path"].as_str().expect("path").to_string();
    assert!(
        Path::new(&path).starts_with(server.data_dir().join("recordings")),
        "{path}"
    );
    let mut wav = hound::WavReader::open(&path).expect("a readable WAV");
    let spec = wav.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.unwrap()).collect();
    let seconds = samples.len() as f64 / 2.0 / 8000.0;
    assert!(
        (7.0..=12.0).contains(&seconds),
        "recording lasts {seconds} s"
    );
    let rms = |ch: usize| channel_rms(&samples, ch);
    assert!(rms(0) > 300.0, "caller channel is silent (rms {})", rms(0));
    assert!(rms(1) > 300.0, "right channel is silent (rms {})", rms(1));

    // The call record: offered to 12345 from SIPp's number; the caller pressed 1 (order
    // status) in the greeting and hung up while asked for the order number, so it was never
    // answered by an agent: abandoned in the greeting (the flow), with the recording's path.
    let record = wait_for(Duration::from_secs(10), "the call record", || {
        let (code, body) = server.api("GET", "/api/v1/calls?from_number=sipp", None);
        assert_eq!(code, 200, "{body}");
        body["items"]
            .as_array()?
            .first()
            .filter(|r| r["disposition"].is_string())
            .cloned()
    });
    assert_eq!(record["to_number"], "12345", "{record}");
    assert_eq!(record["trunk"], "carrier", "{record}");
    assert_eq!(record["recording_path"], path.as_str(), "{record}");
    assert_eq!(record["disposition"], "abandoned", "{record}");
    assert_eq!(record["disposition_detail"], "greeting", "{record}");
    assert!(
        record["answered_at"].is_null() && record["ended_at"].is_string(),
        "{record}"
    );
    let id = record["id"].as_str().unwrap();
    let (code, detail) = server.api("GET", &format!("/api/v1/calls/{id}"), None);
    assert_eq!(code, 200, "{detail}");
    let steps: Vec<&str> = detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps.first(), Some(&"offered"), "{steps:?}");
    assert!(steps.contains(&"greeting"), "{steps:?}");
    assert_eq!(steps.last(), Some(&"ended"), "{steps:?}");
}

/// A forwarded number: SIPp `uac_pcap` (PCMA + telephone-event) calls 19999, which the server
/// bridges to a SIPp `uas` (PCMU only, echoing the RTP it gets) through the trunk. The caller's
/// audio crosses the bridge transcoded, comes back from the echo to the caller, and the
/// recording holds the caller on the left and the far end on the right.
#[test]
fn forwarded_call_is_bridged_transcoded_and_recorded() {
    let uas_port = free_port([127, 0, 0, 1].into());
    let cfg = Config::demo()
        .trunk("carrier", "outbound_proxy", format!("127.0.0.1:{uas_port}"))
        .add_number(
            "19999",
            &[("max_call_secs", 60.into()), ("forward", forward_to_9000())],
        );
    let server = Server::start(cfg, [127, 0, 0, 1].into());
    let uas_media = even_free_port();
    let callee = Sipp::new(&server.sip_target(), "uas")
        .port(uas_port)
        .args(&[
            "-mp",
            &uas_media.to_string(),
            "-mi",
            "127.0.0.1",
            "-rtp_echo",
        ])
        .limit(Duration::from_secs(40))
        .spawn();
    std::thread::sleep(Duration::from_millis(300));
    let work = tempfile::tempdir().expect("tempdir");
    let caller_media = even_free_port();
    let to_callee = work.path().join("to-callee.pcap");
    let to_caller = work.path().join("to-caller.pcap");
    let cap_callee = Capture::start(uas_media, &to_callee);
    let cap_caller = Capture::start(caller_media, &to_caller);
    let caller = Sipp::new(&server.sip_target(), "uac_pcap")
        .with_pcaps(caller_media)
        .args(&["-s", "19999"])
        .limit(Duration::from_secs(40))
        .run();
    assert_eq!(caller.code, 0, "caller SIPp failed: {}", caller.screen);
    let callee = callee.wait();
    assert_eq!(callee.code, 0, "callee SIPp failed: {}", callee.screen);
    cap_callee.stop();
    cap_caller.stop();

    let rtp = |file: &Path| -> Vec<Vec<u8>> {
        udp_payloads(file)
            .into_iter()
            .filter(|p| p.len() >= 12 && p[0] >> 6 == 2)
            .collect()
    };
    let audible =
        |p: &[u8], decode: fn(u8) -> i16| p[12..].iter().any(|&c| decode(c).unsigned_abs() > 2000);
    // The callee negotiated PCMU: the caller's A-law arrives transcoded.
    // g711a.pcap holds 236 packets; the first few may come before the far end answers.
    let at_callee = rtp(&to_callee);
    assert!(
        at_callee.len() >= 200,
        "{} packets reached the callee",
        at_callee.len()
    );
    assert!(
        at_callee.iter().all(|p| p[1] & 0x7F == 0),
        "PCMU towards the callee"
    );
    let loud = at_callee
        .iter()
        .filter(|p| audible(p, hotline::media::g711::ulaw_decode))
        .count();
    assert!(loud >= 100, "only {loud} audible packets at the callee");
    // The echo comes back to the caller as A-law.
    let at_caller = rtp(&to_caller);
    let echoed = at_caller
        .iter()
        .filter(|p| p[1] & 0x7F == 8 && audible(p, hotline::media::g711::alaw_decode))
        .count();
    assert!(
        echoed >= 100,
        "only {echoed} audible packets came back to the caller"
    );

    let finished = server.wait_log("recording finished", 1);
    let path = finished[0]["path"].as_str().expect("path").to_string();
    let mut wav = hound::WavReader::open(&path).expect("a readable WAV");
    assert_eq!(wav.spec().channels, 2);
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.unwrap()).collect();
    let rms = |ch: usize| channel_rms(&samples, ch);
    assert!(rms(0) > 300.0, "caller channel silent (rms {})", rms(0));
    assert!(rms(1) > 300.0, "far-end channel silent (rms {})", rms(1));
    // The digit was seen on the caller's leg even though the far end has no telephone-event.
    let pressed = server.wait_log("caller pressed a key", 1);
    assert_eq!(pressed[0]["digit"], "1");
}

/// The far end of a forwarded call puts it on hold and resumes it with re-INVITEs: the server
/// answers recvonly then sendrecv, the caller hears music on hold meanwhile, and the bridge
/// comes back.
#[test]
fn far_end_holds_and_resumes_a_forwarded_call() {
    let uas_port = free_port([127, 0, 0, 1].into());
    let cfg = Config::demo()
        .trunk("carrier", "outbound_proxy", format!("127.0.0.1:{uas_port}"))
        .add_number("19999", &[("forward", forward_to_9000())]);
    let server = Server::start(cfg, [127, 0, 0, 1].into());
    let callee = Sipp::new(&server.sip_target(), "uas_hold.xml")
        .port(uas_port)
        .args(&["-mp", &even_free_port().to_string(), "-mi", "127.0.0.1"])
        .limit(Duration::from_secs(40))
        .spawn();
    std::thread::sleep(Duration::from_millis(300));
    let caller = Sipp::new(&server.sip_target(), "uac_pcap")
        .with_pcaps(even_free_port())
        .args(&["-s", "19999"])
        .limit(Duration::from_secs(40))
        .run();
    assert_eq!(caller.code, 0, "caller SIPp failed: {}", caller.screen);
    let callee = callee.wait();
    assert_eq!(
        callee.code, 0,
        "callee SIPp failed: {}\n{}",
        callee.screen, callee.errors
    );
    server.wait_log("leg on hold; music on hold for the other side", 1);
    server.wait_log("recording finished", 1);
}
