//! The report routes' real answers fit the document: KPI rows, the month view with a mark,
//! today, an agent's day, marks, and their errors.

use serde_json::json;

use crate::answers::assert_documented;
use crate::support::{app, served_doc, AGENT, SUPERVISOR};

#[tokio::test]
async fn report_answers_fit_the_documented_schemas() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let order = app
        .post(
            "/api/v1/work-orders",
            AGENT,
            json!({"request_type": "consultation", "description": "bus times"}),
        )
        .await
        .json()["id"]
        .clone();
    const MARKS: &str = "/api/v1/work-orders/{key}/marks";
    let marks = format!("/api/v1/work-orders/{order}/marks");
    // The demo calendar's local day (+08:00), as the reports count.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    for (method, path, answer) in [
        (
            "post",
            MARKS,
            app.post(&marks, SUPERVISOR, json!({"kind": "missed", "note": "n"}))
                .await,
        ),
        (
            "post",
            MARKS,
            app.post(&marks, SUPERVISOR, json!({"kind": "late"})).await,
        ),
        (
            "post",
            MARKS,
            app.post(&marks, AGENT, json!({"kind": "wrong"})).await,
        ),
        ("get", MARKS, app.get(&marks, Some(SUPERVISOR)).await),
        (
            "post",
            "/api/v1/work-orders/{key}/marks/{id}/withdraw",
            app.post(&format!("{marks}/999/withdraw"), SUPERVISOR, json!({}))
                .await,
        ),
        (
            "get",
            "/api/v1/reports/kpi",
            app.get(
                &format!("/api/v1/reports/kpi?from={today}&group=hour"),
                Some(SUPERVISOR),
            )
            .await,
        ),
        (
            "get",
            "/api/v1/reports/kpi",
            app.get("/api/v1/reports/kpi?from=x", Some(SUPERVISOR))
                .await,
        ),
        (
            "get",
            "/api/v1/reports/kpi",
            app.get("/api/v1/reports/kpi?from=2026-11-01", Some(AGENT))
                .await,
        ),
        (
            "get",
            "/api/v1/reports/month",
            app.get(
                &format!("/api/v1/reports/month?month={}", &today[..7]),
                Some(SUPERVISOR),
            )
            .await,
        ),
        (
            "get",
            "/api/v1/reports/today",
            app.get("/api/v1/reports/today", Some(SUPERVISOR)).await,
        ),
        (
            "get",
            "/api/v1/agents/{id}/day",
            app.get("/api/v1/agents/1001/day", Some(AGENT)).await,
        ),
        (
            "get",
            "/api/v1/agents/{id}/day",
            app.get("/api/v1/agents/1002/day", Some(AGENT)).await,
        ),
    ] {
        assert_documented(&doc, method, path, &answer);
    }
    let month = app
        .get(
            &format!("/api/v1/reports/month?month={}", &today[..7]),
            Some(SUPERVISOR),
        )
        .await
        .json();
    assert_eq!(month["marks"]["missed"], 1, "{month}");
}
