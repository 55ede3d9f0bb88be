//! Alerts on a fake clock: the ACD engine driven with made-up instants (and the matching wall
//! time), each alert kind just below, at and just above its thresholds.
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::*;
use crate::acd::{AcdConfig, AgentSettings, CallId, Engine, Input, QueueSettings, Requested};

struct Clock {
    t0: Instant,
    wall0: DateTime<Utc>,
}

impl Clock {
    fn new() -> Self {
        Clock {
            t0: Instant::now(),
            wall0: DateTime::parse_from_rfc3339("2026-11-27T09:00:00+08:00")
                .unwrap()
                .with_timezone(&Utc),
        }
    }
    fn at(&self, secs: u64) -> (Instant, DateTime<Utc>) {
        (
            self.t0 + Duration::from_secs(secs),
            self.wall0 + chrono::Duration::seconds(secs as i64),
        )
    }
}

/// Queue "12345" with agents 1001 and 1002.
fn engine() -> Engine {
    Engine::new(AcdConfig {
        queues: vec![QueueSettings::new("12345")],
        agents: ["1001", "1002"]
            .iter()
            .map(|a| AgentSettings::new(a, &["12345"]))
            .collect(),
    })
}

/// The alerts from the engine's picture at `secs`, with nothing else (no figures of today,
/// no calls without an order).
fn engine_alerts(e: &Engine, clock: &Clock, secs: u64, cfg: &WallboardConfig) -> Vec<Alert> {
    let (now, wall) = clock.at(secs);
    let queues = e.queue_snapshots(now);
    let agents = e.agent_snapshots(now, wall);
    alerts(
        AlertInput {
            queues: &queues,
            agents: &agents,
            today: &[],
            without_order: &[],
            now: wall,
        },
        cfg,
    )
}

fn kinds(a: &[Alert]) -> Vec<(AlertKind, Severity, f64)> {
    a.iter().map(|a| (a.kind, a.severity, a.value)).collect()
}

#[test]
fn long_wait_over_the_target_then_critical() {
    let clock = Clock::new();
    let cfg = WallboardConfig {
        agent_stuck_secs: Default::default(),
        ..WallboardConfig::default()
    };
    let mut e = engine();
    let (t0, _) = clock.at(0);
    e.handle(
        Input::AgentLogin {
            agent: "1001".into(),
            contact_registered: true,
        },
        t0,
    )
    .unwrap();
    e.handle(
        Input::SetState {
            agent: "1001".into(),
            state: Requested::NotReady("meeting".into()),
        },
        t0,
    )
    .unwrap();
    e.handle(
        Input::CallArrived {
            call: CallId(1),
            queue: "12345".into(),
            priority: 0,
            caller_number: "13800000001".into(),
        },
        t0,
    )
    .unwrap();
    assert!(
        engine_alerts(&e, &clock, 15, &cfg).is_empty(),
        "15 s is the target itself"
    );
    let a = engine_alerts(&e, &clock, 16, &cfg);
    assert_eq!(
        kinds(&a),
        vec![(AlertKind::LongWait, Severity::Warning, 16.0)]
    );
    assert_eq!(a[0].queue.as_deref(), Some("12345"));
    assert_eq!(a[0].target, 15.0);
    assert_eq!(
        a[0].message_en,
        "Queue 12345: longest wait 16 s, over the 15 s target (1 waiting)"
    );
    assert_eq!(
        a[0].message_zh,
        "队列 12345 最长等待 16 秒，超过目标 15 秒（1 人排队）"
    );
    assert_eq!(
        kinds(&engine_alerts(&e, &clock, 60, &cfg)),
        vec![(AlertKind::LongWait, Severity::Warning, 60.0)]
    );
    let a = engine_alerts(&e, &clock, 61, &cfg);
    assert_eq!(
        kinds(&a),
        vec![(AlertKind::LongWait, Severity::Critical, 61.0)]
    );
    assert_eq!(
        a[0].message_en,
        "Queue 12345: longest wait 1 min 1 s, over the 15 s target (1 waiting)"
    );
    // The caller hangs up: nothing waits, nothing to say.
    let (t, _) = clock.at(62);
    e.handle(Input::CallerHungUp { call: CallId(1) }, t)
        .unwrap();
    assert!(engine_alerts(&e, &clock, 62, &cfg).is_empty());
}

#[test]
fn agent_stuck_per_state_threshold_and_twice_it_critical() {
    let clock = Clock::new();
    let cfg = WallboardConfig::default(); // not-ready 900 s, break 1200 s
    let mut e = engine();
    let (t0, _) = clock.at(0);
    for a in ["1001", "1002"] {
        e.handle(
            Input::AgentLogin {
                agent: a.into(),
                contact_registered: true,
            },
            t0,
        )
        .unwrap();
    }
    e.handle(
        Input::SetState {
            agent: "1001".into(),
            state: Requested::NotReady("meeting".into()),
        },
        t0,
    )
    .unwrap();
    // 1002 stays ready: never stuck, however long.
    assert!(engine_alerts(&e, &clock, 900, &cfg).is_empty());
    let a = engine_alerts(&e, &clock, 901, &cfg);
    assert_eq!(
        kinds(&a),
        vec![(AlertKind::AgentStuck, Severity::Warning, 901.0)]
    );
    assert_eq!(a[0].agent.as_deref(), Some("1001"));
    assert_eq!(a[0].target, 900.0);
    assert_eq!(
        a[0].message_zh,
        "坐席 1001 示忙（meeting）已 15 分 1 秒，超过 15 分钟"
    );
    assert_eq!(
        a[0].message_en,
        "Agent 1001 not-ready (meeting) for 15 min 1 s, over 15 min"
    );
    assert_eq!(
        engine_alerts(&e, &clock, 1800, &cfg)[0].severity,
        Severity::Warning
    );
    assert_eq!(
        engine_alerts(&e, &clock, 1801, &cfg)[0].severity,
        Severity::Critical
    );
    // A break starts the clock again, with the break's threshold.
    let (t, _) = clock.at(2000);
    e.handle(
        Input::SetState {
            agent: "1001".into(),
            state: Requested::Break,
        },
        t,
    )
    .unwrap();
    assert!(engine_alerts(&e, &clock, 3200, &cfg).is_empty());
    let a = engine_alerts(&e, &clock, 3201, &cfg);
    assert_eq!(
        kinds(&a),
        vec![(AlertKind::AgentStuck, Severity::Warning, 1201.0)]
    );
    // A state left out of the thresholds never alerts.
    let mut without_break = cfg.clone();
    without_break.agent_stuck_secs.remove("break");
    assert!(engine_alerts(&e, &clock, 9000, &without_break).is_empty());
}

#[test]
fn agent_stuck_ringing_and_wrap_up() {
    let clock = Clock::new();
    let cfg = WallboardConfig::default(); // ringing 60 s, wrap-up 180 s
    let mut q = QueueSettings::new("12345");
    q.ring_secs = 600;
    q.wrap_up_secs = 600;
    let mut e = Engine::new(AcdConfig {
        queues: vec![q],
        agents: vec![AgentSettings::new("1001", &["12345"])],
    });
    let (t0, _) = clock.at(0);
    e.handle(
        Input::AgentLogin {
            agent: "1001".into(),
            contact_registered: true,
        },
        t0,
    )
    .unwrap();
    e.handle(
        Input::CallArrived {
            call: CallId(7),
            queue: "12345".into(),
            priority: 0,
            caller_number: "13800000007".into(),
        },
        t0,
    )
    .unwrap();
    assert!(engine_alerts(&e, &clock, 60, &cfg).is_empty());
    assert_eq!(
        kinds(&engine_alerts(&e, &clock, 61, &cfg)),
        vec![(AlertKind::AgentStuck, Severity::Warning, 61.0)]
    );
    let (t, _) = clock.at(100);
    e.handle(
        Input::AgentAnswered {
            call: CallId(7),
            agent: "1001".into(),
        },
        t,
    )
    .unwrap();
    let (t, _) = clock.at(200);
    e.handle(Input::CallEnded { call: CallId(7) }, t).unwrap();
    assert!(engine_alerts(&e, &clock, 380, &cfg).is_empty());
    let a = engine_alerts(&e, &clock, 561, &cfg);
    assert_eq!(
        kinds(&a),
        vec![(AlertKind::AgentStuck, Severity::Critical, 361.0)]
    );
    assert_eq!(
        a[0].message_en,
        "Agent 1001 wrap-up for 6 min 1 s, over 3 min"
    );
}

fn today_alerts(today: &[QueueToday], cfg: &WallboardConfig) -> Vec<(AlertKind, Severity, f64)> {
    kinds(&alerts(
        AlertInput {
            queues: &[],
            agents: &[],
            today,
            without_order: &[],
            now: Clock::new().wall0,
        },
        cfg,
    ))
}

fn day(offered: u64, sl: Option<f64>) -> QueueToday {
    QueueToday {
        queue: "12345".into(),
        offered,
        service_level: sl,
    }
}

#[test]
fn service_level_below_target_once_enough_calls_were_offered() {
    let cfg = WallboardConfig::default(); // target 0.8, critical 0.6, at least 10 offered
    assert!(
        today_alerts(&[day(9, Some(0.0))], &cfg).is_empty(),
        "9 calls are too few"
    );
    assert!(today_alerts(&[day(10, None)], &cfg).is_empty());
    assert!(
        today_alerts(&[day(10, Some(0.8))], &cfg).is_empty(),
        "at the target"
    );
    assert_eq!(
        today_alerts(&[day(10, Some(0.79))], &cfg),
        vec![(AlertKind::ServiceLevel, Severity::Warning, 0.79)]
    );
    assert_eq!(
        today_alerts(&[day(10, Some(0.6))], &cfg),
        vec![(AlertKind::ServiceLevel, Severity::Warning, 0.6)]
    );
    assert_eq!(
        today_alerts(&[day(200, Some(0.59))], &cfg),
        vec![(AlertKind::ServiceLevel, Severity::Critical, 0.59)]
    );
    let a = alerts(
        AlertInput {
            queues: &[],
            agents: &[],
            today: &[day(40, Some(0.75))],
            without_order: &[],
            now: Clock::new().wall0,
        },
        &cfg,
    );
    assert_eq!(a[0].target, 0.8);
    assert_eq!(
        a[0].message_zh,
        "队列 12345 今日服务水平 75%，低于目标 80%（已呼入 40 个）"
    );
    assert_eq!(
        a[0].message_en,
        "Queue 12345: service level today 75%, below the 80% target (40 offered)"
    );
}

#[test]
fn answered_calls_without_an_order() {
    let clock = Clock::new();
    let cfg = WallboardConfig::default(); // 300 s, critical 1800 s
    let ended = clock.wall0;
    let calls = [
        CallWithoutOrder {
            call: "c-1".into(),
            agent: Some("1001".into()),
            ended_at: ended,
        },
        CallWithoutOrder {
            call: "c-2".into(),
            agent: None,
            ended_at: ended + chrono::Duration::seconds(1500),
        },
    ];
    let at = |secs: u64| {
        alerts(
            AlertInput {
                queues: &[],
                agents: &[],
                today: &[],
                without_order: &calls,
                now: clock.at(secs).1,
            },
            &cfg,
        )
    };
    assert!(at(300).is_empty());
    let a = at(301);
    assert_eq!(
        kinds(&a),
        vec![(AlertKind::NoOrder, Severity::Warning, 301.0)]
    );
    assert_eq!(a[0].call.as_deref(), Some("c-1"));
    assert_eq!(a[0].agent.as_deref(), Some("1001"));
    assert_eq!(
        a[0].message_en,
        "Call c-1 (agent 1001) ended 5 min 1 s ago without a work order"
    );
    assert_eq!(
        a[0].message_zh,
        "通话 c-1（坐席 1001）结束 5 分 1 秒 仍未建工单"
    );
    assert_eq!(
        kinds(&at(1800)),
        vec![(AlertKind::NoOrder, Severity::Warning, 1800.0)]
    );
    // c-1 goes critical and comes first; c-2 (ended 1,500 s later) is a warning by then.
    let a = at(1800 + 1500);
    assert_eq!(
        kinds(&a),
        vec![
            (AlertKind::NoOrder, Severity::Critical, 3300.0),
            (AlertKind::NoOrder, Severity::Warning, 1800.0)
        ]
    );
    assert_eq!(
        a[1].message_en,
        "Call c-2 (agent ?) ended 30 min ago without a work order"
    );
    // A clock behind the call's end does not make a negative age.
    assert!(at(0).is_empty());
}

#[test]
fn critical_first_then_by_kind() {
    let clock = Clock::new();
    let cfg = WallboardConfig::default();
    let queues = vec![QueueSnapshot {
        name: "12319".into(),
        strategy: "longest-idle",
        waiting: 3,
        ringing: 0,
        longest_wait_secs: 20,
        agents_ready: 0,
        agents_busy: 0,
        agents_logged_in: 1,
    }];
    let wall = clock.wall0;
    let agents = vec![AgentSnapshot {
        id: "2001".into(),
        state: "break",
        reason: None,
        registered: true,
        queues: vec!["12319".into()],
        answered: 0,
        talk_secs: 0,
        wrap_up_left_secs: None,
        since: Some(wall - chrono::Duration::seconds(2401)),
        state_secs: Some(2401),
    }];
    let a = alerts(
        AlertInput {
            queues: &queues,
            agents: &agents,
            today: &[day(50, Some(0.7))],
            without_order: &[],
            now: wall,
        },
        &cfg,
    );
    assert_eq!(
        kinds(&a),
        vec![
            (AlertKind::AgentStuck, Severity::Critical, 2401.0),
            (AlertKind::LongWait, Severity::Warning, 20.0),
            (AlertKind::ServiceLevel, Severity::Warning, 0.7),
        ]
    );
    let json = serde_json::to_value(&a[0]).unwrap();
    assert_eq!(json["kind"], "agent-stuck");
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["agent"], "2001");
    assert!(json.get("queue").is_none(), "absent, not null: {json}");
}
