//! The engine over real loopback sockets: relay with rewriting and transcoding, DTMF in both
//! directions, latching, prompt pacing, barge-in, recording, mixing, RTP timeout, ports.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::*;
use crate::media::dtmf::{Digit, TelephoneEvent};
use crate::media::g711;
use crate::media::prompt::{Item, Player, Playlist, PromptLibrary};
use crate::media::rtp::{RtpHeader, RtpPacket};
use crate::media::sdp::{Direction, MediaParams, G711};

/// Each test gets its own port range so that tests can run in parallel.
fn engine(first_port: u16, timeout: Duration) -> (MediaEngine, UnboundedReceiver<MediaEvent>) {
    let (tx, rx) = unbounded_channel();
    let e = MediaEngine::start(
        MediaConfig {
            bind_ip: [127, 0, 0, 1].into(),
            public_ip: [127, 0, 0, 1].into(),
            ports: (first_port, first_port + 39),
            shards: 2,
            rtp_timeout: timeout,
            jitter: JitterConfig::default(),
        },
        tx,
    )
    .unwrap();
    (e, rx)
}

fn peer() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

fn params(remote: &UdpSocket, codec: G711, dtmf_pt: Option<u8>) -> MediaParams {
    let addr = remote.local_addr().unwrap();
    MediaParams {
        remote_rtp: Some(addr),
        remote_rtcp: Some(SocketAddr::new(addr.ip(), addr.port() + 1)),
        codec,
        dtmf_pt,
        ptime_ms: 20,
        direction: Direction::SendRecv,
    }
}

fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 12 + payload.len()];
    RtpHeader {
        marker,
        payload_type: pt,
        seq,
        timestamp: ts,
        ssrc,
    }
    .write(&mut buf);
    buf[12..].copy_from_slice(payload);
    buf
}

fn recv(s: &UdpSocket) -> Option<(RtpHeader, Vec<u8>)> {
    let mut buf = [0u8; 2048];
    let n = s.recv(&mut buf).ok()?;
    let (h, p) = RtpPacket::parse(&buf[..n]).ok()?;
    Some((h, p.to_vec()))
}

fn tone(freq: f64, n: usize, offset: usize, amp: f64) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = (i + offset) as f64 / 8000.0;
            (amp * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
        })
        .collect()
}

async fn next_event(rx: &mut UnboundedReceiver<MediaEvent>) -> MediaEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a media event in time")
        .expect("engine running")
}

/// Waits until the engine has applied earlier commands (they are processed in order).
async fn settle(e: &MediaEngine, id: StreamId) {
    e.stream_stats(id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_relays_with_rewriting_and_transcoding_and_passes_dtmf() {
    let (e, mut ev) = engine(42000, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let b = e.allocate(Some(a.id)).unwrap();
    assert_eq!(a.id.shard, b.id.shard);
    assert_eq!(a.addr.port() % 2, 0);
    let (pa, pb) = (peer(), peer());
    e.configure(a.id, params(&pa, G711::Pcmu, Some(101)));
    e.configure(b.id, params(&pb, G711::Pcma, Some(96)));
    e.bridge(a.id, b.id).unwrap();
    settle(&e, a.id).await;

    let pcm = tone(440.0, 160, 0, 8000.0);
    let mut ulaw = [0u8; 160];
    g711::encode_ulaw(&pcm, &mut ulaw);
    let mut seen = Vec::new();
    for k in 0..5u16 {
        pa.send_to(
            &packet(0, 100 + k, 1000 + 160 * u32::from(k), 0x1111, k == 0, &ulaw),
            a.addr,
        )
        .unwrap();
        let (h, p) = recv(&pb).expect("relayed packet");
        assert_eq!(h.payload_type, 8, "PCMA towards b");
        let expect: Vec<u8> = ulaw.iter().map(|&c| g711::ulaw_to_alaw(c)).collect();
        assert_eq!(p, expect, "transcoded payload");
        assert_ne!(h.ssrc, 0x1111, "our own SSRC towards b");
        seen.push(h);
    }
    for w in seen.windows(2) {
        assert_eq!(w[1].ssrc, w[0].ssrc);
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
        assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(160));
    }
    assert!(seen[0].marker);

    // The other way, PCMA to PCMU.
    let mut alaw = [0u8; 160];
    g711::encode_alaw(&pcm, &mut alaw);
    pb.send_to(&packet(8, 7, 7, 0x2222, false, &alaw), b.addr)
        .unwrap();
    let (h, p) = recv(&pa).expect("relayed back");
    assert_eq!(h.payload_type, 0);
    assert_eq!(
        p,
        alaw.iter()
            .map(|&c| g711::alaw_to_ulaw(c))
            .collect::<Vec<_>>()
    );

    // A digit from a: relayed to b with b's telephone-event type, and reported.
    let mut ev_payload = [0u8; 4];
    TelephoneEvent::from_digit(Digit::D5, false, 10, 160).write(&mut ev_payload);
    pa.send_to(&packet(101, 105, 2000, 0x1111, true, &ev_payload), a.addr)
        .unwrap();
    let (h, p) = recv(&pb).expect("relayed event");
    assert_eq!(h.payload_type, 96);
    assert_eq!(p, ev_payload);
    let got = next_event(&mut ev).await;
    assert_eq!(got.stream, a.id);
    assert_eq!(got.kind, MediaEventKind::Dtmf(Digit::D5));
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latches_to_the_first_source_and_drops_others() {
    let (e, _ev) = engine(42040, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let b = e.allocate(Some(a.id)).unwrap();
    let (pa, pb, intruder) = (peer(), peer(), peer());
    // SDP says one address, the packets come from another (NAT): follow the packets.
    let sdp_side = peer();
    e.configure(a.id, params(&sdp_side, G711::Pcmu, None));
    e.configure(b.id, params(&pb, G711::Pcmu, None));
    e.bridge(a.id, b.id).unwrap();
    settle(&e, a.id).await;
    pa.send_to(&packet(0, 1, 0, 9, false, &[0xFF; 160]), a.addr)
        .unwrap();
    assert!(recv(&pb).is_some());
    intruder
        .send_to(&packet(0, 2, 160, 9, false, &[0xFF; 160]), a.addr)
        .unwrap();
    // b's audio goes to where a's packets came from, not to the SDP address.
    pb.send_to(&packet(0, 1, 0, 5, false, &[0xFF; 160]), b.addr)
        .unwrap();
    assert!(recv(&pa).is_some());
    let stats = e.stream_stats(a.id).await.unwrap();
    assert_eq!(stats.counters.rx_foreign, 1);
    assert_eq!(stats.counters.rx_packets, 1);
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_is_paced_at_20_ms_and_exact() {
    let (e, mut ev) = engine(42080, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let pa = peer();
    e.configure(a.id, params(&pa, G711::Pcma, None));
    let samples = tone(1000.0, 8000, 0, 6000.0); // 1 s = 50 frames
    let mut lib = PromptLibrary::empty();
    lib.insert("zh", "beep", samples.clone());
    let playlist = Playlist {
        items: vec![Item::Prompt("beep".into())],
        looped: false,
        barge_in: false,
    };
    let token = e.play(a.id, Player::new(&lib, "zh", &playlist).unwrap());
    let mut got = Vec::new();
    let mut arrivals = Vec::new();
    while got.len() < 50 {
        let (h, p) = recv(&pa).expect("prompt frame");
        arrivals.push(Instant::now());
        got.push((h, p));
    }
    for (k, (h, p)) in got.iter().enumerate() {
        assert_eq!(h.payload_type, 8);
        let mut expect = [0u8; 160];
        g711::encode_alaw(&samples[k * 160..(k + 1) * 160], &mut expect);
        assert_eq!(p[..], expect[..], "frame {k}");
        if k > 0 {
            assert_eq!(h.seq, got[k - 1].0.seq.wrapping_add(1));
            assert_eq!(h.timestamp, got[k - 1].0.timestamp.wrapping_add(160));
        }
    }
    let span = arrivals[49] - arrivals[0];
    assert!(
        span > Duration::from_millis(900) && span < Duration::from_millis(1100),
        "49 frame intervals took {span:?}"
    );
    let done = next_event(&mut ev).await;
    assert!(
        matches!(done.kind, MediaEventKind::PlayFinished { end: PlayEnd::Done, play } if play == token),
        "{done:?}"
    );
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digit_barges_in_on_a_prompt() {
    let (e, mut ev) = engine(42120, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let pa = peer();
    e.configure(a.id, params(&pa, G711::Pcmu, Some(101)));
    let mut lib = PromptLibrary::empty();
    lib.insert("en", "menu", tone(500.0, 800, 0, 3000.0));
    let playlist = Playlist {
        items: vec![Item::Prompt("menu".into())],
        looped: true,
        barge_in: true,
    };
    e.play(a.id, Player::new(&lib, "en", &playlist).unwrap());
    recv(&pa).expect("prompt plays");
    let mut p = [0u8; 4];
    TelephoneEvent::from_digit(Digit::Star, false, 10, 160).write(&mut p);
    pa.send_to(&packet(101, 1, 0, 3, true, &p), a.addr).unwrap();
    let first = next_event(&mut ev).await;
    let second = next_event(&mut ev).await;
    assert_eq!(first.kind, MediaEventKind::Dtmf(Digit::Star));
    assert!(matches!(
        second.kind,
        MediaEventKind::PlayFinished {
            end: PlayEnd::Barged,
            ..
        }
    ));
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_rfc4733_digits_with_three_end_packets() {
    let (e, _ev) = engine(42160, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let pa = peer();
    e.configure(a.id, params(&pa, G711::Pcmu, Some(101)));
    e.send_dtmf(a.id, &[Digit::D1, Digit::Hash]);
    let mut events = Vec::new();
    while events.len() < 2 * 8 {
        let (h, p) = recv(&pa).expect("event packet");
        assert_eq!(h.payload_type, 101);
        let te = TelephoneEvent::parse(&p).unwrap();
        events.push((h, te));
        if events.iter().filter(|(_, t)| t.end).count() == 6 {
            break;
        }
    }
    let digits: Vec<_> = events
        .iter()
        .filter(|(h, _)| h.marker)
        .map(|(_, t)| t.digit().unwrap())
        .collect();
    assert_eq!(digits, vec![Digit::D1, Digit::Hash]);
    for d in [Digit::D1, Digit::Hash] {
        let of: Vec<_> = events
            .iter()
            .filter(|(_, t)| t.digit() == Some(d))
            .collect();
        assert!(of.iter().all(|(h, _)| h.timestamp == of[0].0.timestamp));
        assert_eq!(of.iter().filter(|(_, t)| t.end).count(), 3);
    }
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixes_two_sources_for_a_third_party() {
    let (e, _ev) = engine(42200, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let b = e.allocate(Some(a.id)).unwrap();
    let s = e.allocate(Some(a.id)).unwrap();
    let (pa, pb, ps) = (peer(), peer(), peer());
    for (id, p) in [(a.id, &pa), (b.id, &pb), (s.id, &ps)] {
        e.configure(id, params(p, G711::Pcmu, None));
    }
    e.bridge(a.id, b.id).unwrap();
    e.mix(s.id, &[a.id, b.id]).unwrap();
    settle(&e, a.id).await;
    // Both parties talk for 1 s; the supervisor hears both.
    let ta = tone(300.0, 8000, 0, 4000.0);
    let tb = tone(1300.0, 8000, 0, 4000.0);
    let start = Instant::now();
    let mut heard: Vec<i16> = Vec::new();
    ps.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    for k in 0..50usize {
        let mut fa = [0u8; 160];
        let mut fb = [0u8; 160];
        g711::encode_ulaw(&ta[k * 160..(k + 1) * 160], &mut fa);
        g711::encode_ulaw(&tb[k * 160..(k + 1) * 160], &mut fb);
        let ts = 160 * k as u32;
        pa.send_to(&packet(0, k as u16, ts, 1, false, &fa), a.addr)
            .unwrap();
        pb.send_to(&packet(0, k as u16, ts, 2, false, &fb), b.addr)
            .unwrap();
        while let Some((_, p)) = recv(&ps) {
            let mut pcm = [0i16; 160];
            g711::decode_ulaw(&p, &mut pcm[..p.len()]);
            heard.extend_from_slice(&pcm[..p.len()]);
        }
        let due = start + Duration::from_millis(20 * (k as u64 + 1));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    assert!(
        heard.len() >= 40 * 160,
        "supervisor got {} samples",
        heard.len()
    );
    // Energy at both tones' frequencies (Goertzel) in the middle of what was heard.
    let mid = &heard[heard.len() / 4..heard.len() * 3 / 4];
    let power = |f: f64| {
        let w = 2.0 * std::f64::consts::PI * f / 8000.0;
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in mid {
            let s0 = f64::from(x) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2) / mid.len() as f64
    };
    let (p300, p1300, p800) = (power(300.0), power(1300.0), power(800.0));
    assert!(p300 > 100.0 * p800, "caller in the mix: {p300} vs {p800}");
    assert!(p1300 > 100.0 * p800, "agent in the mix: {p1300} vs {p800}");
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_stream_times_out_and_ports_come_back() {
    let (e, mut ev) = engine(42240, Duration::from_millis(300));
    let a = e.allocate(None).unwrap();
    let pa = peer();
    e.configure(a.id, params(&pa, G711::Pcmu, None));
    let got = next_event(&mut ev).await;
    assert_eq!(got.kind, MediaEventKind::RtpTimeout);
    assert_eq!(got.stream, a.id);
    // 40 ports = 20 pairs; one is taken.
    let mut taken = vec![a];
    while let Ok(s) = e.allocate(None) {
        taken.push(s);
    }
    assert_eq!(taken.len(), 20);
    assert!(matches!(e.allocate(None), Err(MediaError::NoPorts)));
    e.release(taken[3].id);
    settle(&e, taken[0].id).await;
    settle(&e, taken[1].id).await;
    let again = e.allocate(None).unwrap();
    assert_eq!(again.addr.port(), taken[3].addr.port());
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_a_bridged_call_caller_left_agent_right() {
    use crate::media::recorder::{Recorder, RecorderConfig, RecorderEvent};
    let dir = tempfile::tempdir().unwrap();
    let (rtx, mut rrx) = unbounded_channel();
    let rec = Recorder::start(
        RecorderConfig {
            root: dir.path().to_path_buf(),
            ..RecorderConfig::default()
        },
        rtx,
    )
    .unwrap();
    let (e, _ev) = engine(42280, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let b = e.allocate(Some(a.id)).unwrap();
    let (pa, pb) = (peer(), peer());
    e.configure(a.id, params(&pa, G711::Pcmu, None));
    e.configure(b.id, params(&pb, G711::Pcma, None));
    e.bridge(a.id, b.id).unwrap();
    e.record(a.id, rec.open("call-1@test", 2, chrono::Utc::now()));
    settle(&e, a.id).await;
    // 1 s of talk both ways, paced in real time: 440 Hz from the caller, 1 kHz from the agent.
    let (ta, tb) = (tone(440.0, 8000, 0, 5000.0), tone(1000.0, 8000, 0, 5000.0));
    let start = Instant::now();
    for k in 0..50usize {
        let (mut fa, mut fb) = ([0u8; 160], [0u8; 160]);
        g711::encode_ulaw(&ta[k * 160..(k + 1) * 160], &mut fa);
        g711::encode_alaw(&tb[k * 160..(k + 1) * 160], &mut fb);
        let ts = 160 * k as u32;
        pa.send_to(&packet(0, k as u16, ts, 1, false, &fa), a.addr)
            .unwrap();
        pb.send_to(&packet(8, k as u16, ts, 2, false, &fb), b.addr)
            .unwrap();
        let due = start + Duration::from_millis(20 * (k as u64 + 1));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    e.release(a.id);
    e.release(b.id);
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), rrx.recv()).await {
            Ok(Some(RecorderEvent::Closed { path, samples, .. })) => break (path, samples),
            Ok(Some(_)) => {}
            other => panic!("no Closed event: {other:?}"),
        }
    };
    assert!(closed.1 >= 40 * 160, "{} samples recorded", closed.1);
    let mut r = hound::WavReader::open(&closed.0).unwrap();
    assert_eq!(r.spec().channels, 2);
    let s: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = s.iter().step_by(2).copied().collect();
    let right: Vec<i16> = s.iter().skip(1).step_by(2).copied().collect();
    // Zero crossings tell the two tones apart: 440 Hz ≈ 880/s, 1 kHz ≈ 2000/s.
    let crossings_per_sec = |v: &[i16]| {
        let mid = &v[v.len() / 4..v.len() * 3 / 4];
        let n = mid.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        n as f64 * 8000.0 / mid.len() as f64
    };
    let (cl, cr) = (crossings_per_sec(&left), crossings_per_sec(&right));
    assert!(
        (800.0..960.0).contains(&cl),
        "left is the caller's 440 Hz: {cl}"
    );
    assert!(
        (1850.0..2150.0).contains(&cr),
        "right is the agent's 1 kHz: {cr}"
    );
    rec.shutdown();
    e.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_stats_sum_rtp_received_and_lost_over_open_and_closed_streams() {
    let (e, _ev) = engine(42400, Duration::from_secs(60));
    let a = e.allocate(None).unwrap();
    let pa = peer();
    e.configure(a.id, params(&pa, G711::Pcmu, None));
    settle(&e, a.id).await;
    // Ten packets with two sequence numbers missing (3 and 7): 8 received, 2 lost.
    for seq in [1u16, 2, 4, 5, 6, 8, 9, 10] {
        pa.send_to(
            &packet(0, seq, u32::from(seq) * 160, 77, false, &[0xFF; 160]),
            a.addr,
        )
        .unwrap();
    }
    // Published at the next 200 ms housekeeping round.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut s = e.stats();
    while s.rx_packets < 8 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        s = e.stats();
    }
    assert_eq!((s.rx_packets, s.rx_lost, s.rx_streams), (8, 2, 1), "{s:?}");
    assert!(s.rx_jitter_ms >= 0.0);
    // Closed, the stream's figures stay in the totals; it no longer counts for the jitter.
    e.release(a.id);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while e.stats().rx_streams > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = e.stats();
    assert_eq!((s.rx_packets, s.rx_lost, s.rx_streams), (8, 2, 0), "{s:?}");
    assert_eq!(s.rx_jitter_ms, 0.0);
    e.shutdown();
}
