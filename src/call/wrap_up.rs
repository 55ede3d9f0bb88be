//! Wrap-up (话后整理) per call, for AHT: when an agent's wrap-up ends (the ACD moves it out of
//! `WrapUp`: the countdown ran out, the agent ended it, a supervisor forced a state, logout),
//! its length is added to the call the agent finished last — through the record writer, so it
//! lands after that call's record. [`WrapUps`] is the pure bookkeeping; the `Calls` side only
//! feeds it the desk's events.

use std::collections::HashMap;
use std::time::Instant;

use super::Calls;
use crate::acd::AgentStatus;

/// Per agent: the call it finished last, and when its wrap-up began.
#[derive(Debug, Default)]
pub(super) struct WrapUps {
    last_call: HashMap<String, String>,
    since: HashMap<String, Instant>,
}

impl WrapUps {
    /// The agent's conversation on call `call_id` ended.
    pub fn call_ended(&mut self, agent: &str, call_id: &str) {
        self.last_call
            .insert(agent.to_string(), call_id.to_string());
    }

    /// The agent's state is now `state`: when that ends a wrap-up, the call it belongs to and
    /// its length in milliseconds.
    pub fn state(
        &mut self,
        agent: &str,
        state: AgentStatus,
        now: Instant,
    ) -> Option<(String, i64)> {
        if state == AgentStatus::WrapUp {
            self.since.entry(agent.to_string()).or_insert(now);
            return None;
        }
        let began = self.since.remove(agent)?;
        // Taken: a call gets the wrap-up that followed it once.
        let call = self.last_call.remove(agent)?;
        let ms = now.saturating_duration_since(began).as_millis();
        Some((call, i64::try_from(ms).unwrap_or(i64::MAX)))
    }
}

impl Calls {
    /// Feeds [`WrapUps`] an ended conversation.
    pub(super) fn wrap_up_call_ended(&self, agent: &str, call_id: &str) {
        if let Ok(mut w) = self.wrap_ups.lock() {
            w.call_ended(agent, call_id);
        }
    }

    /// Feeds [`WrapUps`] an agent state; a finished wrap-up is written onto its call.
    pub(super) fn wrap_up_state(&self, agent: &str, state: AgentStatus) {
        let done = match self.wrap_ups.lock() {
            Ok(mut w) => w.state(agent, state, Instant::now()),
            Err(_) => None,
        };
        if let Some((call, ms)) = done {
            self.records.then(move |store| {
                Box::pin(async move {
                    if let Err(e) = store.add_call_wrap_up(&call, ms).await {
                        tracing::warn!(%call, error = %e, "wrap-up not written on the call");
                    }
                })
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::WrapUps;
    use crate::acd::AgentStatus;

    #[test]
    fn a_wrap_up_goes_onto_the_call_just_finished() {
        let t0 = Instant::now();
        let mut w = WrapUps::default();
        // The ACD may announce the wrap-up before the call layer closes the call.
        assert_eq!(w.state("1001", AgentStatus::WrapUp, t0), None);
        w.call_ended("1001", "call-1");
        let end = t0 + Duration::from_millis(12_500);
        assert_eq!(
            w.state("1001", AgentStatus::Ready, end),
            Some(("call-1".to_string(), 12_500))
        );
        // Ready again without a wrap-up, or a wrap-up without a call ended: nothing to write.
        assert_eq!(w.state("1001", AgentStatus::Ready, end), None);
        assert_eq!(w.state("1001", AgentStatus::WrapUp, end), None);
        assert_eq!(w.state("1001", AgentStatus::Ready, end), None);
        // Next call, ended by logging out during wrap-up.
        w.call_ended("1001", "call-2");
        assert_eq!(w.state("1001", AgentStatus::WrapUp, end), None);
        assert_eq!(
            w.state("1001", AgentStatus::LoggedOut, end + Duration::from_secs(3)),
            Some(("call-2".to_string(), 3_000))
        );
        // Another agent's wrap-up does not touch this one's.
        assert_eq!(w.state("1002", AgentStatus::NotReady, end), None);
    }
}
