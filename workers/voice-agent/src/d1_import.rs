//! Loading the original D1 database (`wrangler d1 export --output dump.sql`) into the
//! [`StateStore`]: the dump is SQLite SQL, so it is replayed into an in-memory SQLite database
//! and the `nonces` and `sessions` rows are written as records. Re-running an import
//! overwrites the same records (idempotent). A data-only dump (`--no-schema`) gets the
//! original `schema.sql` tables first.

use std::sync::Arc;

use portability::StateStore;
use portability::d1_dump;

use crate::sessions::{NonceRecord, SessionBook, SessionRecord, SessionStatus};

/// The original's `schema.sql` tables (used when a dump carries data only).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS nonces (wallet TEXT PRIMARY KEY, nonce_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, wallet TEXT NOT NULL, channel TEXT NOT NULL,
  agora_agent_id TEXT, llm_secret_hash TEXT NOT NULL, context_blob TEXT, started_at INTEGER NOT NULL,
  ended_at INTEGER, duration_ms INTEGER, status TEXT NOT NULL);";

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// `nonces` rows written.
    pub nonces: usize,
    /// `sessions` rows written.
    pub sessions: usize,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The dump is not SQL SQLite can run.
    #[error("the dump cannot be replayed: {0}")]
    Dump(String),
    /// A row has a value the port cannot represent.
    #[error("row {table}/{key}: {message}")]
    Row {
        /// Table.
        table: &'static str,
        /// Primary key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The state store refused a write.
    #[error(transparent)]
    Store(#[from] portability::PortabilityError),
}

type SessionRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    String,
);

/// Imports the voice-agent tables of `dump` into `store`.
pub async fn import_d1_dump(
    store: Arc<dyn StateStore>,
    dump: &str,
) -> Result<ImportReport, ImportError> {
    let mut db = d1_dump::replay(dump, SCHEMA)
        .await
        .map_err(|e| ImportError::Dump(e.0))?;
    let nonces: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT wallet, nonce_hash, expires_at, created_at FROM nonces ORDER BY wallet",
    )
    .fetch_all(&mut db)
    .await
    .map_err(|e| ImportError::Dump(e.to_string()))?;
    let sessions: Vec<SessionRow> = sqlx::query_as(
        "SELECT id, wallet, channel, agora_agent_id, llm_secret_hash, context_blob, started_at, \
         ended_at, duration_ms, status FROM sessions ORDER BY id",
    )
    .fetch_all(&mut db)
    .await
    .map_err(|e| ImportError::Dump(e.to_string()))?;

    let book = SessionBook::new(store);
    let mut report = ImportReport::default();
    for (wallet, nonce_hash, expires_at, created_at) in nonces {
        book.put_nonce(&NonceRecord {
            wallet,
            nonce_hash,
            expires_at,
            created_at,
        })
        .await?;
        report.nonces += 1;
    }
    for row in sessions {
        let (
            id,
            wallet,
            channel,
            agora_agent_id,
            llm_secret_hash,
            context_blob,
            started_at,
            ended_at,
            duration_ms,
            status,
        ) = row;
        let status = SessionStatus::parse(&status).ok_or_else(|| ImportError::Row {
            table: "sessions",
            key: id.clone(),
            message: format!("unknown status {status:?}"),
        })?;
        book.put_session(&SessionRecord {
            id,
            wallet,
            channel,
            agora_agent_id,
            llm_secret_hash,
            context_blob,
            started_at,
            ended_at,
            duration_ms,
            status,
        })
        .await?;
        report.sessions += 1;
    }
    Ok(report)
}
