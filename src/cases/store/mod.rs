//! The case store's database access, on SQLite (embedded default) or PostgreSQL. The same SQL
//! text serves both (`$n` placeholders, `RETURNING`, `ON CONFLICT`); [`with_db!`] runs one body
//! against whichever pool is configured. SQLite has one writer connection (writes queue in the
//! process instead of failing with SQLITE_BUSY) and a pool of readers (WAL mode).

mod audit;
mod callbacks;
mod calls;
mod create;
mod from_call;
mod orders;
mod query;
mod reference;
mod reports;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::deadline::DeadlinePolicy;
use super::lifecycle::TransitionError;
use super::model::Category;

pub use audit::{AuditEntry, AuditQuery};
pub use callbacks::{CallbackQuery, NewCallbackAttempt};
pub use calls::CallQuery;
pub use from_call::{OrderFromCall, RecordingRef};
pub use orders::OrderKey;
pub use reports::{report_params, today_by_queue, AgentCall, OrderMark, MARK_KINDS};

/// Runs `$body` with `$pool` bound to the write pool (`write`) or a read pool (`read`).
macro_rules! with_db {
    ($store:expr, write, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::cases::store::Db::Sqlite { write: $pool, .. } => $body,
            $crate::cases::store::Db::Postgres($pool) => $body,
        }
    };
    ($store:expr, read, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::cases::store::Db::Sqlite { read: $pool, .. } => $body,
            $crate::cases::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_db;

#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite { write: SqlitePool, read: SqlitePool },
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
            Db::Sqlite { write, read }
        };
        Ok(Store {
            creator: create::Creator::spawn(db.clone()),
            db,
            policy: Arc::new(policy),
            cache: Arc::default(),
        })
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
            Db::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
