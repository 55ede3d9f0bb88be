//! The call path in the case store: the new call-record columns, the append-only call steps,
//! list filters, tying a call to an order, orders made by calls, the caller's previous orders,
//! and callback tasks from creation to done, failed or cancelled.

use super::*;
use hotline::cases::store::{CallbackQuery, NewCallbackAttempt, OrderFromCall, RecordingRef};
use hotline::cases::{CallStep, NewCallbackTask};

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// A call with every new column set.
fn full_call(id: &str, t: DateTime<Utc>) -> CallRecord {
    CallRecord {
        sip_call_id: Some(format!("{id}@carrier.example")),
        trunk: Some("carrier".into()),
        priority: 5,
        language: Some("en".into()),
        queue: Some("12345".into()),
        agent_id: Some("1001".into()),
        queued_at: Some(t + secs(10)),
        ringing_at: Some(t + secs(12)),
        answered_at: Some(t + secs(15)),
        ended_at: Some(t + secs(300)),
        disposition: Some("answered".into()),
        transferred_to: Some("12319".into()),
        survey: Some(2),
        recording_path: Some("recordings/2026/11/23/x.wav".into()),
        voicemail_offset_ms: Some(4_250),
        needs_order: true,
        ..CallRecord::inbound(id, "13800000009", "12345", t)
    }
}

pub(crate) async fn call_path_columns_round_trip(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let mut c = full_call("rt-1", t);
    let task = ts
        .store
        .create_callback_task(
            &NewCallbackTask {
                kind: "requested".into(),
                number: c.from_number.clone(),
                queue: c.queue.clone(),
                call_id: Some(c.id.clone()),
                max_attempts: 3,
                work_order_id: None,
            },
            t,
        )
        .await
        .unwrap();
    c.callback_task_id = Some(task.id);
    ts.store.save_call(&c).await.unwrap();
    assert_eq!(ts.store.get_call("rt-1").await.unwrap().unwrap(), c);
    // An outbound call (a callback) with nothing optional.
    let mut out = CallRecord::inbound("rt-2", "12345", "13800000009", t);
    out.direction = "outbound".into();
    ts.store.save_call(&out).await.unwrap();
    assert_eq!(ts.store.get_call("rt-2").await.unwrap().unwrap(), out);
    // Refused values name their field.
    for (field, bad) in [
        ("direction", {
            let mut x = out.clone();
            x.direction = "sideways".into();
            x
        }),
        ("survey", {
            let mut x = out.clone();
            x.survey = Some(4);
            x
        }),
        ("voicemail_offset_ms", {
            let mut x = out.clone();
            x.voicemail_offset_ms = Some(-1);
            x
        }),
    ] {
        let err = ts.store.save_call(&bad).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
    }
}

pub(crate) async fn call_steps_are_append_only(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    // With a supervisor's steps (migration 0006 widened the database's list).
    let names = [
        "offered",
        "greeting",
        "queued",
        "ringing",
        "answered",
        "monitor",
        "monitor-stop",
        "force-hangup",
        "ended",
    ];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut s = CallStep::new("st-1", t + secs(i as i64), name);
        if *name == "ringing" || *name == "answered" {
            s.agent_id = Some("1001".into());
        }
        s.detail = (*name == "ended").then(|| "remote BYE".to_string());
        ids.push(ts.store.add_call_step(&s).await.unwrap());
    }
    let steps = ts.store.call_steps("st-1").await.unwrap();
    assert_eq!(steps.iter().map(|s| s.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(),
        names
    );
    assert_eq!(steps[3].agent_id.as_deref(), Some("1001"));
    assert_eq!(steps[8].detail.as_deref(), Some("remote BYE"));
    assert_eq!(steps[8].at, t + secs(8));
    assert!(ts.store.call_steps("other").await.unwrap().is_empty());
    let err = ts
        .store
        .add_call_step(&CallStep::new("st-1", t, "teleported"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "step"),
        "{err:?}"
    );
    let update = "UPDATE call_steps SET detail = 'forged'";
    let delete = "DELETE FROM call_steps";
    // The database refuses an unknown step too (its CHECK survived the rebuild).
    let forged = "INSERT INTO call_steps (call_id, at, step) VALUES ('st-1', '2026-11-23T02:00:00Z', 'teleported')";
    match b {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&ts.url).await.unwrap();
            for sql in [update, delete] {
                let err = sqlx::query(sql).execute(&mut c).await.unwrap_err();
                assert!(err.to_string().contains("append-only"), "{err}");
            }
            let err = sqlx::query(forged).execute(&mut c).await.unwrap_err();
            assert!(err.to_string().contains("CHECK"), "{err}");
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&ts.url).await.unwrap();
            for sql in [update, delete] {
                let err = sqlx::query(sql).execute(&mut c).await.unwrap_err();
                assert!(err.to_string().contains("append-only"), "{err}");
            }
            let err = sqlx::query(forged).execute(&mut c).await.unwrap_err();
            assert!(err.to_string().contains("call_steps_step_check"), "{err}");
        }
    }
    assert_eq!(ts.store.call_steps("st-1").await.unwrap(), steps);
}

pub(crate) async fn call_list_filters(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let mut a = full_call("f-1", t);
    a.needs_order = true;
    let mut abandoned = CallRecord::inbound("f-2", "13800000002", "12319", t + secs(60));
    abandoned.queue = Some("12319".into());
    abandoned.disposition = Some("abandoned".into());
    abandoned.disposition_detail = Some("queue".into());
    let mut out = CallRecord::inbound("f-3", "12345", "13800000002", t + secs(120));
    out.direction = "outbound".into();
    out.agent_id = Some("1002".into());
    for c in [&a, &abandoned, &out] {
        ts.store.save_call(c).await.unwrap();
    }
    let ids = |q: CallQuery| {
        let store = ts.store.clone();
        async move {
            store
                .list_calls(&q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(CallQuery::default()).await, ["f-3", "f-2", "f-1"]);
    let q = |f: fn(&mut CallQuery)| {
        let mut q = CallQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(ids(q(|q| q.needs_order = Some(true))).await, ["f-1"]);
    assert_eq!(
        ids(q(|q| q.needs_order = Some(false))).await,
        ["f-3", "f-2"]
    );
    assert_eq!(
        ids(q(|q| q.direction = Some("outbound".into()))).await,
        ["f-3"]
    );
    assert_eq!(
        ids(q(|q| q.to_number = Some("12319".into()))).await,
        ["f-2"]
    );
    assert_eq!(
        ids(q(|q| q.from_number = Some("13800000009".into()))).await,
        ["f-1"]
    );
    assert_eq!(ids(q(|q| q.queue = Some("12319".into()))).await, ["f-2"]);
    assert_eq!(ids(q(|q| q.agent_id = Some("1002".into()))).await, ["f-3"]);
    assert_eq!(
        ids(q(|q| q.disposition = Some("abandoned".into()))).await,
        ["f-2"]
    );
    let window = CallQuery {
        offered_from: Some(t + secs(1)),
        offered_to: Some(t + secs(120)),
        ..Default::default()
    };
    assert_eq!(ids(window).await, ["f-2"]);
    let paged = ts
        .store
        .list_calls(&CallQuery {
            limit: Some(2),
            offset: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(paged.total, 3);
    assert_eq!(paged.items.len(), 2);
    assert_eq!(paged.next_offset, None);
    for (field, q) in [
        ("direction", q(|q| q.direction = Some("up".into()))),
        ("disposition", q(|q| q.disposition = Some("lost".into()))),
        ("limit", q(|q| q.limit = Some(0))),
    ] {
        let err = ts.store.list_calls(&q).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
    }
}

pub(crate) async fn link_call_to_order_with_case_event(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let mut c = full_call("l-1", t);
    c.recording_path = None;
    ts.store.save_call(&c).await.unwrap();
    assert!(ts.store.get_call("l-1").await.unwrap().unwrap().needs_order);
    let order = create(&ts, complaint("earlier order"), t).await;
    let before = ts
        .store
        .get_order(&OrderKey::Id(order))
        .await
        .unwrap()
        .unwrap();
    let agent = actor(Role::Agent);
    let linked = ts
        .store
        .link_call_to_order("l-1", order, &agent, t + secs(400))
        .await
        .unwrap();
    assert_eq!(linked.work_order_id, Some(order));
    assert!(!linked.needs_order);
    assert_eq!(ts.store.get_call("l-1").await.unwrap().unwrap(), linked);
    let events = ts.store.order_events(order).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.action, "call-linked");
    assert_eq!(last.actor, agent.name);
    assert_eq!(last.data.0["call_id"], "l-1");
    let after = ts
        .store
        .get_order(&OrderKey::Id(order))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.version, before.version + 1);
    let steps = ts.store.call_steps("l-1").await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].step, "order-linked");
    assert_eq!(steps[0].detail.as_deref(), Some(order.to_string().as_str()));
    // Again with the same order: nothing changes.
    ts.store
        .link_call_to_order("l-1", order, &agent, t + secs(500))
        .await
        .unwrap();
    assert_eq!(
        ts.store.order_events(order).await.unwrap().len(),
        events.len()
    );
    // The call layer re-saving its record (flagged, without the order) keeps the tie and the
    // cleared flag.
    ts.store.save_call(&c).await.unwrap();
    let kept = ts.store.get_call("l-1").await.unwrap().unwrap();
    assert_eq!((kept.work_order_id, kept.needs_order), (Some(order), false));
    // Another order, an unknown order, an unknown call.
    let other = create(&ts, complaint("other"), t).await;
    let err = ts
        .store
        .link_call_to_order("l-1", other, &agent, t)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongState(m) if m.contains("already tied")),
        "{err:?}"
    );
    ts.store.save_call(&full_call("l-2", t)).await.unwrap();
    let err = ts
        .store
        .link_call_to_order("l-2", 999_999, &agent, t)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound { what } if what.contains("work order")),
        "{err:?}"
    );
    let err = ts
        .store
        .link_call_to_order("nope", order, &agent, t)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound { what } if what.contains("call")),
        "{err:?}"
    );
    // Nothing of the refused links was written.
    let l2 = ts.store.get_call("l-2").await.unwrap().unwrap();
    assert_eq!((l2.work_order_id, l2.needs_order), (None, true));
    assert!(ts.store.call_steps("l-2").await.unwrap().is_empty());
}

pub(crate) async fn orders_made_by_calls(b: Backend) {
    let ts = TestStore::new(b).await;
    // Monday 2026-11-23 10:00 local (02:00 UTC): 1 working day → Tuesday close of business.
    let t = at(2026, 11, 23, 2, 0);
    let mut vm = CallRecord::inbound("vm-1", "13800000007", "12345", t);
    vm.disposition = Some("voicemail".into());
    let rec = RecordingRef {
        path: "recordings/2026/11/23/vm-1.wav".into(),
        offset_ms: Some(6_500),
    };
    let order = ts
        .store
        .create_order_from_call(OrderFromCall::Voicemail, &vm, "phone-12345", Some(&rec), t)
        .await
        .unwrap();
    assert_eq!(order.request_type, "voicemail");
    assert_eq!(order.channel, "phone-12345");
    assert_eq!(order.caller_number.as_deref(), Some("13800000007"));
    assert_eq!(order.call_id.as_deref(), Some("vm-1"));
    assert!(order
        .description
        .contains("recordings/2026/11/23/vm-1.wav from 6.500 s"));
    assert_eq!(order.deadline, Some(at(2026, 11, 24, 9, 30)));
    let call = ts.store.get_call("vm-1").await.unwrap().unwrap();
    assert_eq!(call.work_order_id, Some(order.id));
    assert_eq!(call.voicemail_offset_ms, Some(6_500));
    assert_eq!(call.recording_path.as_deref(), Some(rec.path.as_str()));
    assert_eq!(
        ts.store.call_steps("vm-1").await.unwrap()[0].step,
        "order-linked"
    );
    assert_eq!(
        ts.store.order_events(order.id).await.unwrap()[0].action,
        "create"
    );
    // A callback request from an anonymous caller: no caller number on the order.
    let cb = CallRecord::inbound("cb-1", "anonymous", "12319", t);
    let order = ts
        .store
        .create_order_from_call(OrderFromCall::Callback, &cb, "phone-12319", None, t)
        .await
        .unwrap();
    assert_eq!(
        (order.request_type.as_str(), order.channel.as_str()),
        ("callback", "phone-12319")
    );
    assert_eq!(order.caller_number, None);
    assert!(order.description.contains("anonymous"));
    // A call already tied to an order makes no second one.
    let tied = ts.store.get_call("cb-1").await.unwrap().unwrap();
    let err = ts
        .store
        .create_order_from_call(OrderFromCall::Callback, &tied, "phone-12319", None, t)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongState(_)), "{err:?}");
}

pub(crate) async fn orders_for_caller_open_first(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let number = "13900000001";
    let mut ids = Vec::new();
    for i in 0..4 {
        let mut n = complaint(&format!("order {i}"));
        n.caller_number = Some(number.into());
        ids.push(create(&ts, n, t + secs(i)).await);
    }
    create(&ts, complaint("someone else"), t).await;
    // The newest and the oldest are over (rejected at intake).
    for id in [ids[0], ids[3]] {
        let reject = Command::Reject {
            reason: "not a government matter".into(),
        };
        step(&ts, id, reject, &actor(Role::Agent), t).await;
    }
    let got: Vec<i64> = ts
        .store
        .orders_for_caller(number, 10)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(got, [ids[2], ids[1], ids[3], ids[0]]);
    let two = ts.store.orders_for_caller(number, 2).await.unwrap();
    assert_eq!(
        two.iter().map(|o| o.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );
    assert!(ts
        .store
        .orders_for_caller("110", 10)
        .await
        .unwrap()
        .is_empty());
}

fn attempt(at: DateTime<Utc>, outcome: &str) -> NewCallbackAttempt {
    NewCallbackAttempt {
        at,
        agent_id: Some("1001".into()),
        call_id: Some(format!("out-{}", at.timestamp())),
        outcome: outcome.into(),
        detail: None,
    }
}

fn missed(number: &str) -> NewCallbackTask {
    NewCallbackTask {
        kind: "missed-call".into(),
        number: number.into(),
        queue: Some("12345".into()),
        call_id: Some("abandoned-1".into()),
        max_attempts: 3,
        work_order_id: None,
    }
}

pub(crate) async fn callback_task_lifecycle(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let retry = chrono::Duration::minutes(30);
    let task = ts
        .store
        .create_callback_task(&missed("13800000005"), t)
        .await
        .unwrap();
    assert_eq!((task.status.as_str(), task.attempts), ("open", 0));
    // Taken by one agent; a second take is refused naming who has it.
    let taken = ts
        .store
        .take_callback_task(task.id, "1001", t)
        .await
        .unwrap();
    assert_eq!(
        (taken.status.as_str(), taken.agent_id.as_deref()),
        ("taken", Some("1001"))
    );
    let err = ts
        .store
        .take_callback_task(task.id, "1002", t)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongState(m) if m.contains("taken by agent 1001")),
        "{err:?}"
    );
    // No answer: open again, due after the retry interval, not takeable before.
    let after = ts
        .store
        .record_callback_attempt(task.id, &attempt(t + secs(60), "no-answer"), retry)
        .await
        .unwrap();
    assert_eq!((after.status.as_str(), after.attempts), ("open", 1));
    assert_eq!(after.next_attempt_at, Some(t + secs(60) + retry));
    assert_eq!(after.agent_id, None);
    let err = ts
        .store
        .take_callback_task(task.id, "1002", t + secs(120))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongState(m) if m.contains("not due")),
        "{err:?}"
    );
    // An attempt on a task nobody took is refused.
    let err = ts
        .store
        .record_callback_attempt(task.id, &attempt(t + secs(130), "busy"), retry)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongState(_)), "{err:?}");
    // Two more unanswered attempts reach max_attempts: failed.
    let mut now = t + secs(60) + retry;
    for (n, outcome) in [(2, "busy"), (3, "failed")] {
        ts.store
            .take_callback_task(task.id, "1002", now)
            .await
            .unwrap();
        let a = ts
            .store
            .record_callback_attempt(task.id, &attempt(now + secs(30), outcome), retry)
            .await
            .unwrap();
        assert_eq!(a.attempts, n);
        now = now + secs(30) + retry;
    }
    let failed = ts.store.get_callback_task(task.id).await.unwrap().unwrap();
    assert_eq!(
        (failed.status.as_str(), failed.result.as_deref()),
        ("failed", Some("failed"))
    );
    let err = ts
        .store
        .take_callback_task(task.id, "1001", now)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongState(m) if m.ends_with("is failed")),
        "{err:?}"
    );
    let attempts = ts.store.callback_attempts(task.id).await.unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a.outcome.as_str())
            .collect::<Vec<_>>(),
        ["no-answer", "busy", "failed"]
    );
    // Answered on the first try: done.
    let other = ts
        .store
        .create_callback_task(&missed("13800000006"), t)
        .await
        .unwrap();
    ts.store
        .take_callback_task(other.id, "1001", t)
        .await
        .unwrap();
    let done = ts
        .store
        .record_callback_attempt(other.id, &attempt(t + secs(20), "answered"), retry)
        .await
        .unwrap();
    assert_eq!((done.status.as_str(), done.attempts), ("done", 1));
    assert_eq!(done.agent_id.as_deref(), Some("1001"));
    // Unknown tasks and values.
    assert!(matches!(
        ts.store.take_callback_task(999_999, "1001", t).await,
        Err(StoreError::NotFound { .. })
    ));
    let err = ts
        .store
        .record_callback_attempt(other.id, &attempt(t, "maybe"), retry)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "outcome"),
        "{err:?}"
    );
    let mut bad = missed("1");
    bad.kind = "spam".into();
    let err = ts.store.create_callback_task(&bad, t).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "kind"),
        "{err:?}"
    );
    // Listing with filters.
    let list = |q: CallbackQuery| {
        let store = ts.store.clone();
        async move {
            store
                .list_callback_tasks(&q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(CallbackQuery::default()).await, [other.id, task.id]);
    let by_status = CallbackQuery {
        status: Some("done".into()),
        ..Default::default()
    };
    assert_eq!(list(by_status).await, [other.id]);
    let by_number = CallbackQuery {
        number: Some("13800000005".into()),
        kind: Some("missed-call".into()),
        queue: Some("12345".into()),
        ..Default::default()
    };
    assert_eq!(list(by_number).await, [task.id]);
    // An agent sees open tasks and their own: 1002 made the last attempts of the failed one.
    let as_agent = |agent: &str| CallbackQuery {
        visible_to_agent: Some(agent.into()),
        ..Default::default()
    };
    assert_eq!(list(as_agent("1002")).await, [task.id]);
    assert_eq!(list(as_agent("1001")).await, [other.id]);
    assert!(list(as_agent("1003")).await.is_empty());
    let err = ts
        .store
        .list_callback_tasks(&CallbackQuery {
            status: Some("lost".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "status"),
        "{err:?}"
    );
}

/// One agent at a time: of many concurrent takes of one task, exactly one wins.
pub(crate) async fn concurrent_takes_one_winner(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let task = ts
        .store
        .create_callback_task(&missed("13800000008"), t)
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = ts.store.clone();
        handles.push(tokio::spawn(async move {
            store
                .take_callback_task(task.id, &format!("10{i:02}"), t)
                .await
        }));
    }
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::WrongState(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(won, 1);
}

pub(crate) async fn missed_call_tasks_cancelled_by_an_answered_call(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let number = "13800000010";
    let first = ts
        .store
        .create_callback_task(&missed(number), t)
        .await
        .unwrap();
    let second = ts
        .store
        .create_callback_task(&missed(number), t + secs(60))
        .await
        .unwrap();
    let mut requested = missed(number);
    requested.kind = "requested".into();
    let requested = ts.store.create_callback_task(&requested, t).await.unwrap();
    let elsewhere = ts
        .store
        .create_callback_task(&missed("13800000011"), t)
        .await
        .unwrap();
    // One is being worked already: it is not the store's to cancel.
    ts.store
        .take_callback_task(second.id, "1001", t + secs(61))
        .await
        .unwrap();
    let later = ts
        .store
        .create_callback_task(&missed(number), t + secs(600))
        .await
        .unwrap();
    let n = ts
        .store
        .cancel_missed_call_tasks(number, t + secs(300))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let status = |id| {
        let store = ts.store.clone();
        async move { store.get_callback_task(id).await.unwrap().unwrap().status }
    };
    assert_eq!(status(first.id).await, "cancelled");
    assert_eq!(status(second.id).await, "taken");
    assert_eq!(status(requested.id).await, "open");
    assert_eq!(status(elsewhere.id).await, "open");
    assert_eq!(
        status(later.id).await,
        "open",
        "made after the answered call"
    );
    assert_eq!(
        ts.store
            .cancel_missed_call_tasks(number, t + secs(300))
            .await
            .unwrap(),
        0
    );
}

pub(crate) async fn survey_on_call_and_order(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    // A call without an order: the answer is on the call and its trail only.
    ts.store.save_call(&full_call("s-1", t)).await.unwrap();
    let mut plain = CallRecord::inbound("s-2", "13800000012", "12345", t);
    plain.agent_id = Some("1002".into());
    ts.store.save_call(&plain).await.unwrap();
    let got = ts
        .store
        .record_survey("s-2", 3, t + secs(200))
        .await
        .unwrap();
    assert_eq!(got.survey, Some(3));
    let steps = ts.store.call_steps("s-2").await.unwrap();
    assert_eq!(
        (
            steps[0].step.as_str(),
            steps[0].detail.as_deref(),
            steps[0].agent_id.as_deref()
        ),
        ("survey", Some("3"), Some("1002"))
    );
    // A call with an order: also a `survey` event on the order.
    let order = create(&ts, complaint("with survey"), t).await;
    ts.store
        .link_call_to_order("s-1", order, &actor(Role::Agent), t + secs(100))
        .await
        .unwrap();
    ts.store
        .record_survey("s-1", 1, t + secs(310))
        .await
        .unwrap();
    let events = ts.store.order_events(order).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.action, "survey");
    assert_eq!(last.data.0["survey"], 1);
    assert_eq!(last.data.0["call_id"], "s-1");
    assert_eq!(
        ts.store.get_call("s-1").await.unwrap().unwrap().survey,
        Some(1)
    );
    // A later save of the record without the answer keeps it.
    let mut again = full_call("s-1", t);
    again.survey = None;
    ts.store.save_call(&again).await.unwrap();
    assert_eq!(
        ts.store.get_call("s-1").await.unwrap().unwrap().survey,
        Some(1)
    );
    // Bad answers and unknown calls.
    let err = ts.store.record_survey("s-1", 4, t).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "survey"),
        "{err:?}"
    );
    let err = ts.store.record_survey("nope", 1, t).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}
