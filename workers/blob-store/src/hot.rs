//! The hot object store for pipeline intermediates (photo stages raw → orig → watermarked):
//! mutable, ephemeral, addressed by key, on the `object_store` crate. Local disk by default;
//! S3-compatible by URL (R2 now, MinIO on Akash later), credentials and endpoint from the
//! usual `AWS_*` variables (`AWS_ENDPOINT` for R2/MinIO, `AWS_ALLOW_HTTP=true` for a plain-HTTP
//! MinIO).
//!
//! Writes stream through multipart uploads with bounded buffers; local-disk writes land in a
//! temporary file renamed into place when complete.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use portability::{BlobStream, PortabilityError, Result};

/// Size of one multipart part (and of the write buffer): 8 MiB.
pub const PART_SIZE: usize = 8 << 20;
/// Parts uploaded concurrently at most.
const MAX_CONCURRENT_PARTS: usize = 2;

fn error(what: &str, e: object_store::Error) -> PortabilityError {
    match e {
        object_store::Error::NotFound { path, .. } => PortabilityError::NotFound { key: path },
        other => PortabilityError::Backend {
            backend: "object-store",
            message: format!("{what}: {other}"),
        },
    }
}

/// Intermediates by key.
#[derive(Debug, Clone)]
pub struct HotStore {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
}

impl HotStore {
    /// Opens `url`: `file:///abs/dir` (created if missing), `memory://`, or
    /// `s3://bucket[/prefix]` (configured from `AWS_*` environment variables). Other schemes
    /// are [`InvalidInput`](PortabilityError::InvalidInput).
    pub fn open(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url)
            .map_err(|e| PortabilityError::InvalidInput(format!("hot store URL {url:?}: {e}")))?;
        match parsed.scheme() {
            "file" => {
                let dir = parsed.to_file_path().map_err(|_| {
                    PortabilityError::InvalidInput(format!(
                        "hot store URL {url:?} is not an absolute path"
                    ))
                })?;
                std::fs::create_dir_all(&dir).map_err(|e| PortabilityError::Backend {
                    backend: "object-store",
                    message: format!("creating {}: {e}", dir.display()),
                })?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| error("opening", e))?;
                Ok(Self {
                    store: Arc::new(store),
                    prefix: ObjectPath::default(),
                })
            }
            "memory" => Ok(Self {
                store: Arc::new(object_store::memory::InMemory::new()),
                prefix: ObjectPath::default(),
            }),
            "s3" => {
                let store = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(|e| error("configuring S3", e))?;
                let prefix = ObjectPath::from(parsed.path().trim_matches('/'));
                Ok(Self {
                    store: Arc::new(store),
                    prefix,
                })
            }
            other => Err(PortabilityError::InvalidInput(format!(
                "hot store URL scheme {other:?} is not supported (file://, memory://, s3://)"
            ))),
        }
    }

    fn path(&self, key: &str) -> Result<ObjectPath> {
        if key.is_empty()
            || key
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(PortabilityError::InvalidInput(format!(
                "hot store key {key:?} must be a relative path without empty, . or .. segments"
            )));
        }
        let mut path = self.prefix.clone();
        for part in key.split('/') {
            path = path.child(part);
        }
        Ok(path)
    }

    /// Writes `body` at `key` (replacing it), streaming in [`PART_SIZE`] parts; returns the size.
    pub async fn put_stream(&self, key: &str, mut body: BlobStream) -> Result<u64> {
        let path = self.path(key)?;
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|e| error("starting upload", e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            if let Err(e) = writer.wait_for_capacity(MAX_CONCURRENT_PARTS).await {
                return Err(error("uploading", e));
            }
            writer.write(&chunk);
            size += chunk.len() as u64;
        }
        writer
            .finish()
            .await
            .map_err(|e| error("finishing upload", e))?;
        Ok(size)
    }

    /// Writes `bytes` at `key`.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path(key)?;
        self.store
            .put(&path, bytes.into())
            .await
            .map_err(|e| error("writing", e))?;
        Ok(())
    }

    /// Streams the object at `key`.
    pub async fn get(&self, key: &str) -> Result<BlobStream> {
        let result = self
            .store
            .get(&self.path(key)?)
            .await
            .map_err(|e| error("reading", e))?;
        Ok(result
            .into_stream()
            .map(|r| r.map_err(|e| error("reading", e)))
            .boxed())
    }

    /// The bytes `range` of the object at `key`.
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        self.store
            .get_range(&self.path(key)?, range)
            .await
            .map_err(|e| error("reading", e))
    }

    /// The object's size.
    pub async fn size(&self, key: &str) -> Result<u64> {
        Ok(self
            .store
            .head(&self.path(key)?)
            .await
            .map_err(|e| error("reading", e))?
            .size)
    }

    /// Deletes the object at `key` (no error if it is absent).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(error("deleting", e)),
        }
    }
}
