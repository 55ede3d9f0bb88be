//! Work orders a call makes by itself: a voicemail, or a callback the caller asked for, becomes
//! an order of type `voicemail` or `callback` on the number's channel, naming the recording,
//! tied to its call — through the ordinary create path, so numbering and audit stay one.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::cases::lifecycle::Actor;
use crate::cases::model::{CallRecord, CallStep, NewWorkOrder, WorkOrder};
use crate::config::Role;

/// What the caller left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFromCall {
    Voicemail,
    Callback,
}

impl OrderFromCall {
    /// The order's request type.
    pub fn request_type(self) -> &'static str {
        match self {
            OrderFromCall::Voicemail => "voicemail",
            OrderFromCall::Callback => "callback",
        }
    }
}

/// Where the caller's words are: a recording, and where in it the message starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRef {
    pub path: String,
    pub offset_ms: Option<i64>,
}

/// The actor the call flow writes orders as.
pub fn call_flow_actor() -> Actor {
    Actor {
        name: "call-flow".into(),
        role: Role::Admin,
        department: None,
    }
}

fn description(kind: OrderFromCall, call: &CallRecord, recording: Option<&RecordingRef>) -> String {
    let what = match kind {
        OrderFromCall::Voicemail => "Voicemail left",
        OrderFromCall::Callback => "Callback requested",
    };
    let mut text = format!(
        "{what} by {} on {} at {}.",
        call.from_number,
        call.to_number,
        call.offered_at.to_rfc3339()
    );
    if let Some(r) = recording {
        text.push_str(&format!(" Recording: {}", r.path));
        if let Some(ms) = r.offset_ms {
            text.push_str(&format!(" from {}.{:03} s", ms / 1000, ms % 1000));
        }
        text.push('.');
    }
    text
}

impl Store {
    /// Creates the order a voicemail or a callback request makes, on `channel` (the dialled
    /// number's, e.g. `phone-12345`), tied to `call` (written first, so the tie never waits on
    /// the call layer's asynchronous record), with an `order-linked` step on the call.
    pub async fn create_order_from_call(
        &self,
        kind: OrderFromCall,
        call: &CallRecord,
        channel: &str,
        recording: Option<&RecordingRef>,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder, StoreError> {
        if let Some(id) = call.work_order_id {
            return Err(StoreError::WrongState(format!(
                "call {} is already tied to work order {id}",
                call.id
            )));
        }
        let mut record = call.clone();
        if let Some(r) = recording {
            record.recording_path = Some(r.path.clone());
            record.voicemail_offset_ms = r.offset_ms.or(record.voicemail_offset_ms);
        }
        self.save_call(&record).await?;
        let caller_is_number = super::orders::is_phone_number(&call.from_number);
        let new = NewWorkOrder {
            channel: Some(channel.to_string()),
            request_type: kind.request_type().into(),
            description: description(kind, call, recording),
            caller_number: caller_is_number.then(|| call.from_number.clone()),
            call_id: Some(call.id.clone()),
            ..Default::default()
        };
        let order = self
            .create_order(new, &call_flow_actor(), None, now)
            .await?;
        let mut step = CallStep::new(&call.id, now, "order-linked");
        step.detail = Some(order.id.to_string());
        self.add_call_step(&step).await?;
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_names_the_recording_and_offset() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let call = CallRecord::inbound("c1", "13800000001", "12345", at);
        let r = RecordingRef {
            path: "recordings/2026/11/23/c1.wav".into(),
            offset_ms: Some(12_345),
        };
        assert_eq!(
            description(OrderFromCall::Voicemail, &call, Some(&r)),
            "Voicemail left by 13800000001 on 12345 at 2026-11-23T02:00:00+00:00. \
             Recording: recordings/2026/11/23/c1.wav from 12.345 s."
        );
        assert_eq!(
            description(OrderFromCall::Callback, &call, None),
            "Callback requested by 13800000001 on 12345 at 2026-11-23T02:00:00+00:00."
        );
    }
}
