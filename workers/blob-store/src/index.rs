//! The durable index behind every store: blob records by id, the sha256 → id map that makes
//! identical puts idempotent, and the logical-key links. All of it lives in a [`StateStore`]
//! (SQLite embedded, Postgres deployed) under the `blobs/` prefix.

use std::sync::Arc;

use portability::{BlobHead, BlobTag, PortabilityError, Result, StateStore};
use serde::{Deserialize, Serialize};

/// What the index knows about one stored blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRecord {
    /// The backend's id.
    pub id: String,
    /// The backend that stored it (`load`, `irys`, `local`).
    pub backend: String,
    /// Where it can be read now.
    pub gateway_url: String,
    /// The content type given at put.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Tags given at put, as `[name, value]` pairs.
    pub tags: Vec<(String, String)>,
}

impl BlobRecord {
    /// The record as the trait's [`BlobHead`].
    pub fn head(&self) -> Result<BlobHead> {
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(&self.sha256, &mut sha256).map_err(|_| {
            PortabilityError::Encoding(format!("bad sha256 in the record of {}", self.id))
        })?;
        Ok(BlobHead {
            content_type: self.content_type.clone(),
            size: self.size,
            sha256,
            tags: self
                .tags
                .iter()
                .map(|(name, value)| BlobTag {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
        })
    }
}

/// The `blobs/` records of a [`StateStore`].
#[derive(Clone)]
pub struct BlobIndex {
    state: Arc<dyn StateStore>,
}

impl std::fmt::Debug for BlobIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobIndex")
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| PortabilityError::Encoding(e.to_string()))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| PortabilityError::Encoding(e.to_string()))
}

fn link_key(logical_key: &str) -> Result<String> {
    if logical_key.is_empty() || logical_key.contains('\0') {
        return Err(PortabilityError::InvalidInput(format!(
            "logical key {logical_key:?} must be non-empty and without NUL"
        )));
    }
    Ok(format!("blobs/link/{logical_key}"))
}

impl BlobIndex {
    /// The index over `state`.
    pub fn new(state: Arc<dyn StateStore>) -> Self {
        Self { state }
    }

    /// The record of blob `id`, if stored through this index.
    pub async fn record(&self, id: &str) -> Result<Option<BlobRecord>> {
        match self.state.get(&format!("blobs/id/{id}")).await? {
            Some(v) => Ok(Some(decode(&v.value)?)),
            None => Ok(None),
        }
    }

    /// The record of the blob with these bytes, content type and tags, if one was stored.
    pub async fn by_digest(
        &self,
        sha256_hex: &str,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<Option<BlobRecord>> {
        let Some(v) = self
            .state
            .get(&digest_key(sha256_hex, content_type, tags))
            .await?
        else {
            return Ok(None);
        };
        let id: String = decode(&v.value)?;
        self.record(&id).await
    }

    /// Records a freshly stored blob (the id record first, then the digest entry).
    pub async fn insert(&self, record: &BlobRecord, tags: &[BlobTag]) -> Result<()> {
        self.state
            .put(&format!("blobs/id/{}", record.id), encode(record)?, None)
            .await?;
        let key = digest_key(&record.sha256, &record.content_type, tags);
        self.state.put(&key, encode(&record.id)?, None).await?;
        Ok(())
    }

    /// Points `logical_key` at `id` (which must be recorded).
    pub async fn link(&self, logical_key: &str, id: &str) -> Result<()> {
        let key = link_key(logical_key)?;
        if self.record(id).await?.is_none() {
            return Err(PortabilityError::NotFound { key: id.to_owned() });
        }
        self.state.put(&key, encode(&id)?, None).await?;
        Ok(())
    }

    /// The id `logical_key` points at.
    pub async fn resolve(&self, logical_key: &str) -> Result<Option<String>> {
        match self.state.get(&link_key(logical_key)?).await? {
            Some(v) => Ok(Some(decode(&v.value)?)),
            None => Ok(None),
        }
    }
}

/// The digest entry's key: the bytes' sha256 plus a digest of content type and tags, so the
/// same bytes under other tags are a different (non-deduplicated) blob, as their ids differ.
fn digest_key(sha256_hex: &str, content_type: &str, tags: &[BlobTag]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(content_type.as_bytes());
    for t in tags {
        h.update([0]);
        h.update(t.name.as_bytes());
        h.update([0]);
        h.update(t.value.as_bytes());
    }
    format!(
        "blobs/sha256/{sha256_hex}/{}",
        hex::encode(&h.finalize()[..8])
    )
}
