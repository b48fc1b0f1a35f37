//! [`BlobStore`]: the [`ContentAddressedBlobStore`] every worker uses, over one
//! [`BlobBackend`] (local disk, or Load with Irys failover) and a [`BlobIndex`].
//!
//! A put is spooled to disk while its sha256 is computed; identical bytes (same content type
//! and tags) already in the index return the recorded id without uploading again; otherwise
//! the backend stores the spooled file and the index records id, digest, size and tags. Reads
//! go through the backend and are verified against the recorded digest while streaming.

use std::ops::Range;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use portability::{
    Anchor, BlobHead, BlobStream, BlobTag, ContentAddressedBlobStore, PortabilityError, Result,
    StoredBlob,
};

use crate::index::{BlobIndex, BlobRecord};
use crate::spool::{self, Spooled};

/// Where a backend put a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The backend's id.
    pub id: String,
    /// A URL serving the bytes now.
    pub gateway_url: String,
    /// Which backend stored it (a failover backend names the one that did).
    pub backend: String,
}

/// One storage backend: stores spooled files and reads them back, unverified (the
/// [`BlobStore`] verifies).
#[async_trait]
pub trait BlobBackend: Send + Sync {
    /// The largest blob this backend accepts, in bytes; larger puts fail before any upload.
    fn max_size(&self) -> u64;

    /// Stores the spooled bytes.
    async fn upload(&self, blob: Spooled, content_type: &str, tags: &[BlobTag])
    -> Result<Uploaded>;

    /// Streams the bytes of a recorded blob, all of them or `range`.
    async fn read(&self, record: &BlobRecord, range: Option<Range<u64>>) -> Result<BlobStream>;

    /// Anchors a recorded blob on Arweave and reports its status.
    async fn anchor(&self, record: &BlobRecord) -> Result<Anchor>;
}

/// A content-addressed, verified blob store over a backend and an index.
pub struct BlobStore<B> {
    backend: B,
    index: BlobIndex,
    spool_dir: PathBuf,
}

impl<B> std::fmt::Debug for BlobStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("spool_dir", &self.spool_dir)
            .finish_non_exhaustive()
    }
}

impl<B: BlobBackend> BlobStore<B> {
    /// A store putting through `backend`, indexing in `index`, spooling puts under `spool_dir`
    /// (for the local-disk backend: a directory on the same file system as the blobs).
    pub fn new(backend: B, index: BlobIndex, spool_dir: impl Into<PathBuf>) -> Self {
        Self {
            backend,
            index,
            spool_dir: spool_dir.into(),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The index.
    pub fn index(&self) -> &BlobIndex {
        &self.index
    }

    async fn record(&self, id: &str) -> Result<BlobRecord> {
        self.index
            .record(id)
            .await?
            .ok_or_else(|| PortabilityError::NotFound { key: id.to_owned() })
    }
}

fn stored(record: &BlobRecord) -> StoredBlob {
    StoredBlob {
        id: record.id.clone(),
        gateway_url: record.gateway_url.clone(),
        backend: record.backend.clone(),
    }
}

#[async_trait]
impl<B: BlobBackend> ContentAddressedBlobStore for BlobStore<B> {
    async fn put(&self, bytes: Bytes, content_type: &str, tags: &[BlobTag]) -> Result<StoredBlob> {
        self.put_stream(spool::once(bytes), content_type, tags)
            .await
    }

    async fn put_stream(
        &self,
        body: BlobStream,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<StoredBlob> {
        let spooled = Spooled::write(
            &self.spool_dir,
            body,
            self.backend.max_size(),
            "this blob store",
        )
        .await?;
        if let Some(existing) = self
            .index
            .by_digest(&spooled.sha256, content_type, tags)
            .await?
        {
            return Ok(stored(&existing));
        }
        let (sha256, size) = (spooled.sha256.clone(), spooled.size);
        let uploaded = self.backend.upload(spooled, content_type, tags).await?;
        let record = BlobRecord {
            id: uploaded.id,
            backend: uploaded.backend,
            gateway_url: uploaded.gateway_url,
            content_type: content_type.to_owned(),
            size,
            sha256,
            tags: tags
                .iter()
                .map(|t| (t.name.clone(), t.value.clone()))
                .collect(),
        };
        self.index.insert(&record, tags).await?;
        Ok(stored(&record))
    }

    async fn anchor(&self, id: &str) -> Result<Anchor> {
        let record = self.record(id).await?;
        self.backend.anchor(&record).await
    }

    async fn get(&self, id: &str) -> Result<BlobStream> {
        let record = self.record(id).await?;
        let raw = self.backend.read(&record, None).await?;
        Ok(spool::verifying(raw, record.id, record.size, record.sha256))
    }

    async fn get_range(&self, id: &str, range: Range<u64>) -> Result<BlobStream> {
        let record = self.record(id).await?;
        let end = range.end.min(record.size);
        if range.start >= end {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        if range.start == 0 && end == record.size {
            return self.get(id).await;
        }
        self.backend.read(&record, Some(range.start..end)).await
    }

    async fn head(&self, id: &str) -> Result<BlobHead> {
        self.record(id).await?.head()
    }

    async fn link(&self, logical_key: &str, id: &str) -> Result<()> {
        self.index.link(logical_key, id).await
    }

    async fn resolve(&self, logical_key: &str) -> Result<Option<String>> {
        self.index.resolve(logical_key).await
    }
}
