//! `GET /api/v1/wallboard` (supervisors, admins): the live picture of queues, agents and calls
//! from the call layer (the shared one, at most [`crate::call::shared::LIVE_MAX_AGE`] old), each queue with today's KPI row, and the alerts
//! ([`crate::acd::alerts`]). The parts that come from the store — today's figures per queue
//! and the answered calls without an order — are cached for `[wallboard].cache_ms` (2 s) and
//! refreshed by one request at a time, so a room of wallboards costs the store two queries
//! per period, not two per wallboard. `GET /reports/today` reads the same cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::sync::Mutex;

use super::auth::User;
use super::error::ApiError;
use super::AppState;
use crate::acd::alerts::{self, Alert, AlertInput, CallWithoutOrder, QueueToday};
use crate::acd::QueueSnapshot;
use crate::call::Snapshot;
use crate::cases::kpi::Row;
use crate::config::Role;

/// At most this many calls without an order are listed (oldest first).
const WITHOUT_ORDER_LIMIT: i64 = 200;

/// The store-derived figures, as of `fetched`.
#[derive(Clone)]
struct StoreFigures {
    fetched: Instant,
    /// The local day `today` is of.
    day: NaiveDate,
    today: Vec<Row>,
    without_order: Vec<CallWithoutOrder>,
}

/// The wallboard's cache of store-derived figures (one per server).
#[derive(Default)]
pub struct WallboardCache(Mutex<Option<StoreFigures>>);

impl WallboardCache {
    /// The figures, fetched again when older than `max_age`. Concurrent callers wait for the
    /// one fetch in progress instead of starting their own.
    async fn get(
        &self,
        st: &AppState,
        max_age: Duration,
        now: DateTime<Utc>,
    ) -> Result<StoreFigures, ApiError> {
        let offset = st.store.policy().calendar.utc_offset;
        let day = crate::cases::kpi::local_day(now, offset);
        let mut slot = self.0.lock().await;
        if let Some(f) = slot
            .as_ref()
            .filter(|f| f.fetched.elapsed() < max_age && f.day == day)
        {
            return Ok(f.clone());
        }
        let today = crate::cases::store::today_by_queue(&st.store, &st.config, now).await?;
        let midnight = day
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(offset).single())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        let without_order = st
            .store
            .calls_without_order(midnight, WITHOUT_ORDER_LIMIT)
            .await?
            .into_iter()
            .map(|c| CallWithoutOrder {
                call: c.id,
                agent: c.agent_id,
                ended_at: c.ended_at,
            })
            .collect();
        let f = StoreFigures {
            fetched: Instant::now(),
            day,
            today,
            without_order,
        };
        *slot = Some(f.clone());
        Ok(f)
    }
}

impl WallboardCache {
    /// Today's row of every configured queue and the local day they are of, from the cache
    /// (`GET /reports/today` shares it with the wallboard: polling either re-reads the day at
    /// most once per `[wallboard].cache_ms`).
    pub async fn today(
        &self,
        st: &AppState,
        now: DateTime<Utc>,
    ) -> Result<(NaiveDate, Vec<Row>), ApiError> {
        let max_age = Duration::from_millis(u64::from(st.config.wallboard.cache_ms));
        let f = self.get(st, max_age, now).await?;
        Ok((f.day, f.today))
    }
}

/// One queue on the wallboard.
#[derive(Serialize)]
pub struct QueueBoard {
    #[serde(flatten)]
    live: QueueSnapshot,
    service_level_secs: u32,
    /// Today's KPI row of the queue (local day); `null` before its first call.
    today: Option<Row>,
}

#[derive(Serialize)]
pub struct Wallboard {
    at: DateTime<Utc>,
    queues: Vec<QueueBoard>,
    agents: Vec<crate::acd::AgentSnapshot>,
    /// The rest of the live picture (`calls`, `calls_in_progress`).
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
    alerts: Vec<Alert>,
}

/// The whole wallboard.
pub async fn wallboard(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<Wallboard>, ApiError> {
    user.require(&[Role::Supervisor, Role::Admin])?;
    let calls = st.calls.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the call layer is not running",
        )
    })?;
    let snapshot: Arc<Snapshot> = calls.snapshot().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        )
    })?;
    let now = Utc::now();
    let cfg = &st.config.wallboard;
    let figures = st
        .wallboard
        .get(&st, Duration::from_millis(u64::from(cfg.cache_ms)), now)
        .await?;
    let today: Vec<QueueToday> = figures
        .today
        .iter()
        .map(|r| QueueToday {
            queue: r.key.clone(),
            offered: r.offered,
            service_level: r.service_level,
        })
        .collect();
    let alerts = alerts::alerts(
        AlertInput {
            queues: &snapshot.queues,
            agents: &snapshot.agents,
            today: &today,
            without_order: &figures.without_order,
            now,
        },
        cfg,
    );
    // Everything the live picture holds besides queues and agents passes through as it is
    // (calls in progress and their count).
    let mut rest = match serde_json::to_value(&*snapshot) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    rest.remove("queues");
    rest.remove("agents");
    let queues = snapshot
        .queues
        .iter()
        .cloned()
        .map(|q| QueueBoard {
            service_level_secs: st
                .config
                .queues
                .iter()
                .find(|c| c.name == q.name)
                .map_or(15, |c| c.service_level_secs),
            today: figures.today.iter().find(|r| r.key == q.name).cloned(),
            live: q,
        })
        .collect();
    Ok(Json(Wallboard {
        at: now,
        queues,
        agents: snapshot.agents.clone(),
        rest,
        alerts,
    }))
}

/// A shared, empty cache.
pub fn cache() -> Arc<WallboardCache> {
    Arc::new(WallboardCache::default())
}
