//! Call records, listing and search, and validation of new orders.

use super::*;

pub(crate) fn call(id: &str, from: &str, offered: DateTime<Utc>) -> CallRecord {
    CallRecord {
        trunk: Some("carrier".into()),
        queue: Some("12345".into()),
        ..CallRecord::inbound(id, from, "12345", offered)
    }
}

pub(crate) async fn call_records(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let mut c1 = call("call-1", "13800000001", t);
    ts.store.save_call(&c1).await.unwrap();
    ts.store
        .save_call(&call(
            "call-2",
            "13800000002",
            t + chrono::Duration::seconds(30),
        ))
        .await
        .unwrap();
    // The call goes on: answered by 1001, then ended.
    c1.agent_id = Some("1001".into());
    c1.answered_at = Some(t + chrono::Duration::seconds(8));
    c1.ended_at = Some(t + chrono::Duration::seconds(200));
    c1.disposition = Some("answered".into());
    c1.recording_path = Some("recordings/2026/11/23/call-1.wav".into());
    ts.store.save_call(&c1).await.unwrap();
    // An order created on the call is tied to it.
    let mut new = complaint("from the call");
    new.call_id = Some("call-1".into());
    let order = ts
        .store
        .create_order(new, &actor(Role::Agent), None, t)
        .await
        .unwrap();
    let got = ts.store.get_call("call-1").await.unwrap().unwrap();
    assert_eq!(got.work_order_id, Some(order.id));
    assert_eq!(got.disposition.as_deref(), Some("answered"));
    assert_eq!(got.answered_at, c1.answered_at);
    assert_eq!(order.call_id.as_deref(), Some("call-1"));
    // Re-saving without the order keeps the tie.
    ts.store.save_call(&c1).await.unwrap();
    // A call tied to an order cannot be taken over by another; an unknown call is refused too.
    for call_id in ["call-1", "nope"] {
        let mut new = complaint("another order on a call");
        new.call_id = Some(call_id.into());
        let err = ts
            .store
            .create_order(new, &actor(Role::Agent), None, t)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid { field, .. } if field == "call_id"),
            "{call_id}: {err:?}"
        );
    }
    let tied = ts.store.get_call("call-1").await.unwrap().unwrap();
    assert_eq!(tied.work_order_id, Some(order.id));
    let mut c3 = call("call-3", "1", t);
    c3.disposition = Some("lost".into());
    let err = ts.store.save_call(&c3).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "disposition"),
        "{err:?}"
    );
    // Listing with filters.
    let all = ts.store.list_calls(&CallQuery::default()).await.unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.items[0].id, "call-2", "newest first");
    let answered = ts
        .store
        .list_calls(&CallQuery {
            disposition: Some("answered".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(answered.items.len(), 1);
    let since = ts
        .store
        .list_calls(&CallQuery {
            offered_from: Some(t + chrono::Duration::seconds(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        since
            .items
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        ["call-2"]
    );
}

pub(crate) async fn list_search_and_paging(b: Backend) {
    let ts = TestStore::new(b).await;
    let agent = actor(Role::Agent);
    let old = at(2026, 1, 5, 2, 0);
    let now = at(2026, 11, 23, 2, 0);
    // An old open order (overdue by now) and 6 fresh ones.
    create(&ts, complaint("井盖缺失 manhole cover missing"), old).await;
    for i in 0..6 {
        let mut n = complaint(&format!("fresh {i}"));
        n.caller_number = Some(format!("1390000000{i}"));
        create(&ts, n, now).await;
    }
    let page = |q: OrderQuery| {
        let store = ts.store.clone();
        async move { store.list_orders(&q, now).await.unwrap() }
    };
    let p1 = page(OrderQuery {
        limit: Some(4),
        ..Default::default()
    })
    .await;
    assert_eq!((p1.total, p1.items.len(), p1.next_offset), (7, 4, Some(4)));
    let p2 = page(OrderQuery {
        limit: Some(4),
        offset: Some(4),
        ..Default::default()
    })
    .await;
    assert_eq!((p2.items.len(), p2.next_offset), (3, None));
    assert!(p1.items[0].id > p1.items[3].id, "newest first");
    let overdue = page(OrderQuery {
        overdue: Some(true),
        ..Default::default()
    })
    .await;
    assert_eq!(overdue.total, 1);
    assert!(overdue.items[0].description.contains("井盖"));
    let not_overdue = page(OrderQuery {
        overdue: Some(false),
        ..Default::default()
    })
    .await;
    assert_eq!(not_overdue.total, 6);
    let text = page(OrderQuery {
        q: Some("MANHOLE".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(text.total, 1);
    let zh = page(OrderQuery {
        q: Some("井盖".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(zh.total, 1);
    // Both databases fold alike: case beyond ASCII, full-width letters and digits.
    create(&ts, complaint("Ａ栋１２号 École 漏水"), now).await;
    for q in ["a栋12号", "Ａ栋", "ÉCOLE", "école"] {
        let found = page(OrderQuery {
            q: Some(q.into()),
            ..Default::default()
        })
        .await;
        assert_eq!(found.total, 1, "{q}");
    }
    let caller = page(OrderQuery {
        caller_number: Some("13900000003".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(caller.total, 1);
    let received = page(OrderQuery {
        status: Some("received".into()),
        created_from: Some(at(2026, 11, 1, 0, 0)),
        ..Default::default()
    })
    .await;
    assert_eq!(received.total, 7);
    for bad in [
        OrderQuery {
            limit: Some(0),
            ..Default::default()
        },
        OrderQuery {
            limit: Some(501),
            ..Default::default()
        },
        OrderQuery {
            offset: Some(-1),
            ..Default::default()
        },
        OrderQuery {
            status: Some("lost".into()),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            ts.store.list_orders(&bad, now).await,
            Err(StoreError::Invalid { .. })
        ));
    }
    let _ = agent;
}

pub(crate) async fn invalid_new_orders_name_the_field(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = at(2026, 11, 23, 2, 0);
    let base = complaint("ok");
    let cases: Vec<(&str, NewWorkOrder)> = vec![
        (
            "request_type",
            NewWorkOrder {
                request_type: "gossip".into(),
                ..base.clone()
            },
        ),
        (
            "description",
            NewWorkOrder {
                description: "   ".into(),
                ..base.clone()
            },
        ),
        (
            "description",
            NewWorkOrder {
                description: "x".repeat(10_001),
                ..base.clone()
            },
        ),
        (
            "channel",
            NewWorkOrder {
                channel: Some("pigeon".into()),
                ..base.clone()
            },
        ),
        (
            "priority",
            NewWorkOrder {
                priority: Some("asap".into()),
                ..base.clone()
            },
        ),
        (
            "caller_number",
            NewWorkOrder {
                caller_number: Some("call me".into()),
                ..base.clone()
            },
        ),
        (
            "category_id",
            NewWorkOrder {
                category_id: Some("C9999".into()),
                ..base.clone()
            },
        ),
        (
            "grid_cell",
            NewWorkOrder {
                grid_cell: Some("510402999999999".into()),
                ..base.clone()
            },
        ),
        (
            "longitude",
            NewWorkOrder {
                longitude: Some(181.0),
                latitude: Some(26.0),
                ..base.clone()
            },
        ),
        (
            "latitude",
            NewWorkOrder {
                longitude: Some(101.7),
                latitude: Some(-91.0),
                ..base.clone()
            },
        ),
        (
            "latitude",
            NewWorkOrder {
                longitude: Some(101.7),
                ..base.clone()
            },
        ),
        (
            "caller_number",
            NewWorkOrder {
                channel: Some("transfer-110".into()),
                caller_number: None,
                ..base.clone()
            },
        ),
    ];
    for (field, new) in cases {
        match ts
            .store
            .create_order(new.clone(), &actor(Role::Agent), None, now)
            .await
        {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field, "{new:?}"),
            other => panic!("{field}: expected Invalid, got {other:?}"),
        }
    }
    // A channel user reports through its own channel only, and it is the default.
    let ch = Actor {
        name: "field-app".into(),
        role: Role::Channel,
        department: None,
    };
    let o = ts
        .store
        .create_order(
            complaint("from the field"),
            &ch,
            Some("field-inspector"),
            now,
        )
        .await
        .unwrap();
    assert_eq!(o.channel, "field-inspector");
    let err = ts
        .store
        .create_order(
            NewWorkOrder {
                channel: Some("web".into()),
                ..complaint("x")
            },
            &ch,
            Some("field-inspector"),
            now,
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "channel"));
    // Nothing above was written but the one good order.
    assert_eq!(
        ts.store
            .list_orders(&OrderQuery::default(), now)
            .await
            .unwrap()
            .total,
        1
    );
}

/// A department removed from the configuration stays in the store (orders refer to it) but
/// nothing new is dispatched to it, and it is no longer listed.
pub(crate) async fn removed_departments_are_inactive(b: Backend) {
    let ts = TestStore::new(b).await;
    let mut config = ts.config.clone();
    config.departments.retain(|d| d.id != "roads");
    ts.store.sync_config(&config).await.unwrap();
    let listed: Vec<String> = ts
        .store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert!(!listed.contains(&"roads".to_string()), "{listed:?}");
    assert!(listed.contains(&"sanitation".to_string()));
    let now = at(2026, 11, 23, 2, 0);
    let id = create(&ts, complaint("x"), now).await;
    step(&ts, id, register(), &actor(Role::Supervisor), now).await;
    refused(
        &ts,
        id,
        &Command::Dispatch {
            department: Some("roads".into()),
            note: None,
        },
        &actor(Role::Supervisor),
        now,
        "department",
    )
    .await;
    // Configured again, it is active again.
    ts.store.sync_config(&ts.config).await.unwrap();
    step(
        &ts,
        id,
        Command::Dispatch {
            department: Some("roads".into()),
            note: None,
        },
        &actor(Role::Supervisor),
        now,
    )
    .await;
}

/// The wallboard's "calls without an order": answered calls offered since the given time that
/// ended flagged `needs_order`, oldest end first, bounded by the limit.
pub(crate) async fn calls_without_order_oldest_end_first(b: Backend) {
    let ts = TestStore::new(b).await;
    let day = at(2026, 11, 23, 0, 0);
    let ended = |id: &str, offered: DateTime<Utc>, end_secs: i64, needs: bool| {
        let mut c = call(id, "13800000009", offered);
        c.agent_id = Some("1001".into());
        c.answered_at = Some(offered + chrono::Duration::seconds(5));
        c.ended_at = Some(offered + chrono::Duration::seconds(end_secs));
        c.disposition = Some("answered".into());
        c.needs_order = needs;
        c
    };
    let t = day + chrono::Duration::hours(9);
    for c in [
        ended("late", t, 600, true),
        ended("early", t + chrono::Duration::seconds(10), 60, true),
        ended("ordered", t, 100, false),
        // Yesterday's: before the given start.
        ended("yesterday", day - chrono::Duration::hours(1), 60, true),
    ] {
        ts.store.save_call(&c).await.unwrap();
    }
    // In progress: not ended yet.
    ts.store
        .save_call(&call("live", "13800000010", t))
        .await
        .unwrap();
    let got = ts.store.calls_without_order(day, 10).await.unwrap();
    let ids: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["early", "late"]);
    assert_eq!(got[0].agent_id.as_deref(), Some("1001"));
    assert_eq!(got[0].ended_at, t + chrono::Duration::seconds(70));
    assert_eq!(ts.store.calls_without_order(day, 1).await.unwrap().len(), 1);
    assert!(ts
        .store
        .calls_without_order(day, 0)
        .await
        .unwrap()
        .is_empty());
}
