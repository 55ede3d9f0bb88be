//! The overview and evaluation routes' real answers fit the document: the overview of a store
//! with one open order (and of a district), the evaluation by department and by inspector after
//! a mark naming an inspector, and their 400 and 403 answers.

use serde_json::json;

use crate::answers::assert_documented;
use crate::support::{app, served_doc, AGENT, SUPERVISOR};

const LEADER: &str = "demo-leader";

#[tokio::test]
async fn overview_answers_fit_the_documented_schemas() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let order = app
        .post(
            "/api/v1/work-orders",
            AGENT,
            json!({"request_type": "urban-management", "category_id": "E0101",
                   "grid_cell": "510402001001001", "description": "rubbish on the pavement"}),
        )
        .await
        .json()["id"]
        .clone();
    let mark = app
        .post(
            &format!("/api/v1/work-orders/{order}/marks"),
            SUPERVISOR,
            json!({"kind": "wrong", "inspector": "inspector-01"}),
        )
        .await;
    assert_documented(&doc, "post", "/api/v1/work-orders/{key}/marks", &mark);
    let month = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string();
    let eval = "/api/v1/reports/evaluation";
    for (path, uri, token) in [
        ("/api/v1/overview", "/api/v1/overview".to_string(), LEADER),
        (
            "/api/v1/overview",
            "/api/v1/overview?district=%E4%B8%9C%E5%8C%BA".to_string(),
            SUPERVISOR,
        ),
        (
            "/api/v1/overview",
            "/api/v1/overview?limit=1".to_string(),
            LEADER,
        ),
        ("/api/v1/overview", "/api/v1/overview".to_string(), AGENT),
        (eval, format!("{eval}?month={month}"), LEADER),
        (
            eval,
            format!("{eval}?month={month}&by=inspector"),
            SUPERVISOR,
        ),
        (eval, format!("{eval}?month=13"), LEADER),
        (eval, format!("{eval}?month={month}"), AGENT),
    ] {
        let answer = app.get(&uri, Some(token)).await;
        assert_documented(&doc, "get", path, &answer);
    }
    let i = app
        .get(&format!("{eval}?month={month}&by=inspector"), Some(LEADER))
        .await
        .json();
    let row = i["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["inspector"] == "inspector-01")
        .cloned()
        .unwrap();
    assert_eq!(row["wrong"], 1, "{i}");
}
