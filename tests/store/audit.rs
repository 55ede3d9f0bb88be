//! The audit trail of supervisor and desk actions: appended, listed newest first with filters,
//! never changed.

use chrono::Duration;
use hotline::cases::store::{AuditEntry, AuditQuery};
use hotline::cases::StoreError;

use crate::at;
use crate::common::{Backend, TestStore};

fn entry(action: &str, target: &str, mins: i64) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: at(2026, 11, 27, 9, 0) + Duration::minutes(mins),
        actor: "supervisor".into(),
        role: "supervisor".into(),
        action: action.into(),
        target: target.into(),
        detail: Some(format!("{action} by test")),
    }
}

pub(crate) async fn audit_log_append_only_and_filtered(b: Backend) {
    let ts = TestStore::new(b).await;
    let a = ts
        .store
        .audit(&entry("listen", "call:c-1", 0))
        .await
        .unwrap();
    let b2 = ts
        .store
        .audit(&entry("barge", "call:c-1", 1))
        .await
        .unwrap();
    let c = ts
        .store
        .audit(&entry("force-state", "agent:1001", 2))
        .await
        .unwrap();
    assert!(a < b2 && b2 < c);
    let all = ts
        .store
        .audit_entries(&AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), vec![c, b2, a]);
    assert_eq!(
        all[2],
        AuditEntry {
            id: a,
            ..entry("listen", "call:c-1", 0)
        }
    );
    let on_call = ts
        .store
        .audit_entries(&AuditQuery {
            target: Some("call:c-1".into()),
            since: Some(at(2026, 11, 27, 9, 1)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(on_call.iter().map(|e| e.id).collect::<Vec<_>>(), vec![b2]);
    let err = ts.store.audit(&entry("", "call:c-1", 3)).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "action"),
        "{err:?}"
    );
    let update = "UPDATE audit_log SET actor = 'someone else'";
    let delete = "DELETE FROM audit_log";
    use sqlx::Connection;
    for sql in [update, delete] {
        let err = match b {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&ts.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap_err()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&ts.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap_err()
            }
        };
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}
