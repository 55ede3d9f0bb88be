//! Routing: the timers (ring time-outs, announcements, max wait, wrap-up) and the offer of
//! waiting calls to agents.

use std::time::Instant;

use super::engine::{secs, Engine, Timer};
use super::state::{AcdStore, AgentRecord, CallRecord, CallStage};
use super::strategy::{pick, Candidate, Strategy};
use super::{Action, AgentId, AgentStatus, CallId, OverflowReason};

/// The call to offer next: its record, id, queue index and the chosen (member index, agent).
type Choice = (CallRecord, CallId, usize, Vec<(usize, AgentId)>);

impl<S: AcdStore> Engine<S> {
    // ---- timers -------------------------------------------------------------------------

    pub(super) fn fire(&mut self, t: Instant, timer: Timer, now: Instant) {
        match timer {
            Timer::Ring(call) => {
                let Some(rec) = self.store.call(call) else {
                    return;
                };
                let CallStage::Ringing { agents, until } = &rec.stage else {
                    return;
                };
                if *until != t {
                    return;
                }
                let agents = agents.clone();
                let mut rec = rec;
                for agent in &agents {
                    self.actions.push_back(Action::CancelOffer {
                        call,
                        agent: agent.clone(),
                    });
                    self.agent_released(agent, true, &rec.queue, now);
                    if !rec.declined.contains(agent) {
                        rec.declined.push(agent.clone());
                    }
                }
                self.requeue(call, rec, now);
            }
            Timer::Announce(call) => {
                let Some(mut rec) = self.store.call(call) else {
                    return;
                };
                if rec.next_announce != Some(t) || rec.stage != CallStage::Waiting {
                    return;
                }
                let Some(position) = self.store.position(&rec.queue, rec.key()) else {
                    return;
                };
                let expected_wait_secs = self.expected_wait(&rec.queue, position);
                self.actions.push_back(Action::Announce {
                    call,
                    position,
                    expected_wait_secs,
                });
                let qi = self.queue_index[&rec.queue];
                let next = t + secs(self.cfg.queues[qi].announce_secs);
                rec.next_announce = Some(next);
                self.timers.insert((next, Timer::Announce(call)));
                self.store.put_call(call, rec);
            }
            Timer::MaxWait(call) => {
                let Some(rec) = self.store.call(call) else {
                    return;
                };
                if rec.deadline == t && rec.stage == CallStage::Waiting {
                    self.store.dequeue(&rec.queue, rec.key(), call);
                    self.overflow(call, &rec, OverflowReason::MaxWait);
                }
            }
            Timer::WrapUp(agent) => {
                let Some(mut rec) = self.store.agent(&agent) else {
                    return;
                };
                if rec.status == AgentStatus::WrapUp && rec.wrap_until == Some(t) {
                    self.finish_wrap_up(&agent, &mut rec, now);
                    self.store.put_agent(&agent, rec);
                }
            }
        }
    }

    // ---- routing ------------------------------------------------------------------------

    /// Offers waiting calls while some queue head has an eligible agent, the highest
    /// priority / earliest arrival first across queues.
    pub(super) fn dispatch(&mut self, now: Instant) {
        loop {
            let mut best: Option<Choice> = None;
            for qi in 0..self.cfg.queues.len() {
                let Some(head) = self.store.head(&self.cfg.queues[qi].name) else {
                    continue;
                };
                let Some(rec) = self.store.call(head) else {
                    continue;
                };
                if best.as_ref().is_some_and(|b| b.0.key() <= rec.key()) {
                    continue;
                }
                let chosen = self.choose(qi, &rec);
                if !chosen.is_empty() {
                    best = Some((rec, head, qi, chosen));
                }
            }
            let Some((rec, call, qi, chosen)) = best else {
                return;
            };
            self.offer(call, rec, qi, chosen, now);
        }
    }

    /// The agents (member index, id) to offer a queue's head call to.
    pub(super) fn choose(&self, qi: usize, call: &CallRecord) -> Vec<(usize, AgentId)> {
        let q = &self.cfg.queues[qi];
        let mut eligible = Vec::new();
        for (m, &ai) in self.members[qi].iter().enumerate() {
            let a = &self.cfg.agents[ai];
            let Some(rec) = self.store.agent(&a.id) else {
                continue;
            };
            if rec.status != AgentStatus::Ready || !rec.registered {
                continue;
            }
            if !q.required_skills.iter().all(|s| a.skills.contains(s)) {
                continue;
            }
            let level = a.queues.get(&q.name).copied().unwrap_or(1);
            let fresh = !call.declined.contains(&a.id);
            eligible.push((m, ai, level, fresh, rec));
        }
        if eligible.iter().any(|e| e.3) {
            eligible.retain(|e| e.3);
        }
        let Some(level) = eligible.iter().map(|e| e.2).min() else {
            return Vec::new();
        };
        eligible.retain(|e| e.2 == level);
        let cands: Vec<Candidate> = eligible
            .iter()
            .map(|(m, _, _, _, r)| Candidate {
                member: *m,
                idle_since: r.idle_since,
                answered: r.answered,
                talk: r.talk,
            })
            .collect();
        let rr_last = self.store.queue_stats(&q.name).rr_last;
        pick(q.strategy, &cands, rr_last)
            .into_iter()
            .map(|i| (eligible[i].0, self.cfg.agents[eligible[i].1].id.clone()))
            .collect()
    }

    pub(super) fn offer(
        &mut self,
        call: CallId,
        mut rec: CallRecord,
        qi: usize,
        chosen: Vec<(usize, AgentId)>,
        now: Instant,
    ) {
        let q = &self.cfg.queues[qi];
        self.store.dequeue(&q.name, rec.key(), call);
        if q.strategy != Strategy::RingAll {
            let mut stats = self.store.queue_stats(&q.name);
            stats.rr_last = chosen.first().map(|c| c.0);
            self.store.put_queue_stats(&q.name, stats);
        }
        let until = now + secs(q.ring_secs);
        let agents: Vec<AgentId> = chosen.into_iter().map(|c| c.1).collect();
        for agent in &agents {
            let mut arec = self
                .store
                .agent(agent)
                .unwrap_or_else(|| AgentRecord::logged_out(now));
            arec.call = Some(call);
            self.set_status(agent, &mut arec, AgentStatus::Ringing, None, now);
            self.store.put_agent(agent, arec);
            self.actions.push_back(Action::Offer {
                call,
                agent: agent.clone(),
            });
        }
        rec.stage = CallStage::Ringing { agents, until };
        rec.next_announce = None;
        self.store.put_call(call, rec);
        self.timers.insert((until, Timer::Ring(call)));
    }

    /// position × average handle time ÷ agents serving the queue, rounded up.
    pub(super) fn expected_wait(&self, queue: &str, position: usize) -> u64 {
        let qi = self.queue_index[queue];
        let aht = self
            .store
            .queue_stats(queue)
            .aht_secs
            .unwrap_or(f64::from(self.cfg.queues[qi].default_handle_secs));
        let serving = self.members[qi]
            .iter()
            .filter(|&&ai| {
                self.store.agent(&self.cfg.agents[ai].id).is_some_and(|r| {
                    r.registered
                        && matches!(
                            r.status,
                            AgentStatus::Ready
                                | AgentStatus::Ringing
                                | AgentStatus::OnCall
                                | AgentStatus::WrapUp
                        )
                })
            })
            .count()
            .max(1);
        (position as f64 * aht / serving as f64).ceil() as u64
    }
}
