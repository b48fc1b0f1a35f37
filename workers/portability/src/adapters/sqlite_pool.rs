//! Opening SQLite databases the way every SQLite adapter of this crate wants them.
//!
//! Files are created (with their parent directory) if missing and run in WAL mode with a busy
//! timeout, so several pools and processes can share one file. In-memory databases live in a
//! single connection that is never recycled, since the data dies with the connection.
//!
//! The write-ahead log is bounded: SQLite checkpoints it automatically every 1000 pages,
//! `journal_size_limit` truncates it back to [`WAL_SIZE_LIMIT`] after a checkpoint, and each
//! pool runs a passive checkpoint every [`CHECKPOINT_EVERY`] so a quiet database does not keep
//! a large log around. Under a steady stream of writes the log stays below about
//! `WAL_SIZE_LIMIT` plus one automatic checkpoint's pages (4 MiB + ~4 MiB).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{PortabilityError, Result};

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Size the write-ahead log is truncated back to after a checkpoint.
pub const WAL_SIZE_LIMIT: u64 = 4 * 1024 * 1024;

/// How often each file pool asks for a passive checkpoint.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// An open SQLite pool and the description of its database used in error messages.
pub(crate) struct SqliteHandle {
    pub(crate) pool: SqlitePool,
    pub(crate) server: String,
    /// The periodic checkpoint of a file database; the store keeps it for as long as it lives.
    pub(crate) checkpoints: Option<Arc<Checkpoints>>,
}

/// The periodic checkpoint task of one pool; stopped when the last store holding it drops.
#[derive(Debug)]
pub(crate) struct Checkpoints(tokio::task::AbortHandle);

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
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
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string());
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|err| PortabilityError::from_sqlx("sqlite", &server, err))?;
    let checkpoints = Some(Arc::new(spawn_checkpoints(pool.clone(), path)));
    Ok(SqliteHandle {
        pool,
        server,
        checkpoints,
    })
}

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` on `pool` every [`CHECKPOINT_EVERY`] until the
/// returned handle is dropped.
fn spawn_checkpoints(pool: SqlitePool, path: &Path) -> Checkpoints {
    let path = path.display().to_string();
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(database = %path, %error, "periodic WAL checkpoint failed");
            }
        }
    });
    Checkpoints(task.abort_handle())
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
    Ok(SqliteHandle {
        pool,
        server,
        checkpoints: None,
    })
}
