//! Key performance indicators of the hotline (DOMAIN.md "KPIs"), computed from plain facts:
//! the inbound call records, work orders and missed-call callback outcomes of a range of local
//! days, grouped per local day, hour of day, queue or agent. Pure: the store streams the facts
//! (`cases::store` `reports.rs`) into an [`Accumulator`], which counts them one at a time (its
//! memory is the rows of the report, not the facts); no I/O, no clock.
//!
//! Definitions (docs/reports.md has the long form): only inbound calls count; a call belongs
//! to the local day and hour it was *offered* (so a call spanning midnight counts on the day
//! it came in); `offered` = reached a queue and has an outcome (answered or ended: a caller
//! still waiting is in no figure but `calls`); `answered` = answered by an agent after queueing;
//! `abandoned` = disposition abandoned after queueing, `short_abandoned` those with a wait
//! (ended − queued) under 5 s; service level = answered with wait ≤ the queue's service-level
//! seconds / offered; ASA = mean wait of answered calls; AHT = mean of talk (ended − answered)
//! plus wrap-up over answered calls that have ended; callback rate = abandoned calls whose
//! missed-call task ended done / abandoned calls; satisfaction = survey answer 1 / answers.
//! Orders count on the local day they were created (created, first-contact resolution) or
//! closed (closed, closed on time = closed_at ≤ deadline), and on the queue and agent of the
//! call they came from.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};
use serde::Serialize;

/// Longest range a report covers, in days (`to` inclusive).
pub const MAX_RANGE_DAYS: i64 = 366;

/// A wait under this is a short abandon (the caller hung up at once: often a misdial).
pub const SHORT_ABANDON_MS: i64 = 5_000;

/// Service level seconds of a queue that does not say.
pub const DEFAULT_SERVICE_LEVEL_SECS: u32 = 15;

/// What a report needs of one inbound call record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallFact {
    /// A callback to a citizen (or any call we placed): never counted.
    pub outbound: bool,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub offered_at: DateTime<Utc>,
    pub queued_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub disposition: Option<String>,
    /// 1 satisfied, 2 basically satisfied, 3 dissatisfied.
    pub survey: Option<i32>,
    pub wrap_up_ms: Option<i64>,
    /// The call's missed-call callback task ended done (the citizen was called back).
    pub called_back: bool,
}

impl CallFact {
    /// Answered by an agent, or ended. A caller still waiting in a queue (or being rung) has
    /// no outcome yet: it counts in `calls` but not in `offered` nor in any rate until it is
    /// answered or hangs up — otherwise today's service level and connection rate would dip
    /// while calls simply wait (docs/reports.md, "Calls in progress").
    pub fn has_outcome(&self) -> bool {
        (self.answered_at.is_some() && self.agent_id.is_some()) || self.ended_at.is_some()
    }
}

/// What a report needs of one work order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderFact {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// Set when the order is closed (结案); rejected and merged orders are not closed.
    pub closed_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    pub resolved_at_intake: bool,
    /// The queue and agent of the call the order was created from.
    pub queue: Option<String>,
    pub agent_id: Option<String>,
}

/// How rows are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// `YYYY-MM-DD`, local.
    Day,
    /// `00`..`23`, the local hour of day over the whole range.
    Hour,
    Queue,
    Agent,
}

impl Group {
    pub fn parse(s: &str) -> Option<Group> {
        match s {
            "day" => Some(Group::Day),
            "hour" => Some(Group::Hour),
            "queue" => Some(Group::Queue),
            "agent" => Some(Group::Agent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Day => "day",
            Group::Hour => "hour",
            Group::Queue => "queue",
            Group::Agent => "agent",
        }
    }
}

/// A range of local days, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
}

/// Why a report's parameters were refused; `field` names the query parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParamError {
    pub field: &'static str,
    pub reason: String,
}

fn bad(field: &'static str, reason: impl Into<String>) -> ParamError {
    ParamError {
        field,
        reason: reason.into(),
    }
}

/// A `YYYY-MM-DD` date named `field`.
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate, ParamError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| bad(field, format!("{s:?} is not a date like 2026-11-27")))
}

impl DayRange {
    /// `from..=to`, at most [`MAX_RANGE_DAYS`] days, `from` not after `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<DayRange, ParamError> {
        if to < from {
            return Err(bad("to", format!("{to} is before from ({from})")));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_RANGE_DAYS {
            return Err(bad(
                "to",
                format!("the range has {days} days; at most {MAX_RANGE_DAYS}"),
            ));
        }
        Ok(DayRange { from, to })
    }

    /// The local month `YYYY-MM`.
    pub fn month(field: &'static str, s: &str) -> Result<DayRange, ParamError> {
        let from = NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
            .map_err(|_| bad(field, format!("{s:?} is not a month like 2026-11")))?;
        let next = from
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| bad(field, "out of range"))?;
        Ok(DayRange {
            from,
            to: next.pred_opt().unwrap_or(from),
        })
    }

    /// The days, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }

    /// `[start, end)` in UTC: local midnight starting `from` to local midnight after `to`.
    pub fn utc_bounds(&self, offset: FixedOffset) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = local_midnight(self.from, offset);
        let end = self
            .to
            .succ_opt()
            .map(|d| local_midnight(d, offset))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        (start, end)
    }
}

/// Local midnight starting `day`, in UTC.
pub fn local_midnight(day: NaiveDate, offset: FixedOffset) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::MIN);
    DateTime::<Utc>::from_naive_utc_and_offset(
        local - TimeDelta::seconds(i64::from(offset.local_minus_utc())),
        Utc,
    )
}

/// The local date of an instant.
pub fn local_day(at: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    at.with_timezone(&offset).date_naive()
}

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct Params {
    pub utc_offset: FixedOffset,
    pub range: DayRange,
    pub group: Group,
    /// Service-level seconds per queue name; others get [`DEFAULT_SERVICE_LEVEL_SECS`].
    pub service_level_secs: HashMap<String, u32>,
    /// Only this queue's calls (and orders from them).
    pub queue: Option<String>,
    /// Only this agent's calls (and orders from them).
    pub agent: Option<String>,
    /// Keys that get a row even without any fact (the configured queues or agents); days and
    /// hours always get every row of the range.
    pub keys: Vec<String>,
}

/// One row of a report (contracts: Row). Rates are fractions 0..1, `None` when the denominator
/// is 0; seconds are totals except `asa_secs` and `aht_secs` (means).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Row {
    pub key: String,
    /// Inbound calls offered to the hotline (whether or not they reached a queue).
    pub calls: u64,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub connection_rate: Option<f64>,
    pub service_level: Option<f64>,
    pub asa_secs: Option<f64>,
    pub aht_secs: Option<f64>,
    pub talk_secs: f64,
    pub wrap_up_secs: f64,
    pub abandoned_called_back: u64,
    pub callback_rate: Option<f64>,
    pub survey_answers: u64,
    pub satisfied: u64,
    pub satisfaction_rate: Option<f64>,
    pub orders_created: u64,
    pub orders_closed: u64,
    pub closed_on_time: u64,
    pub on_time_closure_rate: Option<f64>,
    pub first_contact_resolved: u64,
    pub first_contact_resolution: Option<f64>,
    /// The `/api/v1/calls?…` query listing this row's calls.
    pub calls_url: String,
}

/// Counters behind a [`Row`] (sums in milliseconds, so that rows add up exactly).
#[derive(Debug, Clone, Default, PartialEq)]
struct Tally {
    calls: u64,
    offered: u64,
    answered: u64,
    abandoned: u64,
    short_abandoned: u64,
    within_sl: u64,
    wait_ms: i64,
    handled: u64,
    talk_ms: i64,
    wrap_ms: i64,
    called_back: u64,
    survey_answers: u64,
    satisfied: u64,
    orders_created: u64,
    orders_closed: u64,
    closed_on_time: u64,
    first_contact: u64,
}

fn ms(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_milliseconds().max(0)
}

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn mean_secs(total_ms: i64, n: u64) -> Option<f64> {
    (n > 0).then(|| (total_ms as f64 / n as f64).round() / 1000.0)
}

impl Tally {
    /// Adds another tally's counters.
    fn add(&mut self, o: &Tally) {
        self.calls += o.calls;
        self.offered += o.offered;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.within_sl += o.within_sl;
        self.wait_ms += o.wait_ms;
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.wrap_ms += o.wrap_ms;
        self.called_back += o.called_back;
        self.survey_answers += o.survey_answers;
        self.satisfied += o.satisfied;
        self.orders_created += o.orders_created;
        self.orders_closed += o.orders_closed;
        self.closed_on_time += o.closed_on_time;
        self.first_contact += o.first_contact;
    }

    fn call(&mut self, c: &CallFact, sl_ms: i64) {
        self.calls += 1;
        let Some(queued) = c.queued_at else {
            return;
        };
        if !c.has_outcome() {
            // Still waiting: the live picture shows it; it is offered once it has an outcome.
            return;
        }
        self.offered += 1;
        if let (Some(answered), Some(_)) = (c.answered_at, &c.agent_id) {
            self.answered += 1;
            let wait = ms(queued, answered);
            self.wait_ms += wait;
            if wait <= sl_ms {
                self.within_sl += 1;
            }
            if let Some(ended) = c.ended_at {
                self.handled += 1;
                self.talk_ms += ms(answered, ended);
                self.wrap_ms += c.wrap_up_ms.unwrap_or(0).max(0);
            }
        } else if c.disposition.as_deref() == Some("abandoned") {
            self.abandoned += 1;
            if c.ended_at.is_some_and(|e| ms(queued, e) < SHORT_ABANDON_MS) {
                self.short_abandoned += 1;
            }
            if c.called_back {
                self.called_back += 1;
            }
        }
        if let Some(s) = c.survey {
            self.survey_answers += 1;
            if s == 1 {
                self.satisfied += 1;
            }
        }
    }

    fn row(&self, key: String, calls_url: String) -> Row {
        Row {
            key,
            calls: self.calls,
            offered: self.offered,
            answered: self.answered,
            abandoned: self.abandoned,
            short_abandoned: self.short_abandoned,
            connection_rate: rate(self.answered, self.offered),
            service_level: rate(self.within_sl, self.offered),
            asa_secs: mean_secs(self.wait_ms, self.answered),
            aht_secs: mean_secs(self.talk_ms + self.wrap_ms, self.handled),
            talk_secs: secs(self.talk_ms),
            wrap_up_secs: secs(self.wrap_ms),
            abandoned_called_back: self.called_back,
            callback_rate: rate(self.called_back, self.abandoned),
            survey_answers: self.survey_answers,
            satisfied: self.satisfied,
            satisfaction_rate: rate(self.satisfied, self.survey_answers),
            orders_created: self.orders_created,
            orders_closed: self.orders_closed,
            closed_on_time: self.closed_on_time,
            on_time_closure_rate: rate(self.closed_on_time, self.orders_closed),
            first_contact_resolved: self.first_contact,
            first_contact_resolution: rate(self.first_contact, self.orders_created),
            calls_url,
        }
    }
}

/// A computed report: its rows in key order (days and hours chronologically) and the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub total: Row,
}

impl Params {
    fn sl_ms(&self, queue: Option<&str>) -> i64 {
        let s = queue
            .and_then(|q| self.service_level_secs.get(q).copied())
            .unwrap_or(DEFAULT_SERVICE_LEVEL_SECS);
        i64::from(s) * 1000
    }

    fn wanted(&self, queue: Option<&str>, agent: Option<&str>) -> bool {
        self.queue.as_deref().is_none_or(|q| queue == Some(q))
            && self.agent.as_deref().is_none_or(|a| agent == Some(a))
    }

    fn in_range(&self, at: DateTime<Utc>) -> bool {
        let d = local_day(at, self.utc_offset);
        d >= self.range.from && d <= self.range.to
    }

    /// The row an instant (or a queue/agent) falls in; `None`: no row (only the total).
    fn key(&self, at: DateTime<Utc>, queue: Option<&str>, agent: Option<&str>) -> Option<String> {
        match self.group {
            Group::Day => Some(
                local_day(at, self.utc_offset)
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            Group::Hour => Some(format!("{:02}", at.with_timezone(&self.utc_offset).hour())),
            Group::Queue => queue.map(str::to_string),
            Group::Agent => agent.map(str::to_string),
        }
    }

    /// Every key that has a row even when nothing happened.
    fn fixed_keys(&self) -> Vec<String> {
        match self.group {
            Group::Day => self
                .range
                .days()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
            Group::Hour => (0..24).map(|h| format!("{h:02}")).collect(),
            Group::Queue => self.keys_matching(self.queue.as_deref()),
            Group::Agent => self.keys_matching(self.agent.as_deref()),
        }
    }

    fn keys_matching(&self, only: Option<&str>) -> Vec<String> {
        self.keys
            .iter()
            .filter(|k| only.is_none_or(|o| o == k.as_str()))
            .cloned()
            .collect()
    }

    /// The `/api/v1/calls` query that lists the calls of the row `key` (`None`: the total).
    pub fn calls_url(&self, key: Option<&str>) -> String {
        let (mut start, mut end) = self.range.utc_bounds(self.utc_offset);
        let mut pairs: Vec<(&str, String)> = vec![("direction", "inbound".into())];
        let mut queue = self.queue.clone();
        let mut agent = self.agent.clone();
        let mut hour = None;
        match (self.group, key) {
            (_, None) => {}
            (Group::Day, Some(k)) => {
                if let Ok(d) = NaiveDate::parse_from_str(k, "%Y-%m-%d") {
                    let one = DayRange { from: d, to: d };
                    (start, end) = one.utc_bounds(self.utc_offset);
                }
            }
            (Group::Hour, Some(k)) => hour = Some(k.to_string()),
            (Group::Queue, Some(k)) => queue = Some(k.to_string()),
            (Group::Agent, Some(k)) => agent = Some(k.to_string()),
        }
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        pairs.push(("offered_from", fmt(start)));
        pairs.push(("offered_to", fmt(end)));
        if let Some(h) = hour {
            pairs.push(("offered_hour", h));
        }
        if let Some(q) = queue {
            pairs.push(("queue", q));
        }
        if let Some(a) = agent {
            pairs.push(("agent_id", a));
        }
        pairs.push(("limit", "500".into()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("/api/v1/calls?{query}")
    }
}

/// Counts facts into the rows of a report one at a time, so that a report over a year of a
/// busy hotline holds its rows, never its input: feed every call ([`Accumulator::add_call`])
/// and order ([`Accumulator::add_order`]) in any order, then [`Accumulator::finish`]. Facts
/// outside the range or the queue/agent filter are ignored; calls without a queue (agent)
/// have no row when grouping by queue (agent) but count in the total. Two accumulators of the
/// same parameters fed with different facts [`merge`](Accumulator::merge) into the one of all.
#[derive(Debug, Clone)]
pub struct Accumulator<'p> {
    p: &'p Params,
    rows: BTreeMap<String, Tally>,
    total: Tally,
}

impl<'p> Accumulator<'p> {
    /// An empty report of `p` (every fixed row present, all zero).
    pub fn new(p: &'p Params) -> Self {
        Accumulator {
            p,
            rows: p
                .fixed_keys()
                .into_iter()
                .map(|k| (k, Tally::default()))
                .collect(),
            total: Tally::default(),
        }
    }

    /// The row a fact falls in, created when new (a key outside the fixed ones).
    fn row_of(&mut self, key: String) -> &mut Tally {
        self.rows.entry(key).or_default()
    }

    pub fn add_call(&mut self, c: &CallFact) {
        let p = self.p;
        if c.outbound
            || !p.in_range(c.offered_at)
            || !p.wanted(c.queue.as_deref(), c.agent_id.as_deref())
        {
            return;
        }
        let sl = p.sl_ms(c.queue.as_deref());
        self.total.call(c, sl);
        if let Some(k) = p.key(c.offered_at, c.queue.as_deref(), c.agent_id.as_deref()) {
            self.row_of(k).call(c, sl);
        }
    }

    pub fn add_order(&mut self, o: &OrderFact) {
        let p = self.p;
        let (q, a) = (o.queue.as_deref(), o.agent_id.as_deref());
        if !p.wanted(q, a) {
            return;
        }
        if p.in_range(o.created_at) {
            let first = u64::from(o.resolved_at_intake);
            self.total.orders_created += 1;
            self.total.first_contact += first;
            if let Some(k) = p.key(o.created_at, q, a) {
                let t = self.row_of(k);
                t.orders_created += 1;
                t.first_contact += first;
            }
        }
        if let Some(closed) = o.closed_at.filter(|c| p.in_range(*c)) {
            let on_time = u64::from(o.deadline.is_none_or(|d| closed <= d));
            self.total.orders_closed += 1;
            self.total.closed_on_time += on_time;
            if let Some(k) = p.key(closed, q, a) {
                let t = self.row_of(k);
                t.orders_closed += 1;
                t.closed_on_time += on_time;
            }
        }
    }

    /// Adds what `other` (of the same parameters) counted.
    pub fn merge(&mut self, other: Accumulator<'_>) {
        for (k, t) in other.rows {
            self.row_of(k).add(&t);
        }
        self.total.add(&other.total);
    }

    /// The report: rows in key order, then the total.
    pub fn finish(self) -> Report {
        let p = self.p;
        Report {
            rows: self
                .rows
                .into_iter()
                .map(|(k, t)| {
                    let url = p.calls_url(Some(&k));
                    t.row(k, url)
                })
                .collect(),
            total: self.total.row("total".into(), p.calls_url(None)),
        }
    }
}

/// The report of `calls` and `orders` at once (an [`Accumulator`] fed with all of them).
pub fn compute(p: &Params, calls: &[CallFact], orders: &[OrderFact]) -> Report {
    let mut acc = Accumulator::new(p);
    calls.iter().for_each(|c| acc.add_call(c));
    orders.iter().for_each(|o| acc.add_order(o));
    acc.finish()
}

/// The fields of a [`Row`], in order (the CSV header).
pub const ROW_FIELDS: [&str; 24] = [
    "key",
    "calls",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "connection_rate",
    "service_level",
    "asa_secs",
    "aht_secs",
    "talk_secs",
    "wrap_up_secs",
    "abandoned_called_back",
    "callback_rate",
    "survey_answers",
    "satisfied",
    "satisfaction_rate",
    "orders_created",
    "orders_closed",
    "closed_on_time",
    "on_time_closure_rate",
    "first_contact_resolved",
    "first_contact_resolution",
    "calls_url",
];

impl Row {
    /// The values of [`ROW_FIELDS`] as text (an absent rate is empty).
    pub fn values(&self) -> [String; 24] {
        let o = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            self.key.clone(),
            self.calls.to_string(),
            self.offered.to_string(),
            self.answered.to_string(),
            self.abandoned.to_string(),
            self.short_abandoned.to_string(),
            o(self.connection_rate),
            o(self.service_level),
            o(self.asa_secs),
            o(self.aht_secs),
            self.talk_secs.to_string(),
            self.wrap_up_secs.to_string(),
            self.abandoned_called_back.to_string(),
            o(self.callback_rate),
            self.survey_answers.to_string(),
            self.satisfied.to_string(),
            o(self.satisfaction_rate),
            self.orders_created.to_string(),
            self.orders_closed.to_string(),
            self.closed_on_time.to_string(),
            o(self.on_time_closure_rate),
            self.first_contact_resolved.to_string(),
            o(self.first_contact_resolution),
            self.calls_url.clone(),
        ]
    }
}

/// What an agent's own day shows (the desk): its calls of the day (both directions), how many
/// it answered, its talk and wrap-up, the orders made from its calls, and its latest calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentDay<C> {
    pub date: NaiveDate,
    pub agent: String,
    pub calls: u64,
    pub answered: u64,
    pub talk_secs: f64,
    pub wrap_up_secs: f64,
    pub orders_created: u64,
    pub last_calls: Vec<C>,
}

/// One of the agent's calls as [`agent_day`] needs it.
pub trait AgentCallFacts {
    fn answered_at(&self) -> Option<DateTime<Utc>>;
    fn ended_at(&self) -> Option<DateTime<Utc>>;
    fn wrap_up_ms(&self) -> Option<i64>;
}

/// How many latest calls the agent's day lists.
pub const LAST_CALLS: usize = 10;

/// Sums an agent's calls of `date` (newest first) into its day.
pub fn agent_day<C: AgentCallFacts>(
    date: NaiveDate,
    agent: &str,
    mut calls: Vec<C>,
    orders_created: u64,
) -> AgentDay<C> {
    let mut day = AgentDay {
        date,
        agent: agent.to_string(),
        calls: calls.len() as u64,
        answered: 0,
        talk_secs: 0.0,
        wrap_up_secs: 0.0,
        orders_created,
        last_calls: Vec::new(),
    };
    let (mut talk, mut wrap) = (0i64, 0i64);
    for c in &calls {
        if let Some(a) = c.answered_at() {
            day.answered += 1;
            if let Some(e) = c.ended_at() {
                talk += ms(a, e);
            }
            wrap += c.wrap_up_ms().unwrap_or(0).max(0);
        }
    }
    day.talk_secs = secs(talk);
    day.wrap_up_secs = secs(wrap);
    calls.truncate(LAST_CALLS);
    day.last_calls = calls;
    day
}
