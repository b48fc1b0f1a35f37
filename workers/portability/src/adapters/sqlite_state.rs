//! [`StateStore`] on SQLite: the embedded default.
//!
//! One table, `portability_state(key, value, version)`, created if missing. Every operation is
//! a single SQL statement (`INSERT .. ON CONFLICT .. RETURNING`, `UPDATE .. WHERE version = ?`),
//! so atomicity comes from SQLite's write lock; WAL lets readers proceed meanwhile.

use std::path::Path;
use std::sync::Arc;

use sqlx::{Sqlite, SqlitePool};

use super::sqlite_pool::{self, SqliteHandle};
use crate::error::{PortabilityError, Result};

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
    /// Keeps the file's periodic WAL checkpoint running while the store lives.
    _checkpoints: Option<Arc<sqlite_pool::Checkpoints>>,
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
            _checkpoints: handle.checkpoints,
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
}

super::sql_state::impl_sql_state_store!(SqliteStateStore, Sqlite);
