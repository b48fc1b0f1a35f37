//! Importing the original worker's Cloudflare KV namespace into a [`CacheStore`]: one JSON
//! object per line, `{"key": "...", "value": "...", "expiration": <unix seconds>}`. Values are
//! stored byte for byte (the resolver reads them with the same key scheme); entries already
//! expired are skipped; an entry without `expiration` gets the TTL its key family has in the
//! original (30 days, 24 hours for searches, 1 year for rehosted ids).

use std::io::BufRead;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portability::CacheStore;
use serde::Deserialize;

use crate::cache::{TTL_IMAGE, TTL_POSITIVE, TTL_SEARCH};

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries written.
    pub imported: u64,
    /// Entries skipped because their expiration had passed.
    pub expired: u64,
    /// Blank lines skipped.
    pub blank: u64,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum KvImportError {
    /// The file could not be read.
    #[error("cannot read the KV export: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not `{key, value, expiration?}`.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The cache store refused a write.
    #[error("line {line}: cache store: {source}")]
    Store {
        /// 1-based line number.
        line: u64,
        /// The store's error.
        source: portability::PortabilityError,
    },
}

#[derive(Deserialize)]
struct Line {
    key: String,
    value: serde_json::Value,
    #[serde(default)]
    expiration: Option<f64>,
}

/// The original's TTL for a key without a recorded expiration.
pub fn default_ttl(key: &str) -> Duration {
    if key.starts_with("rehost:") {
        TTL_IMAGE
    } else if key.starts_with("search:") {
        TTL_SEARCH
    } else {
        TTL_POSITIVE
    }
}

/// Imports every line of `input` into `store`, measuring TTLs from `now`.
pub async fn import_kv(
    store: &dyn CacheStore,
    input: impl BufRead,
    now: SystemTime,
) -> Result<ImportReport, KvImportError> {
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let mut report = ImportReport::default();
    for (index, line) in input.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line?;
        if line.trim().is_empty() {
            report.blank += 1;
            continue;
        }
        let entry: Line = serde_json::from_str(&line).map_err(|e| KvImportError::Line {
            line: number,
            message: format!("expected {{\"key\",\"value\",\"expiration\"}}: {e}"),
        })?;
        let value = match entry.value {
            serde_json::Value::String(text) => text.into_bytes(),
            other => other.to_string().into_bytes(),
        };
        let ttl = match entry.expiration {
            Some(at) if at <= now_secs => {
                report.expired += 1;
                continue;
            }
            Some(at) => Duration::from_secs_f64(at - now_secs),
            None => default_ttl(&entry.key),
        };
        store
            .put(&entry.key, value, ttl)
            .await
            .map_err(|source| KvImportError::Store {
                line: number,
                source,
            })?;
        report.imported += 1;
    }
    Ok(report)
}

/// Imports the KV export at `path`.
pub async fn import_kv_file(
    store: &dyn CacheStore,
    path: &std::path::Path,
) -> Result<ImportReport, KvImportError> {
    let file = std::fs::File::open(path)?;
    import_kv(store, std::io::BufReader::new(file), SystemTime::now()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use portability::{CacheEntry, SqliteCacheStore};

    #[tokio::test]
    async fn imports_values_verbatim_and_skips_expired() {
        let store = SqliteCacheStore::open_in_memory().await.unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let input = concat!(
            r#"{"key":"artist:x","value":"{\"mbid\":\"x\"}","expiration":1000100}"#,
            "\n",
            "\n",
            r#"{"key":"commons:a.jpg","value":"null","expiration":999999}"#,
            "\n",
            r#"{"key":"rehost:ab","value":"LOADID"}"#,
            "\n",
        );
        let report = import_kv(&store, input.as_bytes(), now).await.unwrap();
        assert_eq!(
            report,
            ImportReport {
                imported: 2,
                expired: 1,
                blank: 1
            }
        );
        assert_eq!(
            store.get("artist:x").await.unwrap(),
            Some(CacheEntry::Hit(br#"{"mbid":"x"}"#.to_vec()))
        );
        assert_eq!(store.get("commons:a.jpg").await.unwrap(), None);
        assert_eq!(
            store.get("rehost:ab").await.unwrap(),
            Some(CacheEntry::Hit(b"LOADID".to_vec()))
        );
        let err = import_kv(&store, "{\"key\":1}\n".as_bytes(), now)
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("line 1:"));
    }
}
