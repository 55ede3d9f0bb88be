//! Media load generator for hotline (run by bench/media.sh): plays both ends of N forwarded
//! calls — the caller (UAC) dialling the server's forward number, and the callee (UAS) behind
//! the trunk's `outbound_proxy` — and sends G.711 RTP both ways through the server's bridge.
//! Every packet carries its send time, so the far side measures loss and one-way transit per
//! stream over a measurement window that starts once all calls are up.
//!
//! `mediaload callpath …` is the other mode: the full call path (callers through greeting and
//! queue to auto-answering registered agents), see `callpath/mod.rs`.
//!
//! Phases, each bounded in time: setup (INVITEs at --rate), settle, window (--hold seconds),
//! drain, teardown (BYEs at --bye-rate). Output: a human summary on stderr, and with --json
//! one JSON line on stdout.

#![recursion_limit = "256"]

mod callpath;
mod rtp;
mod sip;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::rtp::Shared;
use crate::stats::Histogram;

#[derive(Parser, Debug)]
#[command(about = "Media load generator: N bridged G.711 calls through hotline")]
struct Args {
    /// The server's SIP address (UDP).
    #[arg(long, default_value = "127.0.0.1:5060")]
    server: SocketAddr,
    /// Port of the callee side (the trunk's outbound_proxy points here).
    #[arg(long, default_value_t = 5070)]
    uas_port: u16,
    /// Number dialled (a number with `forward` in the server's configuration).
    #[arg(long, default_value = "19999")]
    number: String,
    /// Concurrent calls.
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// Call setup rate (calls per second).
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Length of the measurement window (seconds).
    #[arg(long, default_value_t = 30.0)]
    hold: f64,
    /// Wait after the last call is up before the window starts (seconds).
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
    /// Wait after the window for packets in flight (seconds).
    #[arg(long, default_value_t = 1.0)]
    drain: f64,
    /// BYEs per second at the end.
    #[arg(long, default_value_t = 500.0)]
    bye_rate: f64,
    /// Setup limit beyond calls / rate (seconds).
    #[arg(long, default_value_t = 40.0)]
    setup_grace: f64,
    /// Teardown limit beyond calls / bye-rate (seconds).
    #[arg(long, default_value_t = 20.0)]
    teardown_grace: f64,
    /// Send phases per 20 ms period.
    #[arg(long, default_value_t = 4)]
    phases: usize,
    /// Packets per sendmmsg.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// How often the receivers look for packets (microseconds), reading all that queued
    /// (kernel timestamps keep transit exact). Polling instead of sleeping in recvmmsg means
    /// the server's sendto does not have to wake a thread of ours for every packet: on
    /// loopback that wake-up would otherwise be charged to the server, which a real far end
    /// on another host never costs it. 0 = block in recvmmsg (a wake-up per packet).
    #[arg(long, default_value_t = 1000)]
    rx_poll_us: u64,
    /// Directory where the files `window-start` and `window-end` are created when the window
    /// starts and ends (for the script sampling the server).
    #[arg(long)]
    mark_dir: Option<PathBuf>,
    /// Print one JSON line with every figure on stdout.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cpu_secs() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

pub(crate) fn mark(dir: &Option<PathBuf>, name: &str) {
    if let Some(d) = dir {
        let _ = std::fs::write(d.join(name), format!("{}\n", rtp::now_ns()));
    }
}

fn pump_until(sip: &mut sip::Sip, until: Instant, done: impl Fn(&sip::Sip) -> bool) -> bool {
    while Instant::now() < until {
        sip.step();
        if done(sip) {
            return true;
        }
        sip.wait(2);
    }
    false
}

fn main() -> std::io::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("callpath") {
        return callpath::main(callpath::Args::parse_from(std::env::args().skip(1)));
    }
    let a = Args::parse();
    let n = a.calls;
    let max_streams = 2 * n;
    let t_start = Instant::now();
    let cpu_start = cpu_secs();
    let shared = Arc::new(Shared::new());
    let caller = rtp::bind_rtp()?;
    let callee = rtp::bind_rtp()?;
    let ports = (caller.local_addr()?.port(), callee.local_addr()?.port());
    let mut sip = sip::Sip::new(
        a.server,
        a.uas_port,
        &a.number,
        ports,
        n,
        a.rate,
        shared.clone(),
    )?;
    eprintln!(
        "mediaload: {n} calls to {} at {}/s; callee side {}, RTP {} / {}",
        a.server,
        a.rate,
        sip.uas_addr(),
        ports.0,
        ports.1
    );

    let rx: Vec<_> = [caller.try_clone()?, callee.try_clone()?]
        .into_iter()
        .map(|s| {
            let sh = shared.clone();
            let poll = (a.rx_poll_us > 0).then(|| Duration::from_micros(a.rx_poll_us));
            std::thread::spawn(move || rtp::receiver(sh, s, max_streams, poll))
        })
        .collect();
    let tx = {
        let sh = shared.clone();
        let (phases, batch) = (a.phases.max(1), a.batch.clamp(1, 1024));
        let socks = [caller, callee];
        std::thread::spawn(move || rtp::sender(sh, socks, phases, batch, max_streams))
    };

    // Setup.
    let setup_limit = t_start + Duration::from_secs_f64(n as f64 / a.rate + a.setup_grace);
    let setup_ok = pump_until(&mut sip, setup_limit, |s| s.setup_done());
    let setup_secs = t_start.elapsed().as_secs_f64();
    eprintln!(
        "mediaload: setup {} in {setup_secs:.1} s: {} answered, {} failed, {} callee legs",
        if setup_ok { "done" } else { "TIMED OUT" },
        sip.c.answered,
        sip.c.failed_total(),
        sip.uas_up()
    );

    // Settle, then the window.
    pump_until(
        &mut sip,
        Instant::now() + Duration::from_secs_f64(a.settle),
        |_| false,
    );
    let up_at_start = (sip.up(), sip.uas_up());
    let ws = rtp::now_ns();
    let we = ws + (a.hold * 1e9) as u64;
    shared.win_end.store(we, Ordering::Release);
    shared.win_start.store(ws, Ordering::Release);
    mark(&a.mark_dir, "window-start");
    let cpu_w0 = cpu_secs();
    let w0 = Instant::now();
    eprintln!("mediaload: window of {} s starts", a.hold);
    pump_until(&mut sip, w0 + Duration::from_secs_f64(a.hold), |_| false);
    let window_secs = w0.elapsed().as_secs_f64();
    let cpu_window = cpu_secs() - cpu_w0;
    mark(&a.mark_dir, "window-end");
    let up_at_end = (sip.up(), sip.uas_up());
    shared.stop_send.store(true, Ordering::Relaxed);
    let sent = tx.join().expect("sender thread");
    pump_until(
        &mut sip,
        Instant::now() + Duration::from_secs_f64(a.drain),
        |_| false,
    );
    shared.stop_recv.store(true, Ordering::Relaxed);
    let rx: Vec<rtp::RxReport> = rx
        .into_iter()
        .map(|h| h.join().expect("receiver thread"))
        .collect();

    // Teardown.
    sip.start_byes(a.bye_rate);
    let td_limit =
        Instant::now() + Duration::from_secs_f64(n as f64 / a.bye_rate + a.teardown_grace);
    let teardown_ok = pump_until(&mut sip, td_limit, |s| s.teardown_done());
    let cpu_total = cpu_secs() - cpu_start;
    let wall_total = t_start.elapsed().as_secs_f64();

    // Figures.
    let mut hist = Histogram::new();
    let mut streams = vec![stats::RxStream::default(); max_streams];
    let (mut unmarked, mut outside, mut total, mut no_ts) = (0, 0, 0, 0);
    for r in &rx {
        hist.merge(&r.hist);
        for (s, x) in streams.iter_mut().zip(&r.streams) {
            if x.received > 0 {
                *s = *x;
            }
        }
        unmarked += r.unmarked;
        outside += r.outside;
        total += r.total;
        no_ts += r.no_timestamp;
    }
    let sum = stats::summarize(&sent.sent, &streams);
    let ms = |us: u64| us as f64 / 1000.0;
    let p50 = hist.quantile_us(0.5);
    let p99 = hist.quantile_us(0.99);
    let loss_pct = if sum.sent > 0 {
        100.0 * sum.lost as f64 / sum.sent as f64
    } else {
        0.0
    };
    let c = &sip.c;
    let failed = c.failed_total()
        + c.server_byes
        + c.bye_failed
        + c.uas_no_ack
        + c.uas_rejected
        + sip.uas_without_bye();
    let gen_cores = cpu_window / window_secs;
    eprintln!(
        "mediaload: {} calls up at window start ({} callee legs), {} at end; {} streams\n\
         \x20 packets in window: sent {} received {} lost {} ({loss_pct:.4} %), {} streams with loss, {} duplicates, {} reordered\n\
         \x20 transit p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms; added jitter (p99 - p50) {:.3} ms\n\
         \x20 RFC 3550 jitter per stream: max {:.3} ms, p99 {:.3} ms\n\
         \x20 other packets: {unmarked} without marker (music on hold), {outside} outside the window, {no_ts} without kernel timestamp\n\
         \x20 sender: {} packets, {} errors, worst wake-up {:.1} ms late, {} phases > 5 ms late\n\
         \x20 SIP: {} INVITEs ({} retransmitted), failed {:?}, {} hung up by the server, BYEs {} ok / {} failed, callee legs {} (no ACK {}, no BYE {})\n\
         \x20 teardown {}; generator CPU {:.3} cores in the window ({:.1} s CPU of {:.1} s in all)",
        up_at_start.0,
        up_at_start.1,
        up_at_end.0,
        sum.streams,
        sum.sent,
        sum.received,
        sum.lost,
        sum.streams_with_loss,
        sum.extra,
        sum.reordered,
        ms(p50),
        ms(p99),
        ms(hist.quantile_us(0.999)),
        ms(hist.max_us()),
        ms(p99 - p50),
        sum.jitter_max_ms,
        sum.jitter_p99_ms,
        sent.packets,
        sent.errors,
        ms(sent.max_late_us),
        sent.late_phases,
        c.invites,
        c.invite_retx,
        c.failed,
        c.server_byes,
        c.bye_ok,
        c.bye_failed,
        c.uas_invites,
        c.uas_no_ack,
        sip.uas_without_bye(),
        if teardown_ok { "done" } else { "TIMED OUT" },
        gen_cores,
        cpu_total,
        wall_total,
    );
    if a.json {
        let j = serde_json::json!({
            "calls": n,
            "rate": a.rate,
            "hold_s": a.hold,
            "setup_ok": setup_ok,
            "setup_s": setup_secs,
            "answered": c.answered,
            "up_at_start": up_at_start.0,
            "callee_up_at_start": up_at_start.1,
            "up_at_end": up_at_end.0,
            "streams": sum.streams,
            "sent": sum.sent,
            "received": sum.received,
            "lost": sum.lost,
            "loss_pct": loss_pct,
            "streams_with_loss": sum.streams_with_loss,
            "duplicates": sum.extra,
            "reordered": sum.reordered,
            "transit_p50_ms": ms(p50),
            "transit_p99_ms": ms(p99),
            "transit_p999_ms": ms(hist.quantile_us(0.999)),
            "transit_max_ms": ms(hist.max_us()),
            "added_jitter_ms": ms(p99 - p50),
            "rfc3550_jitter_max_ms": sum.jitter_max_ms,
            "rfc3550_jitter_p99_ms": sum.jitter_p99_ms,
            "negative_transit": hist.negative(),
            "unmarked": unmarked,
            "outside_window": outside,
            "rx_total": total,
            "no_kernel_timestamp": no_ts,
            "tx_packets": sent.packets,
            "tx_errors": sent.errors,
            "tx_max_late_ms": ms(sent.max_late_us),
            "tx_late_phases": sent.late_phases,
            "invites": c.invites,
            "invite_retx": c.invite_retx,
            "re_acks": c.re_acks,
            "failed_by_reason": c.failed,
            "server_byes": c.server_byes,
            "byes": c.byes,
            "bye_retx": c.bye_retx,
            "bye_ok": c.bye_ok,
            "bye_failed": c.bye_failed,
            "uas_invites": c.uas_invites,
            "uas_invite_retx": c.uas_invite_retx,
            "uas_ok_retx": c.uas_ok_retx,
            "uas_no_ack": c.uas_no_ack,
            "uas_rejected": c.uas_rejected,
            "uas_without_bye": sip.uas_without_bye(),
            "other_requests": c.other_requests,
            "unparsable": c.unparsable,
            "failed_calls": failed,
            "teardown_ok": teardown_ok,
            "gen_cores_window": gen_cores,
            "gen_cpu_s": cpu_total,
            "wall_s": wall_total,
        });
        println!("{j}");
    }
    Ok(())
}
