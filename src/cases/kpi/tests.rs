//! A synthetic day (2026-11-27, +08:00) of call records and orders with every edge case the
//! reports meet, and the figures computed by hand (the comments show the arithmetic).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use super::*;

fn offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// Local (+08:00) time on day `d` of November 2026, in UTC.
fn at(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    offset()
        .with_ymd_and_hms(2026, 11, d, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

fn t(h: u32, m: u32, s: u32) -> Option<DateTime<Utc>> {
    Some(at(27, h, m, s))
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn call(_id: &str, queue: Option<&str>, agent: Option<&str>, offered: DateTime<Utc>) -> CallFact {
    CallFact {
        queue: queue.map(Into::into),
        agent_id: agent.map(Into::into),
        offered_at: offered,
        ..Default::default()
    }
}

fn answered(
    mut c: CallFact,
    queued: Option<DateTime<Utc>>,
    ans: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    wrap_ms: Option<i64>,
) -> CallFact {
    c.queued_at = queued;
    c.answered_at = ans;
    c.ended_at = ended;
    c.wrap_up_ms = wrap_ms;
    c.disposition = ended.map(|_| "answered".into());
    c
}

fn ended(mut c: CallFact, queued: Option<DateTime<Utc>>, end: DateTime<Utc>, d: &str) -> CallFact {
    c.queued_at = queued;
    c.ended_at = Some(end);
    c.disposition = Some(d.into());
    c
}

/// The day's calls (see the module doc); c9 is the evening before, `out` a callback.
fn calls() -> Vec<CallFact> {
    let mut c1 = answered(
        call("c1", Some("12345"), Some("1001"), at(27, 9, 0, 0)),
        t(9, 0, 10),
        t(9, 0, 20), // wait 10 s (within 15)
        t(9, 5, 20), // talk 300 s
        Some(30_000),
    );
    c1.survey = Some(1);
    let mut c2 = answered(
        call("c2", Some("12345"), Some("1002"), at(27, 9, 10, 0)),
        t(9, 10, 5),
        t(9, 10, 35), // wait 30 s (outside 15)
        t(9, 12, 35), // talk 120 s
        Some(10_000),
    );
    c2.survey = Some(3);
    // Transferred from 12345 (answered by 1001) to 12319 (then 2001): the record keeps the
    // first queueing and answer, the last queue and agent, and both wrap-ups (20 s + 15 s).
    let c3 = answered(
        call("c3", Some("12319"), Some("2001"), at(27, 10, 0, 0)),
        t(10, 0, 5),
        t(10, 0, 15),  // wait 10 s (12319's service level: 20 s)
        t(10, 10, 15), // talk 600 s
        Some(35_000),
    );
    // Short abandon: waited 3 s.
    let c4 = ended(
        call("c4", Some("12345"), None, at(27, 11, 0, 0)),
        t(11, 0, 2),
        at(27, 11, 0, 5),
        "abandoned",
    );
    // Abandoned after 60 s, called back (its missed-call task is done).
    let mut c5 = ended(
        call("c5", Some("12345"), None, at(27, 11, 30, 0)),
        t(11, 30, 2),
        at(27, 11, 31, 2),
        "abandoned",
    );
    c5.called_back = true;
    // Overflowed to voicemail: offered, neither answered nor abandoned.
    let c6 = ended(
        call("c6", Some("12345"), None, at(27, 12, 0, 0)),
        t(12, 0, 3),
        at(27, 12, 2, 0),
        "voicemail",
    );
    // Hung up during the greeting: a call, not offered to a queue.
    let c7 = ended(
        call("c7", None, None, at(27, 13, 0, 0)),
        None,
        at(27, 13, 0, 4),
        "abandoned",
    );
    // Spans midnight: counts on the 27th, hour 23; no wrap-up recorded.
    let c8 = answered(
        call("c8", Some("12345"), Some("1001"), at(27, 23, 59, 0)),
        t(23, 59, 5),
        t(23, 59, 12),          // wait 7 s
        Some(at(28, 0, 4, 12)), // talk 300 s
        None,
    );
    // The evening before, ended after midnight: counts on the 26th only.
    let c9 = answered(
        call("c9", Some("12345"), Some("1002"), at(26, 23, 58, 0)),
        Some(at(26, 23, 58, 3)),
        Some(at(26, 23, 58, 10)), // wait 7 s
        Some(at(27, 0, 1, 10)),   // talk 180 s
        None,
    );
    // In progress: answered (wait 2 s), no talk time yet.
    let c11 = answered(
        call("c11", Some("12319"), Some("2002"), at(27, 14, 0, 0)),
        t(14, 0, 1),
        t(14, 0, 3),
        None,
        None,
    );
    // Refused (blacklist): a call, not offered.
    let c12 = ended(
        call("c12", None, None, at(27, 15, 0, 0)),
        None,
        at(27, 15, 0, 0),
        "rejected",
    );
    // The callback of c5: outbound, never counted.
    let mut out = answered(
        call("out", Some("12345"), Some("1003"), at(27, 16, 0, 0)),
        t(16, 0, 0),
        t(16, 0, 1),
        t(16, 3, 1),
        Some(5_000),
    );
    out.outbound = true;
    vec![c1, c2, c3, c4, c5, c6, c7, c8, c9, c11, c12, out]
}

fn orders() -> Vec<OrderFact> {
    let o = |id, created, closed, deadline, first, queue: Option<&str>, agent: Option<&str>| {
        OrderFact {
            id,
            created_at: created,
            closed_at: closed,
            deadline,
            resolved_at_intake: first,
            queue: queue.map(Into::into),
            agent_id: agent.map(Into::into),
        }
    };
    vec![
        // From c1, closed at intake, on time.
        o(
            1,
            at(27, 9, 6, 0),
            t(9, 7, 0),
            Some(at(30, 17, 30, 0)),
            true,
            Some("12345"),
            Some("1001"),
        ),
        // From c2, closed an hour late.
        o(
            2,
            at(27, 9, 13, 0),
            t(18, 0, 0),
            t(17, 0, 0),
            false,
            Some("12345"),
            Some("1002"),
        ),
        // Created a week before (no call), closed today on time.
        o(
            3,
            at(20, 10, 0, 0),
            t(10, 30, 0),
            t(12, 0, 0),
            false,
            None,
            None,
        ),
        // From c3, open.
        o(
            4,
            at(27, 10, 11, 0),
            None,
            Some(at(30, 17, 30, 0)),
            false,
            Some("12319"),
            Some("2001"),
        ),
        // The day before, open.
        o(5, at(26, 15, 0, 0), None, None, false, None, None),
    ]
}

fn params(from: u32, to: u32, group: Group) -> Params {
    Params {
        utc_offset: offset(),
        range: DayRange::new(date(from), date(to)).unwrap(),
        group,
        service_level_secs: HashMap::from([("12345".into(), 15), ("12319".into(), 20)]),
        queue: None,
        agent: None,
        keys: match group {
            Group::Queue => vec!["12345".into(), "12319".into()],
            Group::Agent => ["1001", "1002", "1003", "2001", "2002"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            _ => vec![],
        },
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn row<'a>(r: &'a Report, key: &str) -> &'a Row {
    r.rows
        .iter()
        .find(|x| x.key == key)
        .unwrap_or_else(|| panic!("no row {key}"))
}

#[test]
fn the_day_in_total() {
    let r = compute(&params(27, 27, Group::Day), &calls(), &orders());
    let t = &r.total;
    assert_eq!(t.key, "total");
    // c1 c2 c3 c4 c5 c6 c7 c8 c11 c12 (not c9: the 26th; not the outbound callback).
    assert_eq!(t.calls, 10);
    // c7 (greeting) and c12 (rejected) never reached a queue.
    assert_eq!(t.offered, 8);
    assert_eq!(t.answered, 5); // c1 c2 c3 c8 c11
    assert_eq!((t.abandoned, t.short_abandoned), (2, 1)); // c4 (3 s) c5; not c7
    assert!(close(t.connection_rate, 5.0 / 8.0));
    // Within the queue's level: c1 10≤15, c3 10≤20, c8 7≤15, c11 2≤20; not c2 (30 s).
    assert!(close(t.service_level, 4.0 / 8.0));
    assert!(close(t.asa_secs, (10.0 + 30.0 + 10.0 + 7.0 + 2.0) / 5.0));
    // Ended answered calls: c1 300 + c2 120 + c3 600 + c8 300 talk; wrap 30 + 10 + 35 + 0.
    assert_eq!(t.talk_secs, 1320.0);
    assert_eq!(t.wrap_up_secs, 75.0);
    assert!(close(t.aht_secs, 1395.0 / 4.0));
    assert_eq!(t.abandoned_called_back, 1);
    assert!(close(t.callback_rate, 0.5));
    assert_eq!((t.survey_answers, t.satisfied), (2, 1));
    assert!(close(t.satisfaction_rate, 0.5));
    // Created today: o1 o2 o4; closed today: o1 (on time) o2 (late) o3 (on time).
    assert_eq!((t.orders_created, t.first_contact_resolved), (3, 1));
    assert!(close(t.first_contact_resolution, 1.0 / 3.0));
    assert_eq!((t.orders_closed, t.closed_on_time), (3, 2));
    assert!(close(t.on_time_closure_rate, 2.0 / 3.0));
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].key, "2026-11-27");
    assert_eq!(
        Row {
            key: "total".into(),
            calls_url: t.calls_url.clone(),
            ..r.rows[0].clone()
        },
        *t
    );
}

#[test]
fn days_around_midnight() {
    let r = compute(&params(26, 28, Group::Day), &calls(), &orders());
    let keys: Vec<_> = r.rows.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(keys, ["2026-11-26", "2026-11-27", "2026-11-28"]);
    let d26 = row(&r, "2026-11-26");
    // c9 offered 23:58 on the 26th, ended after midnight: the 26th's; o5 created then.
    assert_eq!((d26.calls, d26.answered, d26.talk_secs), (1, 1, 180.0));
    assert!(close(d26.asa_secs, 7.0));
    assert_eq!(d26.orders_created, 1);
    assert_eq!(row(&r, "2026-11-27").calls, 10);
    // c8 ended on the 28th but came in on the 27th: nothing on the 28th.
    let d28 = row(&r, "2026-11-28");
    assert_eq!((d28.calls, d28.offered), (0, 0));
    assert_eq!((d28.connection_rate, d28.aht_secs), (None, None));
    assert_eq!(r.total.calls, 11);
    assert_eq!(
        d26.calls_url,
        "/api/v1/calls?direction=inbound&offered_from=2026-11-25T16%3A00%3A00Z\
         &offered_to=2026-11-26T16%3A00%3A00Z&limit=500"
    );
}

#[test]
fn hours_of_the_day() {
    let r = compute(&params(27, 27, Group::Hour), &calls(), &orders());
    assert_eq!(r.rows.len(), 24);
    assert_eq!(r.rows[0].key, "00");
    assert_eq!(r.rows[23].key, "23");
    let h9 = row(&r, "09");
    assert_eq!((h9.calls, h9.offered, h9.answered), (2, 2, 2));
    assert!(close(h9.service_level, 0.5));
    assert!(close(h9.asa_secs, 20.0));
    assert!(close(h9.aht_secs, (420.0 + 40.0) / 2.0));
    // o1 created and closed at 09, o2 created at 09 (closed at 18).
    assert_eq!(
        (h9.orders_created, h9.orders_closed, h9.closed_on_time),
        (2, 1, 1)
    );
    assert!(close(h9.first_contact_resolution, 0.5));
    let h10 = row(&r, "10");
    assert_eq!(
        (h10.answered, h10.orders_created, h10.orders_closed),
        (1, 1, 1)
    );
    let h11 = row(&r, "11");
    assert_eq!((h11.offered, h11.abandoned, h11.short_abandoned), (2, 2, 1));
    assert!(close(h11.connection_rate, 0.0));
    assert!(close(h11.callback_rate, 0.5));
    assert_eq!(row(&r, "12").offered, 1);
    let h13 = row(&r, "13");
    assert_eq!((h13.calls, h13.offered, h13.connection_rate), (1, 0, None));
    let h18 = row(&r, "18");
    assert_eq!((h18.orders_closed, h18.closed_on_time), (1, 0));
    assert!(close(h18.on_time_closure_rate, 0.0));
    let h23 = row(&r, "23");
    assert_eq!((h23.answered, h23.talk_secs), (1, 300.0));
    let empty = row(&r, "05");
    assert_eq!((empty.calls, empty.asa_secs), (0, None));
    assert!(
        h23.calls_url.contains("offered_hour=23"),
        "{}",
        h23.calls_url
    );
    let sum: u64 = r.rows.iter().map(|x| x.calls).sum();
    assert_eq!(sum, r.total.calls);
}

#[test]
fn agents_and_queues() {
    let r = compute(&params(27, 27, Group::Agent), &calls(), &orders());
    let keys: Vec<_> = r.rows.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(keys, ["1001", "1002", "1003", "2001", "2002"]);
    let a = row(&r, "1001"); // c1 and c8
    assert_eq!(
        (a.calls, a.answered, a.talk_secs, a.wrap_up_secs),
        (2, 2, 600.0, 30.0)
    );
    assert!(close(a.asa_secs, 8.5));
    assert!(close(a.aht_secs, 315.0));
    assert_eq!(
        (a.orders_created, a.orders_closed, a.closed_on_time),
        (1, 1, 1)
    );
    assert!(close(a.first_contact_resolution, 1.0));
    let b = row(&r, "1002"); // c2
    assert!(close(b.service_level, 0.0));
    assert!(close(b.satisfaction_rate, 0.0));
    assert!(close(b.on_time_closure_rate, 0.0));
    let idle = row(&r, "1003"); // only the outbound callback: nothing
    assert_eq!((idle.calls, idle.connection_rate), (0, None));
    assert_eq!(
        (row(&r, "2001").answered, row(&r, "2001").orders_created),
        (1, 1)
    );
    let on_call = row(&r, "2002"); // c11, in progress
    assert_eq!(
        (on_call.answered, on_call.aht_secs, on_call.talk_secs),
        (1, None, 0.0)
    );
    assert!(on_call.calls_url.contains("agent_id=2002"));
    // Calls nobody answered have no agent row, but count in the total.
    assert_eq!(r.total.calls, 10);

    let q = compute(&params(27, 27, Group::Queue), &calls(), &orders());
    let (a, b) = (row(&q, "12345"), row(&q, "12319"));
    assert_eq!((a.calls, a.offered, a.answered, a.abandoned), (6, 6, 3, 2));
    assert_eq!((b.calls, b.offered, b.answered), (2, 2, 2));
    assert!(close(b.service_level, 1.0));
}

#[test]
fn a_queue_filter_narrows_calls_and_orders() {
    let mut p = params(27, 27, Group::Day);
    p.queue = Some("12319".into());
    let r = compute(&p, &calls(), &orders());
    assert_eq!((r.total.calls, r.total.answered), (2, 2));
    assert_eq!((r.total.orders_created, r.total.orders_closed), (1, 0));
    assert!(r.total.calls_url.contains("queue=12319"));
}

#[test]
fn ranges_and_names() {
    assert!(DayRange::new(date(2), date(1)).is_err());
    let long = DayRange::new(date(1), date(1) + chrono::Days::new(366));
    assert_eq!(long.unwrap_err().field, "to");
    assert!(DayRange::new(date(1), date(1) + chrono::Days::new(365)).is_ok());
    assert_eq!(parse_date("from", "2026-13-01").unwrap_err().field, "from");
    let m = DayRange::month("month", "2026-02").unwrap();
    assert_eq!(
        (m.from, m.to),
        (
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        )
    );
    assert!(DayRange::month("month", "2026-2x").is_err());
    let (s, e) = DayRange::new(date(27), date(27))
        .unwrap()
        .utc_bounds(offset());
    assert_eq!((s, e), (at(27, 0, 0, 0), at(28, 0, 0, 0)));
    assert_eq!(Group::parse("hour"), Some(Group::Hour));
    assert_eq!(Group::parse("week"), None);
}

#[test]
fn accumulators_fed_apart_merge_into_the_report_of_all() {
    // The store feeds calls and orders to two accumulators at once, then merges them; any
    // split of the facts must give the report of all of them at once.
    for group in [Group::Day, Group::Hour, Group::Queue, Group::Agent] {
        let p = params(26, 28, group);
        let all = compute(&p, &calls(), &orders());
        let mut first = Accumulator::new(&p);
        let mut second = Accumulator::new(&p);
        for (i, c) in calls().iter().enumerate() {
            if i % 2 == 0 {
                first.add_call(c);
            } else {
                second.add_call(c);
            }
        }
        orders().iter().for_each(|o| second.add_order(o));
        first.merge(second);
        assert_eq!(first.finish(), all, "{group:?}");
    }
    let p = params(27, 27, Group::Day);
    let empty = Accumulator::new(&p).finish();
    assert_eq!(empty.rows.len(), 1);
    assert_eq!(empty.total.calls, 0);
    assert_eq!(empty.total.service_level, None);
}

#[test]
fn a_caller_still_waiting_is_not_offered_until_answered_or_gone() {
    // The day at 14:00:30 (local): c11 answered after 2 s, plus a caller queued at 14:00:05
    // on 12345 who is still waiting (25 s, past the 15 s service level). It counts as a call,
    // but in no rate: the wallboard's live `waiting` shows it.
    let p = params(27, 27, Group::Queue);
    let mut facts = calls();
    let waiting = answered(
        call("c13", Some("12345"), None, at(27, 14, 0, 0)),
        t(14, 0, 5),
        None,
        None,
        None,
    );
    assert!(!waiting.has_outcome());
    facts.push(waiting.clone());
    let before = compute(&p, &calls(), &orders());
    let now = compute(&p, &facts, &orders());
    let (b, n) = (row(&before, "12345"), row(&now, "12345"));
    assert_eq!(n.calls, b.calls + 1);
    assert_eq!(n.offered, b.offered);
    assert_eq!(n.service_level, b.service_level);
    assert_eq!(n.connection_rate, b.connection_rate);
    assert_eq!(now.total.offered, before.total.offered);
    // Once it has an outcome it counts: answered at 14:00:40 (35 s, a miss of the SL)…
    let mut later = facts.clone();
    let last = later.len() - 1;
    later[last] = answered(waiting.clone(), t(14, 0, 5), t(14, 0, 40), None, None);
    later[last].agent_id = Some("1001".into());
    let r = compute(&p, &later, &orders());
    let q = row(&r, "12345");
    assert_eq!((q.offered, q.answered), (b.offered + 1, b.answered + 1));
    // 12345 before: offered 6 (c1 c2 c4 c5 c6 c8), within 15 s 2 (c1, c8); now 2 of 7.
    assert_eq!(b.offered, 6);
    assert!(close(q.service_level, 2.0 / 7.0));
    // … or hung up at 14:01:00: abandoned.
    later[last] = ended(waiting, t(14, 0, 5), at(27, 14, 1, 0), "abandoned");
    let r = compute(&p, &later, &orders());
    let q = row(&r, "12345");
    assert_eq!((q.offered, q.abandoned), (b.offered + 1, b.abandoned + 1));
    assert!(close(q.connection_rate, 3.0 / 7.0));
}
