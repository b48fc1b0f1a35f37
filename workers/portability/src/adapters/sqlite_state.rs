//! [`StateStore`] on SQLite: the embedded default.
//!
//! One table, `portability_state(key, value, version)`, created if missing. Every operation is
//! a single SQL statement (`INSERT .. ON CONFLICT .. RETURNING`, `UPDATE .. WHERE version = ?`),
//! so atomicity comes from SQLite's write lock; WAL lets readers proceed meanwhile.

use std::path::Path;

use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::sqlite_pool::{self, SqliteHandle};
use crate::error::{PortabilityError, Result};
use crate::state::{
    MAX_LIST_LIMIT, StateStore, Versioned, prefix_upper_bound, validate_key, version_from_db,
    version_to_db,
};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS portability_state (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID";

/// A [`StateStore`] in a SQLite database (file or memory).
#[derive(Debug, Clone)]
pub struct SqliteStateStore {
    pool: SqlitePool,
    server: String,
}

impl SqliteStateStore {
    /// Opens the database file at `path`, creating it, its parent directory and the table if
    /// missing. Several stores (and processes) may open the same file.
    ///
    /// Errors: [`PortabilityError::Unavailable`] if the file cannot be created or opened.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::init(sqlite_pool::open_file(path.as_ref()).await?).await
    }

    /// Opens a private in-memory database (lost when the store is dropped), for tests and
    /// throwaway runs.
    pub async fn open_in_memory() -> Result<Self> {
        Self::init(sqlite_pool::open_memory().await?).await
    }

    async fn init(handle: SqliteHandle) -> Result<Self> {
        let store = Self {
            pool: handle.pool,
            server: handle.server,
        };
        sqlx::query(CREATE_TABLE)
            .execute(&store.pool)
            .await
            .map_err(|err| store.db_error(err))?;
        Ok(store)
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn db_error(&self, err: sqlx::Error) -> PortabilityError {
        PortabilityError::from_sqlx("sqlite", &self.server, err)
    }

    async fn current_version(&self, key: &str) -> Result<Option<u64>> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM portability_state WHERE key = ?1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(|err| self.db_error(err))?;
        version.map(version_from_db).transpose()
    }
}

#[async_trait]
impl StateStore for SqliteStateStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>> {
        validate_key(key)?;
        let row = sqlx::query("SELECT value, version FROM portability_state WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?;
        row.map(|row| {
            Ok(Versioned {
                value: row.try_get("value").map_err(|err| self.db_error(err))?,
                version: version_from_db(
                    row.try_get("version").map_err(|err| self.db_error(err))?,
                )?,
            })
        })
        .transpose()
    }

    async fn insert(&self, key: &str, value: Vec<u8>) -> Result<u64> {
        validate_key(key)?;
        let inserted = sqlx::query(
            "INSERT INTO portability_state (key, value, version) VALUES (?1, ?2, 1)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?
        .rows_affected();
        if inserted == 1 {
            return Ok(1);
        }
        Err(PortabilityError::Conflict {
            key: key.to_owned(),
            expected: None,
            actual: self.current_version(key).await?,
        })
    }

    async fn put(&self, key: &str, value: Vec<u8>, expected_version: Option<u64>) -> Result<u64> {
        validate_key(key)?;
        let new_version: Option<i64> = match expected_version {
            None => sqlx::query_scalar(
                "INSERT INTO portability_state (key, value, version) VALUES (?1, ?2, 1)
                 ON CONFLICT (key) DO UPDATE
                 SET value = excluded.value, version = portability_state.version + 1
                 RETURNING version",
            )
            .bind(key)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?,
            Some(expected) => sqlx::query_scalar(
                "UPDATE portability_state SET value = ?2, version = version + 1
                 WHERE key = ?1 AND version = ?3
                 RETURNING version",
            )
            .bind(key)
            .bind(value)
            .bind(version_to_db(expected)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?,
        };
        match new_version {
            Some(version) => version_from_db(version),
            None => Err(PortabilityError::Conflict {
                key: key.to_owned(),
                expected: expected_version,
                actual: self.current_version(key).await?,
            }),
        }
    }

    async fn delete(&self, key: &str, expected_version: Option<u64>) -> Result<bool> {
        validate_key(key)?;
        let deleted = match expected_version {
            None => sqlx::query("DELETE FROM portability_state WHERE key = ?1").bind(key),
            Some(expected) => {
                sqlx::query("DELETE FROM portability_state WHERE key = ?1 AND version = ?2")
                    .bind(key)
                    .bind(version_to_db(expected)?)
            }
        }
        .execute(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?
        .rows_affected();
        if deleted == 1 {
            return Ok(true);
        }
        match (expected_version, self.current_version(key).await?) {
            (Some(expected), Some(actual)) => Err(PortabilityError::Conflict {
                key: key.to_owned(),
                expected: Some(expected),
                actual: Some(actual),
            }),
            _ => Ok(false),
        }
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Versioned)>> {
        let limit = limit.min(MAX_LIST_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT key, value, version FROM portability_state WHERE key >= ",
        );
        query.push_bind(prefix);
        if let Some(bound) = prefix_upper_bound(prefix) {
            query.push(" AND key < ").push_bind(bound);
        }
        if let Some(after) = after {
            query.push(" AND key > ").push_bind(after);
        }
        query.push(" ORDER BY key LIMIT ").push_bind(limit as i64);
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?;
        rows.into_iter()
            .map(|row| {
                let key: String = row.try_get("key").map_err(|err| self.db_error(err))?;
                let value: Vec<u8> = row.try_get("value").map_err(|err| self.db_error(err))?;
                let version: i64 = row.try_get("version").map_err(|err| self.db_error(err))?;
                Ok((
                    key,
                    Versioned {
                        value,
                        version: version_from_db(version)?,
                    },
                ))
            })
            .collect()
    }
}
