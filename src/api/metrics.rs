//! `GET /metrics` (no auth, like `/healthz`): Prometheus / OpenMetrics text exposition, built
//! with the `prometheus-client` crate. Gauges are read at scrape time from their owners — the
//! call layer's shared picture of queues and agents (at most 500 ms old, so scrapes cannot
//! flood the call task), the media engine's and the recorder's counters,
//! the calls-offered counter — into a registry made for the scrape, so a queue or state that
//! is gone is gone from the output too; the store's query-duration histogram lives in the
//! store and is registered as it is. Names and meanings: docs/wallboard.md.

use std::time::Instant;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

use super::AppState;
use crate::acd::AgentStatus;

type Labels = Vec<(&'static str, String)>;

const CONTENT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The scrape.
pub async fn metrics(State(st): State<AppState>) -> Response {
    let mut r = Registry::with_prefix("hotline");
    r.register(
        "store_query_duration_seconds",
        "Durations of case-store queries",
        st.store.query_seconds().clone(),
    );
    outbox(&mut r, st.store.outbox());
    if let Some(calls) = &st.calls {
        if let Ok(snapshot) = calls.snapshot().await {
            live(&mut r, &snapshot);
        }
        r.register(
            "live_snapshots",
            "Times the call task was asked for the live picture (shared, at most one per 500 ms)",
            ConstCounter::new(calls.snapshots_taken()),
        );
        let offered = calls.offered();
        r.register(
            "calls_offered",
            "Calls offered to the server (INVITEs that became calls); CPS is its rate",
            ConstCounter::new(offered.total()),
        );
        r.register(
            "calls_per_second",
            "Calls offered per second over the last 10 s",
            ConstGauge::<f64>::new(offered.per_second(Instant::now())),
        );
        let m = calls.media_stats();
        r.register(
            "rtp_packets_received",
            "RTP packets received, all streams",
            ConstCounter::new(m.rx_packets),
        );
        r.register(
            "rtp_packets_lost",
            "RTP packets lost in reception (per stream the highest expected - received seen), all streams",
            ConstCounter::new(m.rx_lost),
        );
        r.register(
            "rtp_jitter_seconds",
            "Mean interarrival jitter of the streams receiving RTP now",
            ConstGauge::<f64>::new(m.rx_jitter_ms / 1000.0),
        );
        r.register(
            "rtp_streams",
            "RTP streams open",
            ConstGauge::new(m.streams as i64),
        );
        r.register(
            "media_ticks_skipped",
            "20 ms media ticks skipped because a shard fell behind",
            ConstCounter::new(m.skipped_ticks),
        );
        if let Some(rec) = calls.recorder_stats() {
            r.register(
                "recording_errors",
                "Recording errors (disk full, I/O, bad format)",
                ConstCounter::new(rec.errors),
            );
            r.register(
                "recording_dropped_frames",
                "20 ms recording frames dropped (writer queue full or failed file)",
                ConstCounter::new(rec.dropped_frames),
            );
            r.register(
                "recordings_open",
                "Recordings being written",
                ConstGauge::new(rec.open_files as i64),
            );
        }
    }
    let mut body = String::new();
    if let Err(e) = encode(&mut body, &r) {
        tracing::error!(error = %e, "cannot encode the metrics");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics\n",
        )
            .into_response();
    }
    ([(CONTENT_TYPE, CONTENT)], body).into_response()
}

/// The notification outbox: deliveries, give-ups and retries since start; pending rows as the
/// delivery task last counted them (absent until it has).
fn outbox(r: &mut Registry, o: &crate::cases::store::OutboxSignals) {
    r.register(
        "notifications_delivered",
        "Notifications delivered since the server started",
        ConstCounter::new(o.delivered()),
    );
    r.register(
        "notifications_failed",
        "Notifications given up after their last attempt since the server started",
        ConstCounter::new(o.failed()),
    );
    r.register(
        "notifications_retried",
        "Failed notification attempts scheduled again since the server started",
        ConstCounter::new(o.retried()),
    );
    if let Some(n) = o.pending() {
        r.register(
            "notifications_pending",
            "Notifications not yet delivered nor given up",
            ConstGauge::new(n),
        );
    }
}

/// Calls in progress, queues and agents by state (per queue and in all).
fn live(r: &mut Registry, s: &crate::call::Snapshot) {
    r.register(
        "calls_in_progress",
        "Calls the server holds now (inbound and outbound)",
        ConstGauge::new(s.calls_in_progress as i64),
    );
    let waiting = Family::<Labels, Gauge>::default();
    let ringing = Family::<Labels, Gauge>::default();
    let longest = Family::<Labels, Gauge>::default();
    for q in &s.queues {
        let l = vec![("queue", q.name.clone())];
        waiting.get_or_create(&l).set(q.waiting as i64);
        ringing.get_or_create(&l).set(q.ringing as i64);
        longest
            .get_or_create(&l)
            .set(i64::try_from(q.longest_wait_secs).unwrap_or(i64::MAX));
    }
    let by_queue = Family::<Labels, Gauge>::default();
    let total = Family::<Labels, Gauge>::default();
    // Every state appears, zeros included, so that a dashboard's series do not come and go.
    for state in AgentStatus::ALL {
        total
            .get_or_create(&vec![("state", state.as_str().to_string())])
            .set(0);
        for q in &s.queues {
            by_queue
                .get_or_create(&vec![
                    ("queue", q.name.clone()),
                    ("state", state.as_str().to_string()),
                ])
                .set(0);
        }
    }
    for a in &s.agents {
        total
            .get_or_create(&vec![("state", a.state.to_string())])
            .inc();
        for q in &a.queues {
            by_queue
                .get_or_create(&vec![("queue", q.clone()), ("state", a.state.to_string())])
                .inc();
        }
    }
    r.register(
        "queue_waiting",
        "Callers waiting in the queue (not being rung)",
        waiting,
    );
    r.register("queue_ringing", "Callers of the queue being rung", ringing);
    r.register(
        "queue_longest_wait_seconds",
        "How long the queue's longest-waiting caller has waited",
        longest,
    );
    r.register(
        "queue_agents",
        "Member agents of the queue by state",
        by_queue,
    );
    r.register("agents", "Agents by state", total);
}
