//! Supervisors on a call in progress: listen 监听, whisper 密语 and barge 强插 (the supervisor's
//! softphone is called and mixed in by the media engine), and the force hang-up 强拆.
//!
//! Who hears whom is the pure [`plan`] of a [`Mode`]: what each party's stream sends — the
//! other party relayed as it arrives, or a mix of several parties decoded on the shard's
//! 20 ms clock. The call task carries a plan out with [`MediaEngine::bridge`] (caller ↔ agent
//! relay) and [`MediaEngine::mix`]; stopping (the API, the supervisor hanging up, a transfer, a
//! hold, the call ending) bridges caller and agent again and hangs the supervisor's leg up, so
//! no mix is left pointing at a leg that is gone.
//!
//! [`MediaEngine::bridge`]: crate::media::engine::MediaEngine::bridge
//! [`MediaEngine::mix`]: crate::media::engine::MediaEngine::mix

use serde_json::json;

use super::desk::{DeskError, MonitorView};
use super::outcome::Disposition;
use super::{Calls, Kind, Role};
use crate::media::engine::StreamId;
use crate::sip::endpoint::{Dial, DialTarget};

/// How a supervisor is on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// 监听: the supervisor hears caller and agent; nobody hears the supervisor.
    Listen,
    /// 密语: as listen, and the agent hears the supervisor too; the caller does not.
    Whisper,
    /// 强插: all three hear each other.
    Barge,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Listen, Mode::Whisper, Mode::Barge];

    /// The API's name (also the audit action).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Listen => "listen",
            Mode::Whisper => "whisper",
            Mode::Barge => "barge",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The three parties of a monitored call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// The citizen (the caller, or the citizen of a callback).
    Citizen,
    Agent,
    Supervisor,
}

/// What one party's stream sends to that party's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// The other party's packets, relayed as they arrive.
    Relay(Party),
    /// The sum of what these parties send, decoded and mixed every 20 ms.
    Mix(Vec<Party>),
}

/// What each party's stream sends in `mode`. Only citizen and agent ever relay, and only to
/// each other (so bridging the two, then setting the mixes, carries a plan out).
pub fn plan(mode: Mode) -> [(Party, Feed); 3] {
    use Party::*;
    let supervisor = (Supervisor, Feed::Mix(vec![Citizen, Agent]));
    match mode {
        Mode::Listen => [
            (Citizen, Feed::Relay(Agent)),
            (Agent, Feed::Relay(Citizen)),
            supervisor,
        ],
        Mode::Whisper => [
            (Citizen, Feed::Relay(Agent)),
            (Agent, Feed::Mix(vec![Citizen, Supervisor])),
            supervisor,
        ],
        Mode::Barge => [
            (Citizen, Feed::Mix(vec![Agent, Supervisor])),
            (Agent, Feed::Mix(vec![Citizen, Supervisor])),
            supervisor,
        ],
    }
}

/// Whom `party` hears in `mode`.
pub fn hears(mode: Mode, party: Party) -> Vec<Party> {
    plan(mode)
        .into_iter()
        .find(|(p, _)| *p == party)
        .map(|(_, feed)| match feed {
            Feed::Relay(p) => vec![p],
            Feed::Mix(v) => v,
        })
        .unwrap_or_default()
}

/// A supervisor on a call.
#[derive(Debug, Clone)]
pub(super) struct Monitor {
    /// The API user who started it.
    pub supervisor: String,
    pub extension: String,
    pub mode: Mode,
    /// The supervisor's SIP leg.
    pub leg: String,
    /// The softphone answered and the mix is set.
    pub connected: bool,
}

impl Monitor {
    pub fn view(&self) -> MonitorView {
        MonitorView {
            supervisor: self.supervisor.clone(),
            extension: self.extension.clone(),
            mode: self.mode.as_str(),
            state: self.state(),
        }
    }

    fn state(&self) -> &'static str {
        if self.connected {
            "connected"
        } else {
            "ringing"
        }
    }

    fn reply(&self, call: &str) -> serde_json::Value {
        json!({
            "call_id": call,
            "mode": self.mode.as_str(),
            "extension": self.extension,
            "state": self.state(),
        })
    }
}

impl Calls {
    /// The call whose record id is `id`.
    pub(super) fn call_by_record(&self, id: &str) -> Option<u64> {
        self.calls
            .iter()
            .find(|(_, c)| c.record_id == id)
            .map(|(k, _)| *k)
    }

    /// The citizen's and the agent's streams of a call whose two are talking.
    fn talking_streams(&self, key: u64) -> Option<(StreamId, StreamId)> {
        let call = self.calls.get(&key)?;
        let citizen = match call.kind {
            Kind::Inbound => call.caller_leg.as_ref()?,
            Kind::Callback { .. } => call.outside.as_ref()?,
        };
        let agent = &call.agent.as_ref()?.1;
        let stream = |leg: &String| {
            self.legs
                .get(leg)
                .filter(|l| l.started && !l.held)
                .and_then(|l| l.stream)
        };
        Some((stream(citizen)?, stream(agent)?))
    }

    /// Starts monitoring a call, or switches the mode of the supervisor on it.
    pub(super) async fn monitor(
        &mut self,
        id: &str,
        mode: Mode,
        extension: &str,
        supervisor: &str,
    ) -> Result<serde_json::Value, DeskError> {
        let key = self
            .call_by_record(id)
            .ok_or_else(|| DeskError::NotFound(format!("no call {id} in progress")))?;
        if self.talking_streams(key).is_none() {
            return Err(DeskError::Conflict(format!(
                "call {id} is not bridged to an agent (or is on hold)"
            )));
        }
        let call = self.calls.get_mut(&key).expect("found above");
        if let Some(m) = call.monitor.as_mut() {
            if m.extension != extension {
                return Err(DeskError::Conflict(format!(
                    "{} monitors call {id} already (extension {})",
                    m.supervisor, m.extension
                )));
            }
            m.mode = mode;
            m.supervisor = supervisor.to_string();
            let (reply, connected) = (m.reply(id), m.connected);
            let rec = call.record_id.clone();
            self.records.step(
                &rec,
                "monitor",
                Some(&format!("{} by {supervisor} at {extension}", mode.as_str())),
            );
            if connected {
                self.apply_monitor(key);
            }
            return Ok(reply);
        }
        if self.acd.config().agents.iter().any(|a| a.id == extension) {
            return Err(DeskError::Invalid(format!(
                "extension {extension} is an agent's softphone; name a supervisor's"
            )));
        }
        let busy = self.calls.values().find_map(|c| {
            c.monitor
                .as_ref()
                .filter(|m| m.extension == extension)
                .map(|_| c.record_id.clone())
        });
        if let Some(other) = busy {
            return Err(DeskError::Conflict(format!(
                "extension {extension} is on call {other} already; stop monitoring it first"
            )));
        }
        let registered = self
            .sip
            .registered(extension)
            .await
            .map(|c| !c.is_empty())
            .unwrap_or(false);
        if !registered {
            return Err(DeskError::Unreachable(format!(
                "softphone {extension} is not registered"
            )));
        }
        let Some(call) = self.calls.get(&key) else {
            return Err(DeskError::NotFound(format!("no call {id} in progress")));
        };
        let link = match call.kind {
            Kind::Inbound => call.caller_leg.clone(),
            Kind::Callback { .. } => call.agent.as_ref().map(|a| a.1.clone()),
        };
        let dial = Dial {
            target: DialTarget::User {
                user: extension.to_string(),
            },
            from_user: Some(call.caller.clone()),
            from_display: Some(format!("{} {}", mode.as_str(), call.caller)),
            asserted: None,
            link,
        };
        let leg = match self.sip.dial(dial).await {
            Ok(Ok(leg)) => leg,
            Ok(Err(e)) => {
                return Err(DeskError::Unreachable(format!(
                    "softphone {extension} cannot be called: {e}"
                )))
            }
            Err(_) => return Err(DeskError::Unavailable),
        };
        self.add_leg(&leg, key, Role::Supervisor);
        let Some(call) = self.calls.get_mut(&key) else {
            self.hangup(&leg);
            return Err(DeskError::NotFound(format!("call {id} ended")));
        };
        let m = Monitor {
            supervisor: supervisor.to_string(),
            extension: extension.to_string(),
            mode,
            leg,
            connected: false,
        };
        let reply = m.reply(id);
        call.monitor = Some(m);
        let rec = call.record_id.clone();
        self.records.step(
            &rec,
            "monitor",
            Some(&format!("{} by {supervisor} at {extension}", mode.as_str())),
        );
        tracing::info!(call = %rec, %extension, mode = mode.as_str(), %supervisor, "supervisor's softphone called");
        Ok(reply)
    }

    /// The supervisor's softphone answered: mixed in as the mode says.
    pub(super) fn supervisor_answered(&mut self, key: u64, leg: &str) {
        let ours = self
            .calls
            .get(&key)
            .and_then(|c| c.monitor.as_ref())
            .is_some_and(|m| m.leg == leg);
        if !ours {
            // A leg of a monitor stopped meanwhile (a newer one may be on the call).
            self.hangup(leg);
            return;
        }
        if self.talking_streams(key).is_none() {
            // The call moved on while the softphone rang (hold, the agent gone).
            self.drop_monitor(key, "the call is not bridged any more");
            return;
        }
        if let Some(m) = self.calls.get_mut(&key).and_then(|c| c.monitor.as_mut()) {
            m.connected = true;
        }
        self.apply_monitor(key);
    }

    /// Sets the media of a connected monitor as its mode says.
    fn apply_monitor(&mut self, key: u64) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(m) = call.monitor.as_ref() else {
            return;
        };
        let (mode, record) = (m.mode, call.record_id.clone());
        let sup = self.legs.get(&m.leg).and_then(|l| l.stream);
        let (Some((citizen, agent)), Some(sup)) = (self.talking_streams(key), sup) else {
            return;
        };
        let stream = |p: Party| match p {
            Party::Citizen => citizen,
            Party::Agent => agent,
            Party::Supervisor => sup,
        };
        let mut result = self.engine.bridge(citizen, agent);
        for (party, feed) in plan(mode) {
            if let Feed::Mix(sources) = feed {
                let sources: Vec<StreamId> = sources.into_iter().map(stream).collect();
                result = result.and_then(|_| self.engine.mix(stream(party), &sources));
            }
        }
        if let Err(e) = result {
            tracing::error!(call = %record, error = %e, "cannot mix the supervisor in; stopping");
            self.stop_monitoring(key, "media error");
        }
    }

    /// Stops monitoring `key` (if it is): caller and agent bridged again as they were, the
    /// supervisor's leg hung up, a step on the record saying `why`.
    pub(super) fn stop_monitoring(&mut self, key: u64, why: &str) {
        let connected = self
            .calls
            .get(&key)
            .and_then(|c| c.monitor.as_ref())
            .is_some_and(|m| m.connected);
        if connected {
            if let Some((citizen, agent)) = self.talking_streams(key) {
                if let Err(e) = self.engine.bridge(citizen, agent) {
                    tracing::error!(error = %e, "cannot bridge caller and agent again");
                }
            }
        }
        self.drop_monitor(key, why);
    }

    /// Forgets the monitor of `key` and hangs its leg up, leaving the media as it is (for a
    /// call whose agent or caller is gone).
    pub(super) fn drop_monitor(&mut self, key: u64, why: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(m) = call.monitor.take() else {
            return;
        };
        let rec = call.record_id.clone();
        self.records.step(
            &rec,
            "monitor-stop",
            Some(&format!("{} at {}: {why}", m.supervisor, m.extension)),
        );
        tracing::info!(call = %rec, extension = %m.extension, %why, "monitoring stopped");
        if self.legs.contains_key(&m.leg) {
            self.hangup(&m.leg);
        }
    }

    /// `DELETE …/monitor`.
    pub(super) fn stop_monitor_cmd(&mut self, id: &str) -> Result<serde_json::Value, DeskError> {
        let key = self
            .call_by_record(id)
            .ok_or_else(|| DeskError::NotFound(format!("no call {id} in progress")))?;
        let m = self
            .calls
            .get(&key)
            .and_then(|c| c.monitor.clone())
            .ok_or_else(|| DeskError::NotFound(format!("nobody monitors call {id}")))?;
        self.stop_monitoring(key, "stopped by request");
        Ok(json!({
            "call_id": id,
            "mode": m.mode.as_str(),
            "extension": m.extension,
            "state": "stopped",
        }))
    }

    /// A supervisor's leg ended (hung up by the softphone, not reached, or by us).
    pub(super) fn supervisor_leg_ended(&mut self, key: u64, leg: &str, cause: &str) {
        let ours = self
            .calls
            .get(&key)
            .and_then(|c| c.monitor.as_ref())
            .is_some_and(|m| m.leg == leg);
        if ours {
            self.stop_monitoring(key, &format!("supervisor's leg ended ({cause})"));
        }
    }

    /// 强拆: ends the call whatever it is doing. Its disposition follows the usual rule (an
    /// answered call stays answered; one not yet answered fails "force hang-up by …"), and a
    /// `force-hangup` step names who.
    pub(super) async fn force_hangup(
        &mut self,
        id: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<serde_json::Value, DeskError> {
        let key = self
            .call_by_record(id)
            .ok_or_else(|| DeskError::NotFound(format!("no call {id} in progress")))?;
        let call = self.calls.get_mut(&key).expect("found above");
        if call.keeps_place.is_some() && call.caller_leg.is_none() {
            return Err(DeskError::Conflict(format!(
                "call {id} waits in the queue for its callback; work the callback task instead"
            )));
        }
        call.life
            .decide(Disposition::Failed(format!("force hang-up by {by}")));
        let disposition = call.life.decided().map(|d| d.as_str());
        let rec = call.record_id.clone();
        let detail = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => format!("by {by}: {r}"),
            None => format!("by {by}"),
        };
        self.records.step(&rec, "force-hangup", Some(&detail));
        tracing::info!(call = %rec, %by, "call hung up by a supervisor");
        self.drop_monitor(key, "force hang-up");
        self.finish_call(key).await;
        Ok(json!({
            "call_id": id,
            "state": "hanging-up",
            "disposition": disposition,
            "at": chrono::Utc::now(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_hears_whom() {
        use Party::*;
        let cases = [
            (Mode::Listen, Citizen, vec![Agent]),
            (Mode::Listen, Agent, vec![Citizen]),
            (Mode::Listen, Supervisor, vec![Citizen, Agent]),
            (Mode::Whisper, Citizen, vec![Agent]),
            (Mode::Whisper, Agent, vec![Citizen, Supervisor]),
            (Mode::Whisper, Supervisor, vec![Citizen, Agent]),
            (Mode::Barge, Citizen, vec![Agent, Supervisor]),
            (Mode::Barge, Agent, vec![Citizen, Supervisor]),
            (Mode::Barge, Supervisor, vec![Citizen, Agent]),
        ];
        for (mode, party, expected) in cases {
            let mut got = hears(mode, party);
            got.sort();
            assert_eq!(got, expected, "{mode:?}: {party:?} hears");
        }
    }

    #[test]
    fn nobody_hears_themselves_and_the_supervisor_always_hears_both() {
        for mode in Mode::ALL {
            for party in [Party::Citizen, Party::Agent, Party::Supervisor] {
                assert!(!hears(mode, party).contains(&party), "{mode:?} {party:?}");
            }
            let mut sup = hears(mode, Party::Supervisor);
            sup.sort();
            assert_eq!(sup, vec![Party::Citizen, Party::Agent]);
        }
    }

    /// The call task bridges citizen and agent and then sets the mixes: that is only right
    /// when every relay in a plan is between the two of them.
    #[test]
    fn relays_are_only_between_citizen_and_agent() {
        for mode in Mode::ALL {
            for (party, feed) in plan(mode) {
                if let Feed::Relay(to) = feed {
                    let pair = [party, to];
                    assert!(
                        pair.contains(&Party::Citizen) && pair.contains(&Party::Agent),
                        "{mode:?}: {party:?} relays {to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn modes_parse_their_names_only() {
        for mode in Mode::ALL {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(Mode::parse("Listen"), None);
        assert_eq!(Mode::parse("takeover"), None);
    }
}
