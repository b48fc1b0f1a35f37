//! Fixtures shared by the contract suites: real Postgres and Redis servers (URLs from
//! `TEST_DATABASE_URL` / `TEST_REDIS_URL`), one private schema or key prefix per test, removed
//! again when the fixture is dropped, even if the test panicked.
//!
//! A server that is down fails the test with a message naming it: these suites never skip.

#![allow(dead_code)] // Each test binary uses a subset of the fixtures.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use portability::{
    CacheStore, PostgresStateStore, RedisCacheStore, SqliteCacheStore, SqliteStateStore, StateStore,
};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sqlx::Connection;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// A random lowercase suffix for schema names and key prefixes.
pub fn unique_suffix() -> String {
    rand::thread_rng()
        .sample_iter(Alphanumeric)
        .take(12)
        .map(|byte| char::from(byte).to_ascii_lowercase())
        .collect()
}

fn unreachable(server: &str, url: &str, err: impl std::fmt::Display) -> ! {
    panic!("{server} is not reachable at {url}: start it (CI expects it running) ({err})")
}

/// Runs `cleanup` to completion on a fresh runtime in its own thread, so it can be called from
/// `Drop` inside a test's runtime.
fn run_cleanup<F>(cleanup: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let outcome = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("cleanup runtime")
            .block_on(cleanup);
    })
    .join();
    if outcome.is_err() {
        eprintln!("fixture cleanup panicked");
    }
}

/// Where a fixture's data lives, to open more stores on the same backend.
#[derive(Debug, Clone)]
pub enum Backend {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres { url: String, schema: String },
    Redis { url: String, prefix: String },
}

/// A store under test plus what must be removed after the test.
pub struct Fixture<S: ?Sized> {
    pub store: Arc<S>,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl<S: ?Sized> Drop for Fixture<S> {
    fn drop(&mut self) {
        match self.backend.clone() {
            Backend::Postgres { url, schema } => run_cleanup(async move {
                match sqlx::PgConnection::connect(&url).await {
                    Ok(mut conn) => {
                        let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                        if let Err(err) = sqlx::query(&drop).execute(&mut conn).await {
                            eprintln!("dropping schema {schema} failed: {err}");
                        }
                    }
                    Err(err) => eprintln!("cleanup: PostgreSQL at {url} unreachable: {err}"),
                }
            }),
            Backend::Redis { url, prefix } => run_cleanup(async move {
                if let Err(err) = delete_redis_prefix(&url, &prefix).await {
                    eprintln!("deleting Redis keys {prefix}* failed: {err}");
                }
            }),
            Backend::SqliteFile(_) | Backend::SqliteMemory => {}
        }
    }
}

async fn delete_redis_prefix(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await?;
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .query_async::<()>(&mut conn)
            .await?;
    }
    Ok(())
}

// ---- state stores ----

pub async fn sqlite_file_state() -> Fixture<dyn StateStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let store = SqliteStateStore::open(&path)
        .await
        .expect("open SQLite file");
    Fixture {
        store: Arc::new(store),
        backend: Backend::SqliteFile(path),
        _dir: Some(dir),
    }
}

pub async fn sqlite_memory_state() -> Fixture<dyn StateStore> {
    let store = SqliteStateStore::open_in_memory()
        .await
        .expect("open SQLite memory");
    Fixture {
        store: Arc::new(store),
        backend: Backend::SqliteMemory,
        _dir: None,
    }
}

pub async fn postgres_state() -> Fixture<dyn StateStore> {
    let url = postgres_url();
    let schema = format!("portability_test_{}", unique_suffix());
    let store = PostgresStateStore::connect(&url, Some(&schema))
        .await
        .unwrap_or_else(|err| unreachable("PostgreSQL", &url, err));
    Fixture {
        store: Arc::new(store),
        backend: Backend::Postgres { url, schema },
        _dir: None,
    }
}

// ---- cache stores ----

pub async fn sqlite_file_cache() -> Fixture<dyn CacheStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cache.db");
    let store = SqliteCacheStore::open(&path)
        .await
        .expect("open SQLite file");
    Fixture {
        store: Arc::new(store),
        backend: Backend::SqliteFile(path),
        _dir: Some(dir),
    }
}

pub async fn redis_cache() -> Fixture<dyn CacheStore> {
    let url = redis_url();
    let prefix = format!("portability-test:{}:", unique_suffix());
    let store = connect_redis(&url, &prefix).await;
    Fixture {
        store: Arc::new(store),
        backend: Backend::Redis { url, prefix },
        _dir: None,
    }
}

async fn connect_redis(url: &str, prefix: &str) -> RedisCacheStore {
    tokio::time::timeout(
        Duration::from_secs(20),
        RedisCacheStore::connect(url, prefix),
    )
    .await
    .unwrap_or_else(|_| unreachable("Redis", url, "connection timed out"))
    .unwrap_or_else(|err| unreachable("Redis", url, err))
}

/// Opens another cache store on the fixture's backend (another "process").
pub async fn another_cache(backend: &Backend) -> Arc<dyn CacheStore> {
    match backend {
        Backend::SqliteFile(path) => Arc::new(SqliteCacheStore::open(path).await.expect("reopen")),
        Backend::Redis { url, prefix } => Arc::new(connect_redis(url, prefix).await),
        other => panic!("cannot open a second cache store on {other:?}"),
    }
}
