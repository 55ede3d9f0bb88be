//! How a citizen's call ends up counted: the pure rule that turns what happened to a call
//! (where it was when the caller hung up, how its flow finished, what the queue did) into
//! exactly one disposition. The call task and the simulation test share it, so "offered = the
//! sum of dispositions" is checked against the code that writes the call records.

use crate::acd::{AbandonStage, Outcome};

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Offered, not yet answered by us.
    Offered,
    /// Greeting, recording notice, menus, self-service.
    Greeting,
    /// Waiting in a queue.
    Queue,
    /// Offered to an agent who has not answered.
    Ringing,
    /// Talking with an agent (or a transfer target).
    Talking,
    /// Leaving a message (after the beep).
    Message,
    /// Hearing the overflow/voicemail prompts before the beep.
    Overflow,
    /// The satisfaction survey after the agent hung up.
    Survey,
}

impl Stage {
    /// The name the API shows (`calls[].stage` of the live picture).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Offered => "offered",
            Stage::Greeting => "greeting",
            Stage::Queue => "queue",
            Stage::Ringing => "ringing",
            Stage::Talking => "talking",
            Stage::Message => "message",
            Stage::Overflow => "overflow",
            Stage::Survey => "survey",
        }
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    Blacklist,
    Closed,
}

/// Exactly one per offered call (DESIGN.md: offered = Σ dispositions).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Disposition {
    Answered,
    Abandoned(AbandonAt),
    Voicemail,
    CallbackRequested,
    Rejected(RejectReason),
    Failed(String),
}

/// Where a caller hung up before being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbandonAt {
    Greeting,
    Queue,
    Ringing,
}

impl Disposition {
    /// The `calls.disposition` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Abandoned(_) => "abandoned",
            Disposition::Voicemail => "voicemail",
            Disposition::CallbackRequested => "callback-requested",
            Disposition::Rejected(_) => "rejected",
            Disposition::Failed(_) => "failed",
        }
    }

    /// The `calls.disposition_detail` value: the stage, the reason or the SIP cause.
    pub fn detail(&self) -> Option<String> {
        match self {
            Disposition::Abandoned(AbandonAt::Greeting) => Some("greeting".into()),
            Disposition::Abandoned(AbandonAt::Queue) => Some("queue".into()),
            Disposition::Abandoned(AbandonAt::Ringing) => Some("ringing".into()),
            Disposition::Rejected(RejectReason::Blacklist) => Some("blacklist".into()),
            Disposition::Rejected(RejectReason::Closed) => Some("closed".into()),
            Disposition::Failed(cause) => Some(cause.clone()),
            _ => None,
        }
    }
}

/// Causes of a caller's leg ending that mean the caller chose to go (hung up, cancelled);
/// anything else (timeouts, errors, shutdown) is a failure when nothing else decided.
pub fn caller_left(cause: &str) -> bool {
    matches!(cause, "remote BYE" | "cancelled")
}

/// One call's progress towards its disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    pub stage: Stage,
    decided: Option<Disposition>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            stage: Stage::Offered,
            decided: None,
        }
    }
}

impl Lifecycle {
    /// The disposition decided so far (final once the call ends).
    pub fn decided(&self) -> Option<&Disposition> {
        self.decided.as_ref()
    }

    /// Moves to `stage`.
    pub fn enter(&mut self, stage: Stage) {
        self.stage = stage;
    }

    /// Decides the disposition unless one is decided already (the first decision stands: an
    /// answered call stays answered through its survey, a left message stays a message).
    pub fn decide(&mut self, d: Disposition) {
        if self.decided.is_none() {
            self.decided = Some(d);
        }
    }

    /// The caller's leg is going with `cause`, before the queue hears of it: a cause that is
    /// not the caller's choice (no RTP, session expired, shutdown…) decides a failure unless
    /// something was decided already, so the queue's "abandoned" does not count it.
    pub fn leaving(&mut self, cause: &str) {
        if !caller_left(cause) {
            self.decide(Disposition::Failed(cause.to_string()));
        }
    }

    /// The queue's final word on the call.
    pub fn queue_outcome(&mut self, o: &Outcome) {
        match o {
            Outcome::Answered { .. } => {
                self.stage = Stage::Talking;
                self.decide(Disposition::Answered);
            }
            Outcome::Abandoned { stage } => self.decide(Disposition::Abandoned(match stage {
                AbandonStage::Queue => AbandonAt::Queue,
                AbandonStage::Ringing => AbandonAt::Ringing,
            })),
            // Decided by what the overflow target does with the caller.
            Outcome::Overflowed => self.stage = Stage::Overflow,
        }
    }

    /// The caller's leg ended with `cause`: the final disposition.
    pub fn ended(&mut self, cause: &str) -> Disposition {
        if let Some(d) = &self.decided {
            return d.clone();
        }
        let d = match self.stage {
            Stage::Message => Disposition::Voicemail,
            _ if !caller_left(cause) => Disposition::Failed(cause.to_string()),
            Stage::Offered | Stage::Greeting => Disposition::Abandoned(AbandonAt::Greeting),
            Stage::Queue | Stage::Overflow => Disposition::Abandoned(AbandonAt::Queue),
            Stage::Ringing => Disposition::Abandoned(AbandonAt::Ringing),
            // Talking or surveyed without an agent answering: a transfer target answered.
            Stage::Talking | Stage::Survey => Disposition::Answered,
        };
        self.decided = Some(d.clone());
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_map_to_dispositions() {
        let cases = [
            (Stage::Offered, "cancelled", "abandoned", Some("greeting")),
            (Stage::Greeting, "remote BYE", "abandoned", Some("greeting")),
            (Stage::Queue, "remote BYE", "abandoned", Some("queue")),
            (Stage::Overflow, "remote BYE", "abandoned", Some("queue")),
            (Stage::Ringing, "remote BYE", "abandoned", Some("ringing")),
            (Stage::Message, "remote BYE", "voicemail", None),
            (Stage::Message, "rtp timeout", "voicemail", None),
            (Stage::Queue, "rtp timeout", "failed", Some("rtp timeout")),
            (Stage::Greeting, "shutdown", "failed", Some("shutdown")),
        ];
        for (stage, cause, disposition, detail) in cases {
            let mut l = Lifecycle::default();
            l.enter(stage);
            let d = l.ended(cause);
            assert_eq!(d.as_str(), disposition, "{stage:?} {cause}");
            assert_eq!(d.detail().as_deref(), detail, "{stage:?} {cause}");
        }
    }

    #[test]
    fn first_decision_stands() {
        let mut l = Lifecycle::default();
        l.enter(Stage::Queue);
        l.queue_outcome(&Outcome::Answered {
            agent: "1001".into(),
        });
        l.enter(Stage::Survey);
        assert_eq!(l.ended("session expired"), Disposition::Answered);

        let mut l = Lifecycle::default();
        l.decide(Disposition::Rejected(RejectReason::Blacklist));
        l.decide(Disposition::Voicemail);
        assert_eq!(
            l.ended("remote BYE"),
            Disposition::Rejected(RejectReason::Blacklist)
        );

        let mut l = Lifecycle::default();
        l.enter(Stage::Queue);
        l.queue_outcome(&Outcome::Abandoned {
            stage: AbandonStage::Ringing,
        });
        assert_eq!(
            l.ended("remote BYE"),
            Disposition::Abandoned(AbandonAt::Ringing)
        );

        let mut l = Lifecycle::default();
        l.enter(Stage::Queue);
        l.leaving("session expired");
        l.queue_outcome(&Outcome::Abandoned {
            stage: AbandonStage::Queue,
        });
        assert_eq!(
            l.ended("session expired"),
            Disposition::Failed("session expired".into())
        );

        let mut l = Lifecycle::default();
        l.enter(Stage::Queue);
        l.queue_outcome(&Outcome::Overflowed);
        assert_eq!(l.stage, Stage::Overflow);
        l.enter(Stage::Message);
        assert_eq!(l.ended("remote BYE"), Disposition::Voicemail);
    }
}
