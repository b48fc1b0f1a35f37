//! Opening SQLite databases the way every SQLite adapter of this crate wants them.
//!
//! Files are created (with their parent directory) if missing and run in WAL mode with a busy
//! timeout, so several pools and processes can share one file. In-memory databases live in a
//! single connection that is never recycled, since the data dies with the connection.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{PortabilityError, Result};

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open SQLite pool and the description of its database used in error messages.
pub(crate) struct SqliteHandle {
    pub(crate) pool: SqlitePool,
    pub(crate) server: String,
}

/// Opens (creating if needed) the database file at `path`.
pub(crate) async fn open_file(path: &Path) -> Result<SqliteHandle> {
    let server = format!("SQLite database at {}", path.display());
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|err| PortabilityError::Unavailable {
                server: server.clone(),
                message: format!("cannot create directory {}: {err}", parent.display()),
            })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|err| PortabilityError::from_sqlx("sqlite", &server, err))?;
    Ok(SqliteHandle { pool, server })
}

/// Opens a fresh private in-memory database.
pub(crate) async fn open_memory() -> Result<SqliteHandle> {
    let server = "SQLite in-memory database".to_owned();
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .map_err(|err| PortabilityError::from_sqlx("sqlite", &server, err))?
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(|err| PortabilityError::from_sqlx("sqlite", &server, err))?;
    Ok(SqliteHandle { pool, server })
}
