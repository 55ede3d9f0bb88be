//! Duplicate merge proposals made at intake: near, far, another category, outside the window,
//! closed candidates; merge and dismiss; a batch proposing only earlier orders; a proposal
//! accepted after its order was merged.

use super::*;

pub(crate) async fn merge_proposals_near_far_and_decided(backend: Backend) {
    let ts = TestStore::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(&ts, dir.path());
    let id_of = |r: &Resp| r.json()["order"]["id"].as_i64().unwrap();
    // Candidates: one near (its twin comes later), one far, one of another category, one
    // outside the time window, one closed (rejected).
    let near = report(&app, INSPECTOR, None, litter(P.0, P.1)).await;
    let near_id = id_of(&near);
    let far = report(&app, INSPECTOR, None, litter(P.0 + 0.002, P.1)).await; // ~200 m east
    assert_eq!(far.json()["merge_proposals"], json!([]));
    let mut other = litter(P.0, P.1 + 0.0001);
    other["category_id"] = json!("E0201");
    let other = report(&app, INSPECTOR, None, other).await;
    assert_eq!(
        other.json()["merge_proposals"],
        json!([]),
        "another category is no duplicate"
    );
    let actor = Actor {
        name: "inspector-01".into(),
        role: Role::Inspector,
        department: None,
    };
    let old = ts
        .store
        .create_order(
            NewWorkOrder {
                channel: Some("field-inspector".into()),
                request_type: "urban-management".into(),
                description: "yesterday's rubbish".into(),
                category_id: Some("E0101".into()),
                longitude: Some(P.0 + 0.0001),
                latitude: Some(P.1),
                ..Default::default()
            },
            &actor,
            None,
            hotline::cases::now() - Duration::hours(25),
        )
        .await
        .unwrap();
    let rejected = report(&app, INSPECTOR, None, litter(P.0, P.1 - 0.0001)).await;
    let rejected_id = id_of(&rejected);
    assert_eq!(
        rejected.json()["merge_proposals"].as_array().unwrap().len(),
        1
    );
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/work-orders/{rejected_id}/transitions"),
        SUPERVISOR,
        Some(json!({"action": "reject", "reason": "not in the city's duty"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());

    // The twin: 0.0002° north (~22 m) of the near one.
    let twin = report(&app, INSPECTOR_2, None, litter(P.0, P.1 + 0.0002)).await;
    assert_eq!(twin.status, StatusCode::CREATED);
    let twin_id = id_of(&twin);
    let props = twin.json()["merge_proposals"].clone();
    let props = props.as_array().unwrap();
    assert_eq!(
        props.len(),
        1,
        "only the near, open, recent one of its category: {props:?}"
    );
    assert_eq!(props[0]["candidate_id"], near_id);
    assert_eq!(props[0]["order_id"], twin_id);
    assert_eq!(props[0]["candidate_number"], near.json()["order"]["number"]);
    assert_eq!(props[0]["order_number"], twin.json()["order"]["number"]);
    assert_eq!(props[0]["category_id"], "E0101");
    assert_eq!(props[0]["status"], "pending");
    let d = props[0]["distance_m"].as_f64().unwrap();
    assert!((d - 22.2).abs() < 0.5, "{d}");
    assert_ne!(old.id, near_id);

    // Lists for those who decide; not for inspectors.
    let pending = get(&app, "/api/v1/merge-proposals?status=pending", SUPERVISOR).await;
    assert_eq!(pending.status, StatusCode::OK);
    assert_eq!(
        pending.json().as_array().unwrap().len(),
        2,
        "{}",
        pending.json()
    );
    assert_eq!(
        get(&app, "/api/v1/merge-proposals", INSPECTOR).await.status,
        StatusCode::FORBIDDEN
    );
    let r = get(&app, "/api/v1/merge-proposals?status=maybe", SUPERVISOR).await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("status"))
    );

    // A second twin, then merge the first twin: its proposal is merged, and the proposals
    // naming the merged order are moot.
    let twin2 = report(&app, INSPECTOR, None, litter(P.0 + 0.0001, P.1 + 0.0002)).await;
    let twin2_props = twin2.json()["merge_proposals"].as_array().unwrap().clone();
    assert_eq!(twin2_props.len(), 2, "near and twin: {twin2_props:?}");
    let pid = props[0]["id"].as_i64().unwrap();
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/merge-proposals/{pid}/merge"),
        SUPERVISOR,
        Some(json!({"note": "same heap"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["proposal"]["status"], "merged");
    assert_eq!(r.json()["proposal"]["decided_by"], "supervisor");
    assert_eq!(r.json()["proposal"]["note"], "same heap");
    assert_eq!(r.json()["order"]["status"], "merged");
    assert_eq!(r.json()["order"]["merged_into"], near_id);
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/merge-proposals/{pid}/merge"),
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let all = get(&app, "/api/v1/merge-proposals", SUPERVISOR)
        .await
        .json();
    let status_of = |id: &Value| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|p| &p["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    let (to_near, to_twin) = if twin2_props[0]["candidate_id"] == near_id {
        (&twin2_props[0]["id"], &twin2_props[1]["id"])
    } else {
        (&twin2_props[1]["id"], &twin2_props[0]["id"])
    };
    assert_eq!(status_of(to_twin), "dismissed");
    assert_eq!(status_of(to_near), "pending");
    // Dismiss the other: not duplicates after all.
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/merge-proposals/{to_near}/dismiss"),
        "demo-agent-1001",
        Some(json!({"note": "two heaps"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["status"], "dismissed");
    assert_eq!(r.json()["decided_by"], "agent-1001");
    // Left pending: the rejected order's proposal (made while it was open), until decided.
    let left = get(&app, "/api/v1/merge-proposals?status=pending", SUPERVISOR)
        .await
        .json();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["order_id"], rejected_id);
    let r = send(
        &app,
        Method::POST,
        "/api/v1/merge-proposals/99999/dismiss",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Reports of the same spot sent at once (written in one batch or a few): each proposes only
/// the orders created before it, never both ways.
pub(crate) async fn reports_at_once_propose_only_earlier_orders(backend: Backend) {
    let ts = TestStore::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(&ts, dir.path());
    let sent = (0..6).map(|i| {
        let app = app.clone();
        async move {
            report(
                &app,
                INSPECTOR,
                None,
                litter(P.0 + 0.00001 * f64::from(i), P.1),
            )
            .await
        }
    });
    for r in futures_util::future::join_all(sent).await {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    }
    let all = get(&app, "/api/v1/merge-proposals", SUPERVISOR)
        .await
        .json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 15, "each pair once: {all:?}");
    for p in all {
        assert!(
            p["order_id"].as_i64() > p["candidate_id"].as_i64(),
            "the later report proposes the earlier: {p}"
        );
    }
}

/// Accepting a proposal whose order was already merged into that candidate (the transition
/// went through, the proposal was not marked) marks it merged; proposals naming the merged
/// order as their candidate are dismissed with a note naming where it went.
pub(crate) async fn merge_proposal_accepted_after_its_order_was_merged(backend: Backend) {
    let ts = TestStore::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(&ts, dir.path());
    let id_of = |r: &Resp| r.json()["order"]["id"].as_i64().unwrap();
    let first = report(&app, INSPECTOR, None, litter(P.0, P.1)).await;
    let second = report(&app, INSPECTOR, None, litter(P.0, P.1 + 0.0001)).await;
    let (first_id, second_id) = (id_of(&first), id_of(&second));
    let pid = second.json()["merge_proposals"][0]["id"].as_i64().unwrap();
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/work-orders/{second_id}/transitions"),
        SUPERVISOR,
        Some(json!({"action": "merge", "into": first_id.to_string()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/merge-proposals/{pid}/merge"),
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["proposal"]["status"], "merged");
    assert_eq!(r.json()["order"]["merged_into"], first_id);
    // Decided now: another try is refused.
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/merge-proposals/{pid}/merge"),
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // A proposal naming a merged order as its candidate is moot once that order is merged
    // through another proposal: dismissed, with a note naming the order it went into.
    let a = report(&app, INSPECTOR, None, litter(P.0 + 0.003, P.1)).await;
    let b = report(&app, INSPECTOR, None, litter(P.0 + 0.003, P.1 + 0.0001)).await;
    let c = report(&app, INSPECTOR, None, litter(P.0 + 0.003, P.1 + 0.0002)).await;
    let b_to_a = b.json()["merge_proposals"][0]["id"].as_i64().unwrap();
    let c_props = c.json()["merge_proposals"].as_array().unwrap().clone();
    assert_eq!(c_props.len(), 2, "{c_props:?}");
    let c_to_b = c_props
        .iter()
        .find(|p| p["candidate_id"] == id_of(&b))
        .unwrap()["id"]
        .clone();
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/merge-proposals/{b_to_a}/merge"),
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let all = get(&app, "/api/v1/merge-proposals", SUPERVISOR)
        .await
        .json();
    let moot = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == c_to_b)
        .unwrap()
        .clone();
    assert_eq!(moot["status"], "dismissed");
    let a_number = a.json()["order"]["number"].as_str().unwrap().to_string();
    assert!(moot["note"].as_str().unwrap().contains(&a_number), "{moot}");
}
