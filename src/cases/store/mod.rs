//! The case store's database access, on SQLite (embedded default) or PostgreSQL. The same SQL
//! text serves both (`$n` placeholders, `RETURNING`, `ON CONFLICT`); [`with_db!`] runs one body
//! against whichever pool is configured. SQLite has one writer connection (writes queue in the
//! process instead of failing with SQLITE_BUSY) and a pool of readers (WAL mode).

mod attachments;
mod audit;
mod callbacks;
mod calls;
mod create;
mod evaluation;
mod from_call;
mod inbox;
mod intake;
mod notifications;
mod orders;
mod outbox;
mod overview;
mod proposals;
mod query;
mod reference;
mod reports;
mod sqlite_scan;
mod sweep;
mod transition;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::metrics::histogram::Histogram;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::deadline::DeadlinePolicy;
use super::lifecycle::TransitionError;
use super::model::Category;

pub use attachments::Attachment;
pub use audit::{AuditEntry, AuditQuery};
pub use callbacks::{CallbackQuery, NewCallbackAttempt};
pub use calls::{CallQuery, CallWithoutOrder};
pub use from_call::{OrderFromCall, RecordingRef};
pub use inbox::{InboxOwner, INBOX_LIMIT};
pub use intake::{
    is_idempotency_key, CheckedIntake, IntakeOutcome, IntakeReport, IntakeResult, TRANSFER_CHANNELS,
};
pub use notifications::{NewNotification, INSERT_NOTIFICATION, NOTIFICATION_KINDS};
pub use orders::OrderKey;
pub use outbox::{Notification, NotificationQuery, OutboxSignals, NOTIFICATION_STATUSES};
pub use proposals::{MergeProposal, MergeRule, PROPOSAL_STATUSES};
pub use reports::{report_params, today_by_queue, AgentCall, OrderMark, MARK_KINDS};
pub use transition::{attachment_kind, TransitionPhotos};

/// Runs `$body` with `$pool` bound to the write pool (`write`) or a read pool (`read`), and
/// times it into the store's query histogram ([`Store::query_seconds`]; an early return by `?`
/// is timed too).
macro_rules! with_db {
    ($store:expr, write, |$pool:ident| $body:expr) => {{
        let _timer = $crate::cases::store::QueryTimer::start(&$store.query_seconds);
        match &$store.db {
            $crate::cases::store::Db::Sqlite { write: $pool, .. } => $body,
            $crate::cases::store::Db::Postgres($pool) => $body,
        }
    }};
    ($store:expr, read, |$pool:ident| $body:expr) => {{
        let _timer = $crate::cases::store::QueryTimer::start(&$store.query_seconds);
        match &$store.db {
            $crate::cases::store::Db::Sqlite { read: $pool, .. } => $body,
            $crate::cases::store::Db::Postgres($pool) => $body,
        }
    }};
}
pub(crate) use with_db;

#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// The database file (none in memory): reports read it on one thread of their own.
        file: Option<std::path::PathBuf>,
    },
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the order was changed by someone else at the same time; try again")]
    Conflict,
    /// The thing is not in a state that allows this (the message names the state).
    #[error("{0}")]
    WrongState(String),
    #[error("the case store is shutting down or overloaded")]
    Unavailable,
    /// A failure on our side, already logged where it happened.
    #[error("internal: {0}")]
    Internal(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

/// Reference data kept in memory: it changes only when configuration is synced.
#[derive(Debug, Default)]
struct Cache {
    categories: HashMap<String, Category>,
    departments: HashMap<String, String>,
    grid_cells: HashMap<String, String>,
}

/// The case store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
    creator: create::Creator,
    policy: Arc<DeadlinePolicy>,
    cache: Arc<RwLock<Cache>>,
    /// The dispatch routing table (`[[routing]]`), set by `sync_config`.
    routing: Arc<RwLock<crate::cases::routing::Routing>>,
    /// Durations of the queries run through `with_db!` (shared by clones of the store).
    pub(crate) query_seconds: Histogram,
    /// The notification outbox's wake-up and counters (shared by clones of the store).
    outbox: Arc<outbox::OutboxSignals>,
}

/// Upper bounds (seconds) of the store-latency histogram's buckets: 0.5 ms to 2.5 s.
const QUERY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Observes the time from its start to its drop into a histogram.
pub(crate) struct QueryTimer<'a> {
    histogram: &'a Histogram,
    started: std::time::Instant,
}

impl<'a> QueryTimer<'a> {
    pub(crate) fn start(histogram: &'a Histogram) -> Self {
        QueryTimer {
            histogram,
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for QueryTimer<'_> {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the store at `url` (`sqlite:…` or `postgres://…`); a SQLite file is created if
    /// missing. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str, policy: DeadlinePolicy) -> Result<Store, StoreError> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(opts)
                .await?;
            Db::Postgres(pool)
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let file = (!memory).then(|| opts.get_filename().to_path_buf());
            // A local file's connection does not die: no ping before each use. An in-memory
            // database lives as long as its one connection, which must never be recycled.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .idle_timeout((!memory).then_some(Duration::from_secs(600)))
                .max_lifetime((!memory).then_some(Duration::from_secs(1800)))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts.clone())
                .await?;
            let read = if memory {
                write.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .test_before_acquire(false)
                    .connect_with(opts.read_only(true))
                    .await?
            };
            Db::Sqlite { write, read, file }
        };
        let query_seconds = Histogram::new(QUERY_BUCKETS);
        Ok(Store {
            creator: create::Creator::spawn(db.clone(), query_seconds.clone()),
            db,
            policy: Arc::new(policy),
            cache: Arc::default(),
            routing: Arc::default(),
            query_seconds,
            outbox: Arc::new(outbox::OutboxSignals::new()),
        })
    }

    /// The durations of the store's queries so far (a Prometheus histogram, in seconds).
    pub fn query_seconds(&self) -> &Histogram {
        &self.query_seconds
    }

    /// The SQLite URL for a data directory (`DATA_DIR/hotline.db`), creating the directory.
    pub fn sqlite_url_for(data_dir: &Path) -> std::io::Result<String> {
        std::fs::create_dir_all(data_dir)?;
        Ok(format!(
            "sqlite://{}",
            data_dir.join("hotline.db").display()
        ))
    }

    /// Applies pending migrations, then loads reference data into memory. Returns how many
    /// migrations were applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let applied = with_db!(self, write, |pool| {
            let migrator = match &self.db {
                Db::Sqlite { .. } => &SQLITE_MIGRATIONS,
                Db::Postgres(_) => &POSTGRES_MIGRATIONS,
            };
            let before: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await
                    .unwrap_or(0);
            migrator.run(pool).await?;
            let after: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await?;
            (after - before) as usize
        });
        self.reload_cache().await?;
        Ok(applied)
    }

    /// "sqlite" or "postgres".
    pub fn kind(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Checks the database answers and the create writer runs.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if self.creator.is_closed() {
            return Err(StoreError::Unavailable);
        }
        with_db!(self, read, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub fn policy(&self) -> &DeadlinePolicy {
        &self.policy
    }

    /// Closes the pools (on shutdown), so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
