//! Ten thousand concurrent INVITE server transactions through their whole life on the fake
//! clock: four fates (non-2xx acknowledged or not, 2xx acknowledged or not), every INVITE
//! retransmitted once. Counts are asserted, not time; the run itself takes a fraction of a
//! second because nothing waits.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hotline::sip::message::Message;
use hotline::sip::transaction::{Output, ServerKey, TimerConfig, TimerName, TransactionLayer};

use crate::harness::{response, udp, Req};

const N: u32 = 10_000;

#[derive(Debug, Clone, Copy)]
enum Event {
    Invite(u32),
    Answer(u32),
    Ack(u32),
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    transmits: usize,
    requests: usize,
    acks: usize,
    timeout_h: usize,
    timeout_ack_wait: usize,
    terminated: usize,
    other: usize,
}

#[test]
fn ten_thousand_concurrent_invite_server_transactions() {
    let base = Instant::now();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let mut events: BTreeMap<(Duration, u64), Event> = BTreeMap::new();
    let mut seq = 0;
    let mut at = |events: &mut BTreeMap<_, _>, t: Duration, e: Event| {
        events.insert((t, seq), e);
        seq += 1;
    };
    // All INVITEs arrive within the first second, each retransmitted 300 ms later; every one
    // is answered two seconds after it arrived, so all 10,000 are alive at once.
    for i in 0..N {
        let t = Duration::from_micros(u64::from(i) * 100);
        at(&mut events, t, Event::Invite(i));
        at(
            &mut events,
            t + Duration::from_millis(300),
            Event::Invite(i),
        );
        at(&mut events, t + Duration::from_secs(2), Event::Answer(i));
        // Fates 0 and 2 are acknowledged 100 ms after the answer; 1 and 3 never are.
        if i % 2 == 0 {
            at(&mut events, t + Duration::from_millis(2100), Event::Ack(i));
        }
    }

    let fixtures = Fixtures::new();
    let mut keys: Vec<Option<(ServerKey, Message)>> = vec![None; N as usize];
    let mut counts = Counts::default();
    let mut peak = 0;
    loop {
        let next_event = events.first_key_value().map(|(&(t, _), _)| base + t);
        match (next_event, layer.poll_timeout()) {
            (None, None) => break,
            (Some(e), t) if t.is_none_or(|t| e <= t) => {
                let (_, ev) = events.pop_first().unwrap();
                match ev {
                    Event::Invite(i) => layer.handle_message(fixtures.invite(i), udp(), e),
                    Event::Answer(i) => {
                        let (key, inv) = keys[i as usize].as_ref().unwrap();
                        let code = if i % 4 < 2 { 486 } else { 200 };
                        layer
                            .send_response(key, response(inv, code, "uas"), e)
                            .unwrap();
                    }
                    Event::Ack(i) => layer.handle_message(fixtures.ack(i), udp(), e),
                }
            }
            (_, Some(t)) => layer.handle_timeout(t),
            (Some(_), None) => unreachable!(),
        }
        while let Some(o) = layer.poll_output() {
            if let Output::Request { key, msg, .. } = &o {
                keys[index(msg)] = Some((key.clone(), msg.clone()));
            }
            count(&mut counts, o);
        }
        peak = peak.max(layer.len());
    }

    let quarter = (N / 4) as usize;
    // Per fate: 100 Trying, 100 again for the retransmitted INVITE, the final; unacknowledged
    // finals add ten retransmissions each (Timer G, or the 2xx service) within 64·T1.
    assert_eq!(
        counts,
        Counts {
            transmits: quarter * (3 + 13 + 3 + 13),
            requests: N as usize,
            acks: quarter,
            timeout_h: quarter,
            timeout_ack_wait: quarter,
            terminated: N as usize,
            other: 0,
        }
    );
    assert_eq!(peak, N as usize);
    assert!(layer.is_empty());
    assert_eq!(layer.pending_acks(), 0);
    assert_eq!(layer.pending_timers(), 0);
    assert_eq!(layer.poll_timeout(), None);
}

fn count(c: &mut Counts, o: Output) {
    match o {
        Output::Transmit { .. } => c.transmits += 1,
        Output::Request { .. } => c.requests += 1,
        Output::Ack { .. } => c.acks += 1,
        Output::Timeout {
            timer: TimerName::H,
            ..
        } => c.timeout_h += 1,
        Output::Timeout {
            timer: TimerName::AckWait,
            ..
        } => c.timeout_ack_wait += 1,
        Output::Terminated { .. } => c.terminated += 1,
        _ => c.other += 1,
    }
}

/// `call-<i>@…` → i.
fn index(msg: &Message) -> usize {
    let id = msg.call_id().unwrap();
    id["call-".len()..id.find('@').unwrap()].parse().unwrap()
}

/// Requests made by editing parsed templates, which is much cheaper than parsing 25,000
/// messages and keeps the run about the layer.
struct Fixtures {
    invite: Message,
    ack: Message,
}

impl Fixtures {
    fn new() -> Fixtures {
        Fixtures {
            invite: Req::invite(0).build(),
            ack: Req::invite(0).method("ACK").to_tag("uas").build(),
        }
    }

    fn number(template: &Message, i: u32, branch: String) -> Message {
        let mut m = template.clone();
        m.set_header(
            "Via",
            format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
        );
        m.set_header("Call-ID", format!("call-{i}@192.0.2.10"));
        m
    }

    fn invite(&self, i: u32) -> Message {
        Fixtures::number(&self.invite, i, format!("z9hG4bKc{i}"))
    }

    /// The ACK for a non-2xx shares the INVITE's branch (fate 0); the ACK for a 2xx is a
    /// transaction of its own (fate 2).
    fn ack(&self, i: u32) -> Message {
        let branch = if i % 4 == 2 {
            format!("z9hG4bKack{i}")
        } else {
            format!("z9hG4bKc{i}")
        };
        Fixtures::number(&self.ack, i, branch)
    }
}
