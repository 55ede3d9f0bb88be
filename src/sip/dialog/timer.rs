//! Session timers (RFC 4028): negotiating `Session-Expires`/`Min-SE` on INVITE and UPDATE and
//! their 2xx, and the per-dialog timer that asks for a refresh at half the interval (when we
//! are the refresher) and declares the session dead at `SE − min(32 s, SE/3)` when no refresh
//! succeeded (RFC 4028 §10).
//!
//! The `refresher` parameter names a side of the *transaction* that carries it (`uac` is the
//! sender of that INVITE or UPDATE), not of the dialog; [`TimerSide`] is what it means for us.

use std::time::{Duration, Instant};

use super::{lists, Dialog, DialogAction, Role};
use crate::sip::message::params::parse_params;
use crate::sip::message::{header::parse_delta, new_tag, HeaderError, Message, Method};

/// The RFC 4028 floor for any session interval, in seconds.
pub const ABSOLUTE_MIN_SE: u32 = 90;

/// Our session-timer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The interval we ask for and the largest we grant, in seconds.
    pub session_expires: u32,
    /// The smallest interval we accept, in seconds (never below 90).
    pub min_se: u32,
    /// Run a timer even when the peer did not ask for one: as UAS we then put Session-Expires
    /// into our 2xx ourselves, and our own INVITEs and UPDATEs always ask for one.
    pub always: bool,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        SessionTimerConfig {
            session_expires: 1800,
            min_se: ABSOLUTE_MIN_SE,
            always: true,
        }
    }
}

impl SessionTimerConfig {
    /// The settings to retry with after a 422 (RFC 4028 §7.3): Min-SE and the interval are
    /// raised to the Min-SE the 422 demands.
    pub fn raised_by_422(&self, response: &Message) -> SessionTimerConfig {
        let demanded = response
            .delta("Min-SE")
            .ok()
            .flatten()
            .unwrap_or(self.min_se);
        SessionTimerConfig {
            session_expires: self.session_expires.max(demanded),
            min_se: self.min_se.max(demanded),
            always: self.always,
        }
    }
}

/// `base` adjusted to the Session-Expires and Min-SE our own request (the initial INVITE)
/// asked for, so that later refreshes keep asking for the same.
pub fn adopt_request(base: SessionTimerConfig, request_sent: &Message) -> SessionTimerConfig {
    let mut config = base;
    if let Ok(Some((se, _))) = session_expires(request_sent) {
        config.session_expires = se;
    }
    if let Ok(Some(min_se)) = request_sent.delta("Min-SE") {
        config.min_se = min_se.max(ABSOLUTE_MIN_SE);
    }
    config
}

/// The `refresher` parameter: which side of the INVITE/UPDATE transaction refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    Uac,
    Uas,
}

impl Refresher {
    pub fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// Who refreshes, seen from our side of the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerSide {
    /// We send the refreshes.
    Local,
    /// The peer sends them; we only watch for expiry.
    Remote,
}

/// The outcome of a negotiation: the session interval in seconds and who refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub interval: u32,
    pub refresher: Refresher,
}

/// A running session timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTimer {
    interval: u32,
    side: TimerSide,
    started: Instant,
    /// The refresh for this period went out; wait for its 2xx or for expiry.
    refresh_sent: bool,
    /// A refresh to send earlier or later than half-time (after a 422 or a 491).
    retry_at: Option<Instant>,
}

impl SessionTimer {
    pub fn new(interval: u32, side: TimerSide, started: Instant) -> SessionTimer {
        SessionTimer {
            interval,
            side,
            started,
            refresh_sent: false,
            retry_at: None,
        }
    }

    /// Session interval in seconds.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    pub fn side(&self) -> TimerSide {
        self.side
    }

    /// When the current period began (the last successful refresh).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// When we are due to send a refresh: half the interval after the last one, unless it
    /// already went out. `None` when the peer is the refresher.
    pub fn refresh_at(&self) -> Option<Instant> {
        if self.side != TimerSide::Local || self.refresh_sent {
            return None;
        }
        Some(
            self.retry_at
                .unwrap_or(self.started + Duration::from_millis(u64::from(self.interval) * 500)),
        )
    }

    /// When the session counts as dead: `SE − min(32 s, SE/3)` after the last refresh.
    pub fn expires_at(&self) -> Instant {
        let se_ms = u64::from(self.interval) * 1000;
        self.started + Duration::from_millis(se_ms - (se_ms / 3).min(32_000))
    }

    /// The earlier of the refresh and expiry deadlines.
    pub fn next_deadline(&self) -> Instant {
        match self.refresh_at() {
            Some(r) => r.min(self.expires_at()),
            None => self.expires_at(),
        }
    }
}

/// Session-Expires of a message: the interval and the refresher parameter, if any. An
/// unknown refresher value counts as absent.
pub fn session_expires(msg: &Message) -> Result<Option<(u32, Option<Refresher>)>, HeaderError> {
    let bad = |reason| HeaderError {
        header: "Session-Expires",
        reason,
    };
    let Some(v) = msg.header("Session-Expires") else {
        return Ok(None);
    };
    let (delta, rest) = v.split_at(v.find(';').unwrap_or(v.len()));
    let secs = parse_delta(delta).map_err(bad)?;
    let params = parse_params(rest).map_err(|e| bad(e.0))?;
    let refresher = match params.get("refresher").flatten() {
        Some(r) if r.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
        Some(r) if r.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
        _ => None,
    };
    Ok(Some((secs, refresher)))
}

fn supports_timer(msg: &Message) -> bool {
    lists(msg, "Supported", "timer") || lists(msg, "Require", "timer")
}

/// The UAS decision for an incoming INVITE or UPDATE (RFC 4028 §9), initial or in-dialog.
///
/// `Err(min_se)`: the requested interval is below our Min-SE and the UAC supports the
/// extension: answer 422 with that Min-SE ([`response_422`]). A UAC that does not support it
/// cannot understand a 422, so its (proxy-inserted) interval is raised to our Min-SE instead.
///
/// `Ok(Some(_))`: run a timer with this interval and refresher. The interval is the requested
/// one, lowered to our `session_expires` but not below either Min-SE. The refresher is the
/// request's `refresher` parameter; without one, the UAC when it supports `timer`, else us.
/// Without Session-Expires in the request we still run our own timer when `config.always`.
///
/// `Ok(None)`: no session timer.
pub fn negotiate_uas(
    req: &Message,
    config: &SessionTimerConfig,
) -> Result<Option<Negotiated>, u32> {
    let uac_supports = supports_timer(req);
    let req_min_se = req
        .delta("Min-SE")
        .ok()
        .flatten()
        .unwrap_or(ABSOLUTE_MIN_SE);
    let floor = config.min_se.max(req_min_se).max(ABSOLUTE_MIN_SE);
    let default_refresher = if uac_supports {
        Refresher::Uac
    } else {
        Refresher::Uas
    };
    match session_expires(req).ok().flatten() {
        Some((se, _)) if se < config.min_se.max(ABSOLUTE_MIN_SE) => {
            if uac_supports {
                Err(config.min_se.max(ABSOLUTE_MIN_SE))
            } else {
                Ok(Some(Negotiated {
                    interval: floor,
                    refresher: Refresher::Uas,
                }))
            }
        }
        Some((se, refresher)) => Ok(Some(Negotiated {
            interval: se.min(config.session_expires.max(floor)),
            refresher: refresher.unwrap_or(default_refresher),
        })),
        None if config.always => Ok(Some(Negotiated {
            interval: config.session_expires.max(floor),
            refresher: default_refresher,
        })),
        None => Ok(None),
    }
}

/// The UAC reading of a 2xx to its INVITE or UPDATE (RFC 4028 §7.2). A 2xx without
/// Session-Expires to a request that asked for a timer means the UAS does not support it: we
/// keep the timer for ourselves with the interval we asked for, as refresher.
pub fn negotiate_uac(request_sent: &Message, response: &Message) -> Option<Negotiated> {
    match session_expires(response).ok().flatten() {
        Some((interval, refresher)) => Some(Negotiated {
            interval,
            refresher: refresher.unwrap_or(Refresher::Uac),
        }),
        None => session_expires(request_sent)
            .ok()
            .flatten()
            .map(|(interval, _)| Negotiated {
                interval,
                refresher: Refresher::Uac,
            }),
    }
}

/// A 422 Session Interval Too Small answer to `req`, carrying our Min-SE (a To tag is added
/// when the request had none).
pub fn response_422(req: &Message, config: &SessionTimerConfig) -> Message {
    let mut res = Message::response_to(req, 422, None);
    res.ensure_to_tag(&new_tag());
    res.set_header("Min-SE", config.min_se.max(ABSOLUTE_MIN_SE).to_string());
    res
}

/// Adds a list token (`timer`) to Supported/Require unless it is already there.
fn add_token(msg: &mut Message, header: &str, token: &str) {
    if !lists(msg, header, token) {
        match msg.header(header) {
            Some(v) if !v.trim().is_empty() => {
                let joined = format!("{v}, {token}");
                msg.set_header(header, joined);
            }
            _ => msg.set_header(header, token),
        }
    }
}

/// Asks for a session timer in an outgoing INVITE or UPDATE: `Supported: timer`,
/// `Session-Expires` (with `refresher` when given) and `Min-SE`. Use it on the initial INVITE;
/// in-dialog requests from [`Dialog::new_request`] get these headers automatically.
pub fn add_to_request(
    msg: &mut Message,
    config: &SessionTimerConfig,
    interval: u32,
    refresher: Option<Refresher>,
) {
    add_token(msg, "Supported", "timer");
    let se = match refresher {
        Some(r) => format!("{interval};refresher={}", r.as_str()),
        None => interval.to_string(),
    };
    msg.set_header("Session-Expires", se);
    let min_se = config.min_se.max(ABSOLUTE_MIN_SE).min(interval);
    msg.set_header("Min-SE", min_se.to_string());
}

/// Writes the negotiated timer into our 2xx: `Session-Expires: N;refresher=…` and, when the
/// UAC supports the extension, `Require: timer` (mandatory when the UAC refreshes).
pub fn add_to_response(resp: &mut Message, negotiated: &Negotiated, uac_supports: bool) {
    resp.set_header(
        "Session-Expires",
        format!(
            "{};refresher={}",
            negotiated.interval,
            negotiated.refresher.as_str()
        ),
    );
    if uac_supports {
        add_token(resp, "Require", "timer");
    }
}

impl Dialog {
    /// The next instant at which [`Dialog::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_terminated() {
            return None;
        }
        self.timer.as_ref().map(SessionTimer::next_deadline)
    }

    /// Fires the session timer: a refresh request when we are the refresher and it is due,
    /// [`DialogAction::Expired`] when the session expired (the timer is then stopped and the
    /// caller sends BYE). Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<DialogAction> {
        if self.is_terminated() {
            return None;
        }
        let timer = self.timer.as_mut()?;
        if now >= timer.expires_at() {
            self.timer = None;
            return Some(DialogAction::Expired);
        }
        if timer.refresh_at().is_some_and(|at| now >= at) {
            let method = if self.peer_allows_update {
                Method::Update
            } else {
                Method::Invite
            };
            if method == Method::Invite
                && (self.local_invite_pending.is_some() || self.remote_invite_pending.is_some())
            {
                // An INVITE transaction is in progress; a second one would only meet a 491
                // (its 2xx will refresh the session anyway).
                timer.retry_at = Some(now + Duration::from_secs(1));
                return None;
            }
            timer.refresh_sent = true;
            timer.retry_at = None;
            return Some(DialogAction::SendRefresh(Box::new(
                self.new_request(method),
            )));
        }
        None
    }

    /// Session-timer headers for an INVITE or UPDATE we send in the dialog: the current
    /// interval (raised to our Min-SE after a 422) with the refresher unchanged (expressed in
    /// this transaction's roles), or a fresh request for a timer when none runs and the
    /// config says `always`.
    pub(super) fn add_timer_headers(&self, req: &mut Message) {
        match &self.timer {
            Some(t) => {
                let refresher = match t.side {
                    TimerSide::Local => Refresher::Uac,
                    TimerSide::Remote => Refresher::Uas,
                };
                let interval = t.interval.max(self.timer_config.min_se);
                add_to_request(req, &self.timer_config, interval, Some(refresher));
            }
            None if self.timer_config.always => {
                let se = self.timer_config.session_expires;
                add_to_request(req, &self.timer_config, se, None);
            }
            None => add_token(req, "Supported", "timer"),
        }
    }

    /// Starts (or restarts, or stops with `None`) the timer after a successful INVITE/UPDATE.
    /// `we_sent` tells which side of that transaction we were.
    pub(super) fn restart_timer(
        &mut self,
        negotiated: Option<Negotiated>,
        we_sent: bool,
        now: Instant,
    ) {
        self.timer = negotiated.map(|n| {
            let ours = match n.refresher {
                Refresher::Uac => we_sent,
                Refresher::Uas => !we_sent,
            };
            let side = if ours {
                TimerSide::Local
            } else {
                TimerSide::Remote
            };
            SessionTimer::new(n.interval, side, now)
        });
    }

    /// A non-2xx final response to an INVITE or UPDATE we sent while our refresh was pending:
    /// a 422 raises our Min-SE and retries at once, a 491 (glare, RFC 3261 §14.1) retries after
    /// a pause (longer for the Call-ID owner). Other failures leave the session to expire.
    pub(super) fn refresh_failed(&mut self, response: &Message, now: Instant) {
        let code = response.status().unwrap_or(0);
        if code == 422 {
            self.timer_config = self.timer_config.raised_by_422(response);
        }
        let Some(timer) = self.timer.as_mut() else {
            return;
        };
        if !timer.refresh_sent {
            return;
        }
        let pause = match code {
            // The next request asks for the raised Min-SE (see `add_timer_headers`); the
            // current period keeps the interval last agreed.
            422 => Duration::ZERO,
            491 if self.role == Role::Uac => Duration::from_millis(3000),
            491 => Duration::from_millis(1000),
            _ => return,
        };
        timer.refresh_sent = false;
        timer.retry_at = Some(now + pause);
    }

    /// Negotiates for a 2xx we send to an INVITE or UPDATE and writes the headers into it.
    pub(super) fn answer_timer(&mut self, req: &Message, resp: &mut Message, now: Instant) {
        // A refusal should have been answered with 422 before; if the caller answers 2xx
        // anyway, the session runs without a timer.
        let negotiated = negotiate_uas(req, &self.timer_config).ok().flatten();
        if let Some(n) = &negotiated {
            add_to_response(resp, n, supports_timer(req));
        }
        self.restart_timer(negotiated, false, now);
    }
}
