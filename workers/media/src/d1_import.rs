//! `heaven migrate media-import`: api-core's `music_publish_jobs` and `music_upload_bans`
//! from a `wrangler d1 export` SQL dump into the state store.
//!
//! Every row is read and checked first (one bad row refuses the whole dump, naming it); then
//! each job is written with its indexes (quota usage, audio hash, idempotency key, and the
//! lease index for jobs left in a step in progress, which the sweep then resumes or releases)
//! and each ban; finally every record is read back and compared with what was written, and
//! the counts of the dump and of the store are reported. Re-running overwrites the same
//! records. Columns a dump lacks (databases created before migrations 0009–0011) import as
//! NULL.

use std::sync::Arc;

use portability::{StateStore, StateStoreJsonExt, d1_dump};
use serde_json::Value;
use sqlx::Row;

use crate::bans::{BanStore, UploadBan};
use crate::jobs::idempotency::Idempotency;
use crate::jobs::model::{MetadataStatus, MusicJob};
use crate::jobs::store::JobStore;

/// The tables read, for data-only dumps (`--no-schema`).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS music_publish_jobs (job_id TEXT PRIMARY KEY, user_address TEXT NOT NULL,
  status TEXT NOT NULL, publish_type TEXT, idempotency_key TEXT, file_name TEXT, content_type TEXT,
  file_size INTEGER, audio_sha256 TEXT, fingerprint TEXT, duration_s INTEGER,
  staged_dataitem_id TEXT, staged_gateway_url TEXT, staged_payload_json TEXT,
  cover_staged_dataitem_id TEXT, cover_staged_gateway_url TEXT, cover_content_type TEXT,
  cover_file_size INTEGER, cover_staged_payload_json TEXT, lyrics_staged_dataitem_id TEXT,
  lyrics_staged_gateway_url TEXT, lyrics_sha256 TEXT, lyrics_bytes INTEGER,
  lyrics_staged_payload_json TEXT, policy_decision TEXT NOT NULL DEFAULT 'pending',
  policy_reason_code TEXT, policy_reason TEXT, parent_ip_ids_json TEXT, license_terms_ids_json TEXT,
  anchored_dataitem_id TEXT, arweave_ref TEXT, arweave_url TEXT,
  arweave_available INTEGER NOT NULL DEFAULT 0, anchor_payload_json TEXT,
  metadata_status TEXT NOT NULL DEFAULT 'none', metadata_error TEXT, ip_metadata_uri TEXT,
  ip_metadata_hash TEXT, ip_metadata_dataitem_id TEXT, nft_metadata_uri TEXT,
  nft_metadata_hash TEXT, nft_metadata_dataitem_id TEXT, story_tx_hash TEXT, story_ip_id TEXT,
  story_token_id TEXT, story_license_terms_ids_json TEXT, story_block_number TEXT,
  megaeth_tx_hash TEXT, error_code TEXT, error_message TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()), updated_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE TABLE IF NOT EXISTS music_upload_bans (ban_id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_address TEXT NOT NULL, self_nullifier TEXT, reason_code TEXT NOT NULL, reason TEXT NOT NULL,
  evidence_json TEXT, active INTEGER NOT NULL DEFAULT 1, expires_at INTEGER, created_by TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()));
";

/// Columns of a job as the record names them; booleans and enum defaults handled below.
const JOB_COLUMNS: [&str; 52] = [
    "job_id",
    "user_address",
    "status",
    "publish_type",
    "idempotency_key",
    "file_name",
    "content_type",
    "file_size",
    "audio_sha256",
    "fingerprint",
    "duration_s",
    "staged_dataitem_id",
    "staged_gateway_url",
    "staged_payload_json",
    "cover_staged_dataitem_id",
    "cover_staged_gateway_url",
    "cover_content_type",
    "cover_file_size",
    "cover_staged_payload_json",
    "lyrics_staged_dataitem_id",
    "lyrics_staged_gateway_url",
    "lyrics_sha256",
    "lyrics_bytes",
    "lyrics_staged_payload_json",
    "policy_decision",
    "policy_reason_code",
    "policy_reason",
    "parent_ip_ids_json",
    "license_terms_ids_json",
    "anchored_dataitem_id",
    "arweave_ref",
    "arweave_url",
    "arweave_available",
    "anchor_payload_json",
    "metadata_status",
    "metadata_error",
    "ip_metadata_uri",
    "ip_metadata_hash",
    "ip_metadata_dataitem_id",
    "nft_metadata_uri",
    "nft_metadata_hash",
    "nft_metadata_dataitem_id",
    "story_tx_hash",
    "story_ip_id",
    "story_token_id",
    "story_license_terms_ids_json",
    "story_block_number",
    "megaeth_tx_hash",
    "error_code",
    "error_message",
    "created_at",
    "updated_at",
];

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Job rows in the dump.
    pub jobs_in_dump: u64,
    /// Jobs read back equal from the store.
    pub jobs_stored: u64,
    /// Ban rows in the dump.
    pub bans_in_dump: u64,
    /// Bans read back equal from the store.
    pub bans_stored: u64,
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The dump could not be replayed or queried.
    #[error("{0}")]
    Dump(String),
    /// A row cannot be imported.
    #[error("{table} row {key}: {message}")]
    Row {
        /// The table.
        table: &'static str,
        /// Its key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The store failed, or a record read back differs.
    #[error("state store: {0}")]
    Store(String),
}

fn dump_err(e: impl std::fmt::Display) -> ImportError {
    ImportError::Dump(e.to_string())
}

async fn columns(db: &mut sqlx::SqliteConnection, table: &str) -> Result<Vec<String>, ImportError> {
    let rows = sqlx::query(&format!("PRAGMA table_info({table})"))
        .fetch_all(db)
        .await
        .map_err(dump_err)?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("name").map_err(dump_err))
        .collect()
}

/// `SELECT json_object(...)` over `wanted`, NULL for the columns the table lacks.
fn json_select(
    table: &str,
    wanted: &[&str],
    present: &[String],
    special: impl Fn(&str) -> Option<String>,
) -> String {
    let members: Vec<String> = wanted
        .iter()
        .map(|c| {
            let value = if !present.iter().any(|p| p == c) {
                "NULL".to_owned()
            } else {
                special(c).unwrap_or_else(|| (*c).to_owned())
            };
            format!("'{c}', {value}")
        })
        .collect();
    format!("SELECT json_object({}) FROM {table}", members.join(", "))
}

async fn rows_as_json(
    db: &mut sqlx::SqliteConnection,
    sql: &str,
) -> Result<Vec<Value>, ImportError> {
    let rows = sqlx::query(sql).fetch_all(db).await.map_err(dump_err)?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get(0).map_err(dump_err)?;
            serde_json::from_str(&text).map_err(dump_err)
        })
        .collect()
}

fn key_of(row: &Value, column: &str) -> String {
    row.get(column).map_or_else(String::new, |v| v.to_string())
}

/// Reads and checks every job and ban row of `dump`.
pub async fn read_dump(dump: &str) -> Result<(Vec<MusicJob>, Vec<UploadBan>), ImportError> {
    let mut db = d1_dump::replay(dump, SCHEMA)
        .await
        .map_err(|e| ImportError::Dump(e.0))?;
    let present = columns(&mut db, "music_publish_jobs").await?;
    let sql = json_select("music_publish_jobs", &JOB_COLUMNS, &present, |c| match c {
        "arweave_available" => {
            Some("json(CASE WHEN arweave_available THEN 'true' ELSE 'false' END)".into())
        }
        "metadata_status" => Some("COALESCE(metadata_status, 'none')".into()),
        "policy_decision" => Some("COALESCE(policy_decision, 'pending')".into()),
        "user_address" => Some("lower(trim(user_address))".into()),
        _ => None,
    });
    let sql = sql
        .replace(
            "'arweave_available', NULL",
            "'arweave_available', json('false')",
        )
        .replace("'metadata_status', NULL", "'metadata_status', 'none'")
        + " ORDER BY job_id";
    let mut jobs = Vec::new();
    for row in rows_as_json(&mut db, &sql).await? {
        let job: MusicJob = serde_json::from_value(row.clone()).map_err(|e| ImportError::Row {
            table: "music_publish_jobs",
            key: key_of(&row, "job_id"),
            message: e.to_string(),
        })?;
        if crate::access::normalize_address(&job.user_address).is_none()
            || !crate::jobs::store::valid_job_id(&job.job_id)
        {
            return Err(ImportError::Row {
                table: "music_publish_jobs",
                key: job.job_id.clone(),
                message: format!("invalid job id or user address {:?}", job.user_address),
            });
        }
        jobs.push(job);
    }
    let present = columns(&mut db, "music_upload_bans").await?;
    let ban_columns = [
        "ban_id",
        "user_address",
        "self_nullifier",
        "reason_code",
        "reason",
        "evidence_json",
        "active",
        "expires_at",
        "created_by",
        "created_at",
    ];
    let sql = json_select("music_upload_bans", &ban_columns, &present, |c| match c {
        "active" => Some("json(CASE WHEN active THEN 'true' ELSE 'false' END)".into()),
        "user_address" => Some("lower(trim(user_address))".into()),
        _ => None,
    }) + " ORDER BY ban_id";
    let mut bans = Vec::new();
    for row in rows_as_json(&mut db, &sql).await? {
        let ban: UploadBan = serde_json::from_value(row.clone()).map_err(|e| ImportError::Row {
            table: "music_upload_bans",
            key: key_of(&row, "ban_id"),
            message: e.to_string(),
        })?;
        bans.push(ban);
    }
    Ok((jobs, bans))
}

/// Imports the music tables of `dump` into `store`, then checks every record read back.
pub async fn import_d1_dump(
    store: Arc<dyn StateStore>,
    dump: &str,
) -> Result<ImportReport, ImportError> {
    let (jobs, bans) = read_dump(dump).await?;
    let store_err = |e: crate::error::MediaError| ImportError::Store(e.message().to_owned());
    let job_store = JobStore::new(store.clone());
    let idempotency = Idempotency::new(job_store.clone());
    let ban_store = BanStore::new(store.clone());
    let mut report = ImportReport {
        jobs_in_dump: jobs.len() as u64,
        bans_in_dump: bans.len() as u64,
        ..ImportReport::default()
    };
    for job in &jobs {
        job_store.import(job).await.map_err(store_err)?;
        if let Some(key) = &job.idempotency_key {
            idempotency
                .record(&job.user_address, key, &job.job_id)
                .await
                .map_err(store_err)?;
        }
        let in_progress =
            job.status.is_in_progress() || job.metadata_status == MetadataStatus::Anchoring;
        if in_progress {
            job_store
                .mark_leased(&job.user_address, &job.job_id)
                .await
                .map_err(store_err)?;
        }
    }
    for ban in &bans {
        ban_store.put(ban).await.map_err(store_err)?;
    }
    for job in &jobs {
        let stored = job_store
            .get(&job.user_address, &job.job_id)
            .await
            .map_err(store_err)?;
        if stored.map(|s| s.job).as_ref() != Some(job) {
            return Err(ImportError::Store(format!(
                "job {} reads back differently",
                job.job_id
            )));
        }
        report.jobs_stored += 1;
    }
    for ban in &bans {
        let key = format!("media/music/bans/{}/{:012}", ban.user_address, ban.ban_id);
        let stored: Option<(UploadBan, u64)> = store
            .get_json(&key)
            .await
            .map_err(|e| ImportError::Store(e.to_string()))?;
        if stored.map(|s| s.0).as_ref() != Some(ban) {
            return Err(ImportError::Store(format!(
                "ban {} reads back differently",
                ban.ban_id
            )));
        }
        report.bans_stored += 1;
    }
    Ok(report)
}
