//! [`CacheStore`] on SQLite: the embedded default.
//!
//! Entries live in `portability_cache(key, value, negative, expires_at_ms)`; reads filter on
//! the expiry time and expired rows are purged now and then on write. Rate-limit slots live in
//! `portability_rate_slots(key, next_free_ms)` and are reserved with one
//! `INSERT .. ON CONFLICT .. RETURNING` statement, atomic under SQLite's write lock and shared
//! by every process that opens the same file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Row, SqlitePool};

use super::sqlite_pool::{self, SqliteHandle};
use crate::cache::{CacheEntry, CacheStore, now_millis, positive_millis, validate_key};
use crate::error::{PortabilityError, Result};

const CREATE_TABLES: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS portability_cache (
        key TEXT PRIMARY KEY NOT NULL,
        value BLOB,
        negative INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS portability_cache_expiry ON portability_cache (expires_at_ms)",
    "CREATE TABLE IF NOT EXISTS portability_rate_slots (
        key TEXT PRIMARY KEY NOT NULL,
        next_free_ms INTEGER NOT NULL
    ) WITHOUT ROWID",
];

/// Expired rows are deleted once every this many writes.
const PURGE_EVERY_WRITES: u64 = 256;

/// A [`CacheStore`] in a SQLite database (file or memory).
#[derive(Debug, Clone)]
pub struct SqliteCacheStore {
    pool: SqlitePool,
    server: String,
    /// Keeps the file's periodic WAL checkpoint running while the store lives.
    _checkpoints: Option<Arc<sqlite_pool::Checkpoints>>,
    writes: Arc<AtomicU64>,
}

impl SqliteCacheStore {
    /// Opens the database file at `path`, creating it, its parent directory and the tables if
    /// missing. Stores (and processes) opening the same file share entries and rate-limit
    /// slots. May share a file with a `SqliteStateStore`.
    ///
    /// Errors: [`PortabilityError::Unavailable`] if the file cannot be created or opened.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::init(sqlite_pool::open_file(path.as_ref()).await?).await
    }

    /// Opens a private in-memory database (lost when the store is dropped).
    pub async fn open_in_memory() -> Result<Self> {
        Self::init(sqlite_pool::open_memory().await?).await
    }

    async fn init(handle: SqliteHandle) -> Result<Self> {
        let store = Self {
            pool: handle.pool,
            server: handle.server,
            _checkpoints: handle.checkpoints,
            writes: Arc::new(AtomicU64::new(0)),
        };
        for statement in CREATE_TABLES {
            sqlx::query(statement)
                .execute(&store.pool)
                .await
                .map_err(|err| store.db_error(err))?;
        }
        Ok(store)
    }

    /// Deletes every expired entry now and returns how many were removed. Also done
    /// automatically every few hundred writes; expired entries are invisible either way.
    pub async fn purge_expired(&self) -> Result<u64> {
        let purged = sqlx::query("DELETE FROM portability_cache WHERE expires_at_ms <= ?1")
            .bind(now_millis())
            .execute(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?;
        Ok(purged.rows_affected())
    }

    fn db_error(&self, err: sqlx::Error) -> PortabilityError {
        PortabilityError::from_sqlx("sqlite", &self.server, err)
    }

    async fn write(&self, key: &str, value: Option<Vec<u8>>, ttl: Duration) -> Result<()> {
        validate_key(key)?;
        let ttl_ms = positive_millis("ttl", ttl)?;
        let negative = value.is_none();
        sqlx::query(
            "INSERT INTO portability_cache (key, value, negative, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                negative = excluded.negative, expires_at_ms = excluded.expires_at_ms",
        )
        .bind(key)
        .bind(value)
        .bind(negative)
        .bind(now_millis().saturating_add(ttl_ms))
        .execute(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?;
        let writes = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if writes.is_multiple_of(PURGE_EVERY_WRITES)
            && let Err(err) = self.purge_expired().await
        {
            tracing::warn!(error = %err, "purging expired cache entries failed");
        }
        Ok(())
    }
}

#[async_trait]
impl CacheStore for SqliteCacheStore {
    async fn get(&self, key: &str) -> Result<Option<CacheEntry>> {
        validate_key(key)?;
        let row = sqlx::query(
            "SELECT value, negative FROM portability_cache WHERE key = ?1 AND expires_at_ms > ?2",
        )
        .bind(key)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?;
        let Some(row) = row else { return Ok(None) };
        let negative: bool = row.try_get("negative").map_err(|err| self.db_error(err))?;
        if negative {
            return Ok(Some(CacheEntry::Negative));
        }
        let value: Option<Vec<u8>> = row.try_get("value").map_err(|err| self.db_error(err))?;
        match value {
            Some(value) => Ok(Some(CacheEntry::Hit(value))),
            None => Err(PortabilityError::Encoding(format!(
                "cache entry {key:?} is positive but has no value"
            ))),
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<()> {
        self.write(key, Some(value), ttl).await
    }

    async fn put_negative(&self, key: &str, ttl: Duration) -> Result<()> {
        self.write(key, None, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        sqlx::query("DELETE FROM portability_cache WHERE key = ?1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?;
        Ok(())
    }

    async fn reserve_slot(&self, key: &str, spacing: Duration) -> Result<Duration> {
        validate_key(key)?;
        let spacing_ms = positive_millis("spacing", spacing)?;
        let now = now_millis();
        // `fetch_all` runs the statement to its end (see sql_state.rs on unfinished statements
        // and the WAL).
        let next_free: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO portability_rate_slots (key, next_free_ms) VALUES (?1, ?2 + ?3)
             ON CONFLICT (key) DO UPDATE
             SET next_free_ms = MAX(portability_rate_slots.next_free_ms, ?2) + ?3
             RETURNING next_free_ms",
        )
        .bind(key)
        .bind(now)
        .bind(spacing_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?;
        let next_free = next_free
            .first()
            .copied()
            .ok_or_else(|| PortabilityError::Backend {
                backend: "sqlite",
                message: "reserving a rate-limit slot returned no row".into(),
            })?;
        let turn = next_free - spacing_ms;
        Ok(Duration::from_millis(
            u64::try_from(turn - now).unwrap_or(0),
        ))
    }
}
