//! `mediaload callpath`: the full call path under load (run by bench/callpath.sh). Plays
//! both ends of N inbound calls through the server's call flow: callers dialling the queue's
//! number from a trunk address, and the registered agents' softphones that auto-answer the
//! calls the queue offers them; G.711 RTP both ways.
//!
//! Two kinds of run:
//! * **concurrency** (no `--hangup-after`): register the agents; place N calls at --rate;
//!   wait until every call is bridged to an agent (greeting, recording notice, queue, ring,
//!   answer) or --reach-limit passed; settle; a measurement window of --hold seconds in which
//!   every bridged call's RTP is counted both ways (loss, transit); drain; BYEs at
//!   --bye-rate.
//! * **setup rate** (`--hangup-after S`): place N calls at --rate; each caller hangs up S
//!   seconds after its 200 (in the greeting when S is shorter than it). The window marks span
//!   the first INVITE to the last call's end.
//!
//! Output: a human summary on stderr and with --json one JSON line on stdout.

mod agents;
mod callers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::rtp::{self, Shared};
use crate::stats::{self, Histogram};
use agents::Agents;
use callers::Callers;

#[derive(Parser, Debug)]
#[command(
    name = "mediaload callpath",
    about = "Call-path load: callers through greeting and queue to auto-answering agents"
)]
pub struct Args {
    /// The server's SIP address (UDP).
    #[arg(long, default_value = "127.0.0.1:5060")]
    server: SocketAddr,
    /// Number dialled (a `[[numbers]]` entry whose queue the agents serve).
    #[arg(long, default_value = "12345")]
    number: String,
    /// Calls.
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// Agents registered (`<agent-prefix>0001…`).
    #[arg(long, default_value_t = 100)]
    agents: usize,
    #[arg(long, default_value = "a")]
    agent_prefix: String,
    /// Each agent's password is this followed by its user name.
    #[arg(long, default_value = "pw-")]
    password_prefix: String,
    /// Expires asked for in REGISTER (refreshed at half what the server grants).
    #[arg(long, default_value_t = 3600)]
    register_expires: u32,
    /// REGISTERs per second.
    #[arg(long, default_value_t = 500.0)]
    register_rate: f64,
    /// Agents answer this long after the INVITE (milliseconds; 180 Ringing meanwhile).
    #[arg(long, default_value_t = 0)]
    answer_delay_ms: u64,
    /// Call setup rate (calls per second).
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Setup-rate run: every caller hangs up this long after its 200 (seconds).
    #[arg(long)]
    hangup_after: Option<f64>,
    /// Concurrency run: a call not bridged to an agent this long after the last INVITE
    /// (seconds) counts as never reaching one.
    #[arg(long, default_value_t = 60.0)]
    reach_limit: f64,
    /// Concurrency run: length of the measurement window (seconds).
    #[arg(long, default_value_t = 30.0)]
    hold: f64,
    /// Concurrency run: wait after the last call is bridged before the window (seconds).
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
    /// Wait after the window for packets in flight (seconds).
    #[arg(long, default_value_t = 1.0)]
    drain: f64,
    /// BYEs per second at the end of a concurrency run.
    #[arg(long, default_value_t = 500.0)]
    bye_rate: f64,
    /// Teardown limit beyond calls / bye-rate (seconds).
    #[arg(long, default_value_t = 20.0)]
    teardown_grace: f64,
    /// Send phases per 20 ms period.
    #[arg(long, default_value_t = 4)]
    phases: usize,
    /// Packets per sendmmsg.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// How often the receivers look for packets (microseconds; 0 = block in recvmmsg).
    #[arg(long, default_value_t = 1000)]
    rx_poll_us: u64,
    /// Directory where `window-start` and `window-end` are created.
    #[arg(long)]
    mark_dir: Option<PathBuf>,
    /// Print one JSON line with every figure on stdout.
    #[arg(long)]
    json: bool,
}

/// Drives both SIP sides until `until` or `done`.
struct Pump {
    callers: Callers,
    agents: Agents,
    last_timers: Instant,
}

impl Pump {
    fn step(&mut self) {
        let now = Instant::now();
        let timers = now - self.last_timers >= Duration::from_millis(10);
        if timers {
            self.last_timers = now;
        }
        self.callers.step(now, timers);
        self.agents.step(now, timers);
    }

    fn wait(&self, ms: i32) {
        use std::os::fd::AsRawFd;
        let mut fds = [self.callers.socket(), self.agents.socket()].map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    }

    fn until(&mut self, until: Instant, done: impl Fn(&Pump) -> bool) -> bool {
        while Instant::now() < until {
            self.step();
            if done(self) {
                return true;
            }
            self.wait(2);
        }
        false
    }
}

fn quantiles_ms(v: &mut [f64]) -> (f64, f64, f64) {
    let max = v.iter().copied().fold(0.0, f64::max);
    (stats::quantile(v, 0.5), stats::quantile(v, 0.99), max)
}

pub fn main(a: Args) -> std::io::Result<()> {
    let n = a.calls;
    let max_streams = 2 * n;
    let t_start = Instant::now();
    let shared = Arc::new(Shared::new());
    let caller_rtp = rtp::bind_rtp()?;
    let agent_rtp = rtp::bind_rtp()?;
    let ports = (
        caller_rtp.local_addr()?.port(),
        agent_rtp.local_addr()?.port(),
    );
    let hangup_after = a.hangup_after.map(Duration::from_secs_f64);
    let mut p = Pump {
        callers: Callers::new(
            a.server,
            &a.number,
            ports.0,
            n,
            hangup_after,
            shared.clone(),
        )?,
        agents: Agents::new(
            a.server,
            ports.1,
            a.agents,
            &a.agent_prefix,
            &a.password_prefix,
            a.register_expires,
            Duration::from_millis(a.answer_delay_ms),
            n,
            shared.clone(),
        )?,
        last_timers: t_start,
    };
    eprintln!(
        "mediaload callpath: {} agents, {n} calls to {} at {}/s ({}); RTP {} / {}",
        a.agents,
        a.server,
        a.rate,
        match a.hangup_after {
            Some(s) => format!("each hung up {s} s after the answer"),
            None => format!("window {} s once all are bridged", a.hold),
        },
        ports.0,
        ports.1
    );
    let rx: Vec<_> = [caller_rtp.try_clone()?, agent_rtp.try_clone()?]
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
        let socks = [caller_rtp, agent_rtp];
        std::thread::spawn(move || rtp::sender(sh, socks, phases, batch, max_streams))
    };

    // Agents.
    p.agents.start(a.register_rate);
    let reg_limit =
        Instant::now() + Duration::from_secs_f64(a.agents as f64 / a.register_rate + 40.0);
    let reg_ok = p.until(reg_limit, |p| p.agents.registration_done());
    let registered = p.agents.registered();
    eprintln!(
        "mediaload callpath: {registered} of {} agents registered{} ({} challenges, {} retransmissions, failed {:?})",
        a.agents,
        if reg_ok { "" } else { " (TIMED OUT)" },
        p.agents.c.challenges,
        p.agents.c.register_retx,
        p.agents.c.register_failed
    );
    std::thread::sleep(Duration::from_millis(500));

    // Calls.
    let cpu0 = super::cpu_secs();
    let launch_at = Instant::now();
    p.callers.start(a.rate);
    let (window_secs, cpu_window);
    let (mut bridged_at_start, mut setup_ok) = (0, true);
    let teardown_ok;
    let mut sent;
    if let Some(after) = a.hangup_after {
        super::mark(&a.mark_dir, "window-start");
        let limit = launch_at + Duration::from_secs_f64(n as f64 / a.rate + after + 60.0);
        teardown_ok = p.until(limit, |p| p.callers.all_over());
        super::mark(&a.mark_dir, "window-end");
        window_secs = launch_at.elapsed().as_secs_f64();
        cpu_window = super::cpu_secs() - cpu0;
        shared.stop_send.store(true, Ordering::Relaxed);
        sent = tx.join().expect("sender thread");
        p.until(Instant::now() + Duration::from_secs_f64(a.drain), |_| false);
        shared.stop_recv.store(true, Ordering::Relaxed);
    } else {
        let limit = launch_at + Duration::from_secs_f64(n as f64 / a.rate + a.reach_limit);
        setup_ok =
            p.until(limit, |p| {
                p.callers.setup_done()
                    && p.callers.calls.iter().enumerate().all(|(i, c)| {
                        c.state != callers::State::Up || p.agents.bridged[i].is_some()
                    })
            });
        eprintln!(
            "mediaload callpath: setup {} in {:.1} s: {} answered, {} failed, {} bridged to an agent",
            if setup_ok { "done" } else { "TIMED OUT" },
            launch_at.elapsed().as_secs_f64(),
            p.callers.c.answered,
            p.callers.c.failed_total(),
            p.agents.bridged.iter().filter(|b| b.is_some()).count()
        );
        p.until(Instant::now() + Duration::from_secs_f64(a.settle), |_| {
            false
        });
        let ws = rtp::now_ns();
        shared
            .win_end
            .store(ws + (a.hold * 1e9) as u64, Ordering::Release);
        shared.win_start.store(ws, Ordering::Release);
        let bridged_now: Vec<bool> = (0..n)
            .map(|i| {
                p.callers.calls[i].state == callers::State::Up && p.agents.bridged[i].is_some()
            })
            .collect();
        bridged_at_start = bridged_now.iter().filter(|b| **b).count();
        super::mark(&a.mark_dir, "window-start");
        let cpu_w0 = super::cpu_secs();
        let w0 = Instant::now();
        eprintln!(
            "mediaload callpath: window of {} s starts with {bridged_at_start} bridged calls",
            a.hold
        );
        p.until(w0 + Duration::from_secs_f64(a.hold), |_| false);
        window_secs = w0.elapsed().as_secs_f64();
        cpu_window = super::cpu_secs() - cpu_w0;
        super::mark(&a.mark_dir, "window-end");
        shared.stop_send.store(true, Ordering::Relaxed);
        sent = tx.join().expect("sender thread");
        // Only calls bridged through the whole window count for loss (the others' RTP goes
        // to a caller hearing prompts, or to nobody).
        for (i, b) in bridged_now.iter().enumerate() {
            if !b {
                sent.sent[2 * i] = 0;
                sent.sent[2 * i + 1] = 0;
            }
        }
        p.until(Instant::now() + Duration::from_secs_f64(a.drain), |_| false);
        shared.stop_recv.store(true, Ordering::Relaxed);
        p.callers.start_byes(a.bye_rate);
        let td_limit =
            Instant::now() + Duration::from_secs_f64(n as f64 / a.bye_rate + a.teardown_grace);
        teardown_ok = p.until(td_limit, |p| {
            p.callers.teardown_done() && p.agents.open_legs() == 0
        });
    }
    let rx: Vec<rtp::RxReport> = rx
        .into_iter()
        .map(|h| h.join().expect("receiver thread"))
        .collect();

    // Figures.
    let mut hist = Histogram::new();
    let mut streams = vec![stats::RxStream::default(); max_streams];
    let (mut unmarked, mut outside) = (0u64, 0u64);
    for r in &rx {
        hist.merge(&r.hist);
        for (s, x) in streams.iter_mut().zip(&r.streams) {
            if x.received > 0 {
                *s = *x;
            }
        }
        unmarked += r.unmarked;
        outside += r.outside;
    }
    let sum = stats::summarize(&sent.sent, &streams);
    let ms = |us: u64| us as f64 / 1000.0;
    let (cc, ac) = (&p.callers.c, &p.agents.c);
    let mut setup: Vec<f64> = p
        .callers
        .setup_us
        .iter()
        .map(|&u| u as f64 / 1000.0)
        .collect();
    let (setup_p50, setup_p99, setup_max) = quantiles_ms(&mut setup);
    // Answer → offered to an agent (greeting + recording notice + queue).
    let mut to_agent: Vec<f64> = p
        .callers
        .calls
        .iter()
        .zip(&p.agents.offered)
        .filter_map(|(c, o)| {
            Some((o.as_ref()?.saturating_duration_since(c.answered?)).as_secs_f64())
        })
        .collect();
    let (to_agent_p50, to_agent_p99, to_agent_max) = quantiles_ms(&mut to_agent);
    let answered_calls = p
        .callers
        .calls
        .iter()
        .filter(|c| c.answered.is_some())
        .count();
    let never_reached = if a.hangup_after.is_none() {
        p.callers
            .calls
            .iter()
            .enumerate()
            .filter(|(i, c)| c.answered.is_some() && p.agents.bridged[*i].is_none())
            .count()
    } else {
        0
    };
    // Each call counts once, for the first thing that went wrong with it.
    let failed_calls = p
        .callers
        .calls
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            c.state == callers::State::Failed
                || (a.hangup_after.is_none()
                    && c.answered.is_some()
                    && p.agents.bridged[*i].is_none())
                || c.server_hangup
                || c.bye_failed
                || p.agents.no_ack[*i]
        })
        .count();
    let failed_pct = 100.0 * failed_calls as f64 / n.max(1) as f64;
    let gen_cores = cpu_window / window_secs.max(1e-9);
    eprintln!(
        "mediaload callpath: {answered_calls} answered, {never_reached} never bridged to an agent, {failed_calls} failed ({failed_pct:.2} %)\n\
         \x20 setup INVITE→200 p50 {setup_p50:.2} ms p99 {setup_p99:.2} ms max {setup_max:.2} ms; answer→agent offer p50 {to_agent_p50:.2} s p99 {to_agent_p99:.2} s max {to_agent_max:.2} s\n\
         \x20 packets in window: sent {} received {} lost {}, {} streams with loss; transit p50 {:.3} ms p99 {:.3} ms max {:.3} ms\n\
         \x20 other packets: {unmarked} unmarked (prompts, music), {outside} outside the window; sender {} packets, {} errors\n\
         \x20 callers: {} INVITEs ({} retransmitted), failed {:?}, {} hung up by the server, BYEs {} ok / {} failed\n\
         \x20 agents: {} INVITEs ({} retransmitted, {} re-offers, {} unknown caller), {} answered, {} no ACK, {} CANCELs, {} BYEs\n\
         \x20 teardown {}; generator {gen_cores:.3} cores",
        sum.sent,
        sum.received,
        sum.lost,
        sum.streams_with_loss,
        ms(hist.quantile_us(0.5)),
        ms(hist.quantile_us(0.99)),
        ms(hist.max_us()),
        sent.packets,
        sent.errors,
        cc.invites,
        cc.invite_retx,
        cc.failed,
        cc.server_byes,
        cc.bye_ok,
        cc.bye_failed,
        ac.invites,
        ac.invite_retx,
        ac.reoffers,
        ac.unknown_caller,
        ac.answered,
        ac.no_ack,
        ac.cancels,
        ac.byes,
        if teardown_ok { "done" } else { "TIMED OUT" },
    );
    if a.json {
        let j = serde_json::json!({
            "mode": if a.hangup_after.is_some() { "setup-rate" } else { "concurrency" },
            "calls": n,
            "agents": a.agents,
            "agents_registered": registered,
            "register_failed": ac.register_failed,
            "rate": a.rate,
            "hold_s": a.hold,
            "hangup_after_s": a.hangup_after,
            "setup_ok": setup_ok,
            "answered": answered_calls,
            "bridged_at_start": bridged_at_start,
            "never_reached_agent": never_reached,
            "failed_calls": failed_calls,
            "failed_pct": failed_pct,
            "failed_by_reason": cc.failed,
            "setup_p50_ms": setup_p50,
            "setup_p99_ms": setup_p99,
            "setup_max_ms": setup_max,
            "to_agent_p50_s": to_agent_p50,
            "to_agent_p99_s": to_agent_p99,
            "to_agent_max_s": to_agent_max,
            "streams": sum.streams,
            "sent": sum.sent,
            "received": sum.received,
            "lost": sum.lost,
            "streams_with_loss": sum.streams_with_loss,
            "duplicates": sum.extra,
            "transit_p50_ms": ms(hist.quantile_us(0.5)),
            "transit_p99_ms": ms(hist.quantile_us(0.99)),
            "transit_max_ms": ms(hist.max_us()),
            "unmarked": unmarked,
            "outside_window": outside,
            "tx_packets": sent.packets,
            "tx_errors": sent.errors,
            "invites": cc.invites,
            "invite_retx": cc.invite_retx,
            "re_acks": cc.re_acks,
            "server_byes": cc.server_byes,
            "bye_ok": cc.bye_ok,
            "bye_failed": cc.bye_failed,
            "agent_invites": ac.invites,
            "agent_invite_retx": ac.invite_retx,
            "agent_reoffers": ac.reoffers,
            "agent_unknown_caller": ac.unknown_caller,
            "agent_answered": ac.answered,
            "agent_ok_retx": ac.ok_retx,
            "agent_no_ack": ac.no_ack,
            "agent_cancels": ac.cancels,
            "agent_byes": ac.byes,
            "register_retx": ac.register_retx,
            "teardown_ok": teardown_ok,
            "window_s": window_secs,
            "gen_cores_window": gen_cores,
            "wall_s": t_start.elapsed().as_secs_f64(),
        });
        println!("{j}");
    }
    Ok(())
}
