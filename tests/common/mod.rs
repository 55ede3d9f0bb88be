//! Test support: a fresh case store on SQLite (temporary directory) or on the real PostgreSQL
//! (a database of its own, dropped afterwards), and the in-process API router.
#![allow(dead_code)]

pub mod http;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use hotline::cases::deadline::DeadlinePolicy;
use hotline::cases::Store;
use hotline::config::{self, Config};

/// Where PostgreSQL tests connect (a server, without a database name).
pub fn pg_server() -> String {
    std::env::var("HOTLINE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shipped example configuration.
pub fn demo_config() -> Config {
    config::load(Path::new("sip-config/hotline.toml"))
        .expect("the shipped configuration loads")
        .config
}

/// A store that removes itself (its directory or its database) when dropped.
pub struct TestStore {
    pub store: Store,
    pub config: Config,
    /// The database URL (for raw SQL in tests).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_db: Option<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestStore {
    pub async fn new(backend: Backend) -> TestStore {
        Self::with_config(backend, demo_config()).await
    }

    pub async fn with_config(backend: Backend, config: Config) -> TestStore {
        let policy = DeadlinePolicy::from_config(&config).expect("calendar");
        let (url, dir, pg_db) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = Store::sqlite_url_for(dir.path()).expect("data dir");
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let name = format!(
                    "hotline_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    rand::random::<u32>()
                );
                admin_sql(&format!("CREATE DATABASE {name}")).await;
                (format!("{}/{name}", pg_server()), None, Some(name))
            }
        };
        let store = Store::connect(&url, policy).await.unwrap_or_else(|e| {
            panic!("cannot open {backend:?} store at {url}: {e} (is PostgreSQL running? set HOTLINE_TEST_PG)")
        });
        store.migrate().await.expect("migrate");
        store.sync_config(&config).await.expect("sync config");
        TestStore {
            store,
            config,
            url,
            _dir: dir,
            pg_db,
        }
    }

    pub fn router(&self) -> axum::Router {
        hotline::api::router(hotline::api::AppState::new(
            self.store.clone(),
            self.config.clone(),
        ))
    }
}

async fn admin_sql(sql: &str) {
    use sqlx::Connection;
    let url = format!("{}/postgres", pg_server());
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {url}: {e} (is it running? set HOTLINE_TEST_PG)")
    });
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    let _ = conn.close().await;
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(name) = self.pg_db.take() {
            let store = self.store.clone();
            // Drop runs inside the test's runtime; clean up on a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    store.close().await;
                    admin_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                });
            })
            .join();
        }
    }
}

/// Defines `sqlite_NAME` and `postgres_NAME` tests that run `NAME(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}
