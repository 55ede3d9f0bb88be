//! [`Dialogs`]: every dialog of the user agent, keyed by (Call-ID, local tag, remote tag), with
//! one timer queue for all their session timers.
//!
//! Dialogs are grouped by (Call-ID, local tag), so the forks of one outgoing INVITE (several
//! early dialogs with different remote tags) sit together and end together. Timers live in a
//! binary heap with lazy deletion: each dialog remembers the deadline it was queued under, and
//! heap entries that no longer match are skipped.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use super::timer::adopt_request;
use super::{dialog_id_of, Dialog, DialogAction, DialogError, DialogId, DialogState, Role};
use crate::sip::message::{Message, Method};

#[derive(Debug)]
struct Slot {
    dialog: Dialog,
    /// The deadline this dialog is queued under in the heap.
    scheduled: Option<Instant>,
}

type GroupKey = (String, String);

/// All dialogs of a user agent.
#[derive(Debug, Default)]
pub struct Dialogs {
    groups: HashMap<GroupKey, Vec<Slot>>,
    count: usize,
    heap: BinaryHeap<Reverse<(Instant, DialogId)>>,
    config: super::SessionTimerConfig,
}

fn group_key(id: &DialogId) -> GroupKey {
    (id.call_id.clone(), id.local_tag.clone())
}

impl Dialogs {
    /// An empty set whose new UAC dialogs (made by [`Dialogs::on_response`]) get `config`,
    /// adjusted to what their INVITE asked for.
    pub fn new(config: super::SessionTimerConfig) -> Dialogs {
        Dialogs {
            config,
            ..Dialogs::default()
        }
    }

    /// The settings given to new UAC dialogs; give them to UAS dialogs too
    /// ([`Dialog::with_session_timer_config`]) before inserting them.
    pub fn session_timer_config(&self) -> &super::SessionTimerConfig {
        &self.config
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds (or replaces) a dialog, e.g. one made by [`Dialog::uas_from_invite`]; the dialog
    /// keeps its own session-timer settings.
    pub fn insert(&mut self, dialog: Dialog) -> DialogId {
        let id = dialog.id().clone();
        let group = self.groups.entry(group_key(&id)).or_default();
        match group.iter_mut().find(|s| s.dialog.id() == &id) {
            Some(slot) => slot.dialog = dialog,
            None => {
                group.push(Slot {
                    dialog,
                    scheduled: None,
                });
                self.count += 1;
            }
        }
        self.reschedule(&id);
        id
    }

    fn slot(&self, id: &DialogId) -> Option<&Slot> {
        self.groups
            .get(&group_key(id))?
            .iter()
            .find(|s| s.dialog.id() == id)
    }

    fn slot_mut(&mut self, id: &DialogId) -> Option<&mut Slot> {
        self.groups
            .get_mut(&group_key(id))?
            .iter_mut()
            .find(|s| s.dialog.id() == id)
    }

    pub fn get(&self, id: &DialogId) -> Option<&Dialog> {
        self.slot(id).map(|s| &s.dialog)
    }

    pub fn contains(&self, id: &DialogId) -> bool {
        self.slot(id).is_some()
    }

    /// Runs `f` on a dialog and requeues its timer afterwards. Mutate dialogs only through
    /// this (or the `on_*` methods) so that the timer queue stays right.
    pub fn update<R>(&mut self, id: &DialogId, f: impl FnOnce(&mut Dialog) -> R) -> Option<R> {
        let r = f(&mut self.slot_mut(id)?.dialog);
        self.reschedule(id);
        Some(r)
    }

    pub fn remove(&mut self, id: &DialogId) -> Option<Dialog> {
        let key = group_key(id);
        let group = self.groups.get_mut(&key)?;
        let pos = group.iter().position(|s| s.dialog.id() == id)?;
        let slot = group.swap_remove(pos);
        if group.is_empty() {
            self.groups.remove(&key);
        }
        self.count -= 1;
        Some(slot.dialog)
    }

    /// Drops every terminated dialog and returns their identifiers. Call it once the
    /// transactions that ended them are over (a BYE's 200, say).
    pub fn remove_terminated(&mut self) -> Vec<DialogId> {
        let mut gone = Vec::new();
        self.groups.retain(|_, group| {
            group.retain(|s| {
                let dead = s.dialog.is_terminated();
                if dead {
                    gone.push(s.dialog.id().clone());
                }
                !dead
            });
            !group.is_empty()
        });
        self.count -= gone.len();
        gone
    }

    pub fn iter(&self) -> impl Iterator<Item = &Dialog> {
        self.groups.values().flatten().map(|s| &s.dialog)
    }

    /// The dialog an incoming in-dialog request or a response belongs to, if any.
    pub fn find(&self, msg: &Message) -> Option<&Dialog> {
        self.get(&dialog_id_of(msg)?)
    }

    /// Routes a request from the network. `Ok(None)`: no To tag, not an in-dialog request (a
    /// new INVITE, an out-of-dialog OPTIONS, a CANCEL for the transaction layer). `Ok(Some)`:
    /// the dialog accepted it ([`Dialog::check_request`]). `Err(code)`: answer with that code
    /// (481 when no dialog matches; never answer an ACK).
    pub fn on_request(&mut self, req: &Message) -> Result<Option<DialogId>, u16> {
        let Some(id) = dialog_id_of(req) else {
            return Ok(None);
        };
        if req.method() == Some(&Method::Cancel) && !self.contains(&id) {
            return Ok(None);
        }
        match self.update(&id, |d| d.check_request(req)) {
            None => Err(481),
            Some(Err(code)) => Err(code),
            Some(Ok(())) => Ok(Some(id)),
        }
    }

    /// Routes a response to a request we sent (`request_sent`, as handed to the transaction
    /// layer). A 1xx with a To tag or a 2xx to our initial INVITE creates the (early or
    /// confirmed) dialog when none matches; forked responses create one dialog each. A final
    /// failure to the initial INVITE terminates all its early dialogs. `Ok(None)`: the
    /// response belongs to no dialog (100 Trying, a failure without dialog, …).
    pub fn on_response(
        &mut self,
        request_sent: &Message,
        response: &Message,
        now: Instant,
    ) -> Result<Option<DialogId>, DialogError> {
        let code = response.status().ok_or(DialogError::Mismatch)?;
        let is_invite = response.cseq()?.method == Method::Invite;
        let initial = is_invite && request_sent.to().is_ok_and(|t| t.tag().is_none());
        let id = dialog_id_of(response);
        let found = match &id {
            Some(id) if self.contains(id) => {
                self.update(id, |d| d.handle_response(request_sent, response, now))
                    .unwrap_or(Ok(()))?;
                Some(id.clone())
            }
            Some(id) if initial && (101..300).contains(&code) => {
                let dialog = Dialog::uac_from_response(request_sent, response)?
                    .with_session_timer_config(adopt_request(self.config, request_sent));
                let id = self.insert(dialog);
                self.update(&id, |d| d.handle_response(request_sent, response, now))
                    .unwrap_or(Ok(()))?;
                Some(id)
            }
            _ => None,
        };
        if initial && code >= 300 {
            let call_id = response.call_id()?.to_string();
            let local_tag = request_sent.from()?.tag().unwrap_or_default().to_string();
            self.end_early_dialogs(&call_id, &local_tag);
        }
        Ok(found)
    }

    /// Terminates the early UAC dialogs of one INVITE (Call-ID and our From tag): on a final
    /// failure, and when the INVITE client transaction ends after a 2xx from another fork.
    pub fn end_early_dialogs(&mut self, call_id: &str, local_tag: &str) -> Vec<DialogId> {
        let mut ended = Vec::new();
        let key = (call_id.to_string(), local_tag.to_string());
        if let Some(group) = self.groups.get_mut(&key) {
            for slot in group.iter_mut() {
                let d = &mut slot.dialog;
                if d.role() == Role::Uac && d.state() == DialogState::Early {
                    d.terminate();
                    ended.push(d.id().clone());
                }
            }
        }
        ended
    }

    /// Requeues a dialog's timer if its deadline changed.
    fn reschedule(&mut self, id: &DialogId) {
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        let next = slot.dialog.poll_timeout();
        if next == slot.scheduled {
            return;
        }
        slot.scheduled = next;
        if let Some(at) = next {
            self.heap.push(Reverse((at, id.clone())));
        }
        if self.heap.len() > 2 * self.count + 1024 {
            self.compact();
        }
    }

    /// Rebuilds the heap from the live deadlines, dropping stale entries.
    fn compact(&mut self) {
        self.heap = self
            .groups
            .values()
            .flatten()
            .filter_map(|s| Some(Reverse((s.scheduled?, s.dialog.id().clone()))))
            .collect();
    }

    fn is_live(&self, at: Instant, id: &DialogId) -> bool {
        self.slot(id).is_some_and(|s| s.scheduled == Some(at))
    }

    /// The earliest session-timer deadline of any dialog.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.heap.peek() {
            if self.is_live(*at, id) {
                return Some(*at);
            }
            self.heap.pop();
        }
        None
    }

    /// Fires every session timer due at `now`: refresh requests to send and expired dialogs
    /// (for which the caller sends BYE), each with its dialog's identifier.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<(DialogId, DialogAction)> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, id))) = self.heap.pop() else {
                break;
            };
            if self.is_live(at, &id) {
                due.push(id);
            }
        }
        let mut actions = Vec::new();
        for id in due {
            if let Some(slot) = self.slot_mut(&id) {
                slot.scheduled = None;
                if let Some(action) = slot.dialog.handle_timeout(now) {
                    actions.push((id.clone(), action));
                }
            }
            self.reschedule(&id);
        }
        actions
    }
}
