//! The local-disk backend, the embedded default for `cargo run`: content-addressed files
//! `<root>/blobs/<sha256>` (the id is the sha256 in hex). A put is spooled to `<root>/tmp`,
//! synced, then renamed into place, so a crash at any point leaves either no blob or the whole
//! blob; leftovers in `<root>/tmp` are deleted when the store is opened.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::StreamExt;
use portability::{Anchor, BlobStream, BlobTag, PortabilityError, Result};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::index::BlobRecord;
use crate::spool::{CHUNK, Spooled, file_stream, io_error};
use crate::store::{BlobBackend, Uploaded};

/// Default largest local blob: 8 GiB.
pub const DEFAULT_LOCAL_MAX_SIZE: u64 = 8 << 30;

/// Blobs as files under a directory.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
    max_size: u64,
}

impl LocalDisk {
    /// Opens (creating) the store at `root` and removes temporary files a crash left behind.
    pub async fn open(root: impl Into<PathBuf>, max_size: u64) -> Result<Self> {
        let root = root.into();
        for dir in [root.join("blobs"), root.join("tmp")] {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| io_error("creating", &dir, e))?;
        }
        let tmp = root.join("tmp");
        let mut entries = tokio::fs::read_dir(&tmp)
            .await
            .map_err(|e| io_error("listing", &tmp, e))?;
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| io_error("listing", &tmp, e))?
        {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
        Ok(Self { root, max_size })
    }

    /// Where puts are spooled (same file system as the blobs, so the final rename is atomic).
    pub fn spool_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The file of blob `id`; ids are sha256 hex, anything else is refused.
    pub fn blob_path(&self, id: &str) -> Result<PathBuf> {
        if id.len() != 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(PortabilityError::NotFound { key: id.to_owned() });
        }
        Ok(self.root.join("blobs").join(id))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[async_trait]
impl BlobBackend for LocalDisk {
    fn max_size(&self) -> u64 {
        self.max_size
    }

    async fn upload(
        &self,
        blob: Spooled,
        _content_type: &str,
        _tags: &[BlobTag],
    ) -> Result<Uploaded> {
        let id = blob.sha256.clone();
        let path = self.blob_path(&id)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            drop(blob);
        } else {
            blob.persist(&path).await?;
            if let Ok(dir) = tokio::fs::File::open(self.root.join("blobs")).await {
                let _ = dir.sync_all().await;
            }
        }
        Ok(Uploaded {
            gateway_url: format!("file://{}", path.display()),
            id,
            backend: "local".to_owned(),
        })
    }

    async fn read(&self, record: &BlobRecord, range: Option<Range<u64>>) -> Result<BlobStream> {
        let path = self.blob_path(&record.id)?;
        let Some(range) = range else {
            return file_stream(&path).await;
        };
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => PortabilityError::NotFound {
                    key: record.id.clone(),
                },
                _ => io_error("opening", &path, e),
            })?;
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(|e| io_error("seeking", &path, e))?;
        let limited = file.take(range.end - range.start);
        Ok(ReaderStream::with_capacity(limited, CHUNK)
            .map(move |r| r.map_err(|e| io_error("reading", &path, e)))
            .boxed())
    }

    async fn anchor(&self, record: &BlobRecord) -> Result<Anchor> {
        Err(PortabilityError::InvalidInput(format!(
            "blob {} is on local disk, which has no Arweave anchoring: configure the Load backend (BLOB_BACKEND=load) to anchor",
            record.id
        )))
    }
}
