//! Spooling a put's stream to a temporary file while hashing it, and reading it back as a
//! stream: uploads then come from disk (so a failed Load upload can be retried on Irys) and
//! memory stays bounded whatever the blob's size.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;
use portability::{BlobStream, PortabilityError, Result};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

/// Read/write buffer size for blob files.
pub const CHUNK: usize = 256 * 1024;

static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn io_error(what: &str, path: &Path, e: std::io::Error) -> PortabilityError {
    PortabilityError::Backend {
        backend: "local",
        message: format!("{what} {}: {e}", path.display()),
    }
}

/// A put's bytes on disk, with their digest. The file is deleted when this is dropped, unless
/// it was [persisted](Spooled::persist) first.
#[derive(Debug)]
pub struct Spooled {
    path: Option<PathBuf>,
    /// The bytes' SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Spooled {
    /// Writes `body` to a new file in `dir` (created if needed), failing with
    /// [`InvalidInput`](PortabilityError::InvalidInput) as soon as it exceeds `max_size` bytes.
    pub async fn write(
        dir: &Path,
        mut body: BlobStream,
        max_size: u64,
        backend: &str,
    ) -> Result<Self> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| io_error("creating", dir, e))?;
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("spool-{}-{n}.tmp", std::process::id()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| io_error("creating", &path, e))?;
        let mut spooled = Spooled {
            path: Some(path.clone()),
            sha256: String::new(),
            size: 0,
        };
        let mut out = tokio::io::BufWriter::with_capacity(CHUNK, file);
        let mut sha = Sha256::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            spooled.size += chunk.len() as u64;
            if spooled.size > max_size {
                return Err(PortabilityError::InvalidInput(format!(
                    "blob too large for {backend}: more than {max_size} bytes (the backend's limit)"
                )));
            }
            sha.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| io_error("writing", &path, e))?;
        }
        out.flush()
            .await
            .map_err(|e| io_error("writing", &path, e))?;
        out.get_ref()
            .sync_all()
            .await
            .map_err(|e| io_error("syncing", &path, e))?;
        spooled.sha256 = hex::encode(sha.finalize());
        Ok(spooled)
    }

    /// The spool file.
    pub fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("spool file present until persisted")
    }

    /// Streams the spooled bytes.
    pub async fn stream(&self) -> Result<BlobStream> {
        file_stream(self.path()).await
    }

    /// Atomically renames the file to `target` (same file system) and keeps it.
    pub async fn persist(mut self, target: &Path) -> Result<()> {
        let from = self
            .path
            .take()
            .expect("spool file present until persisted");
        if let Err(e) = tokio::fs::rename(&from, target).await {
            self.path = Some(from);
            return Err(io_error("renaming into", target, e));
        }
        Ok(())
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Streams a file in [`CHUNK`]-sized pieces.
pub async fn file_stream(path: &Path) -> Result<BlobStream> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PortabilityError::NotFound {
                key: path.display().to_string(),
            },
            _ => io_error("opening", path, e),
        })?;
    let owned = path.to_owned();
    Ok(ReaderStream::with_capacity(file, CHUNK)
        .map(move |r| r.map_err(|e| io_error("reading", &owned, e)))
        .boxed())
}

/// A single chunk as a stream.
pub fn once(bytes: Bytes) -> BlobStream {
    futures_util::stream::once(async move { Ok(bytes) }).boxed()
}

/// Wraps `inner` so that it ends with an error unless exactly `size` bytes with SHA-256
/// `sha256_hex` went through: a reader of a gateway serving wrong bytes gets an error instead of
/// a clean end of stream (and an error as soon as it serves too many bytes).
pub fn verifying(inner: BlobStream, id: String, size: u64, sha256_hex: String) -> BlobStream {
    let state = (inner, Sha256::new(), 0u64, false);
    futures_util::stream::unfold(state, move |(mut inner, mut sha, mut seen, done)| {
        let id = id.clone();
        let expected = sha256_hex.clone();
        async move {
            if done {
                return None;
            }
            let mismatch = |what: String| PortabilityError::Backend {
                backend: "blob-store",
                message: format!("digest mismatch reading {id}: {what}"),
            };
            match inner.next().await {
                Some(Ok(chunk)) => {
                    seen += chunk.len() as u64;
                    if seen > size {
                        let e = mismatch(format!("more than the recorded {size} bytes"));
                        return Some((Err(e), (inner, sha, seen, true)));
                    }
                    sha.update(&chunk);
                    Some((Ok(chunk), (inner, sha, seen, false)))
                }
                Some(Err(e)) => Some((Err(e), (inner, sha, seen, true))),
                None => {
                    let actual = hex::encode(sha.clone().finalize());
                    if seen != size || actual != expected {
                        let e = mismatch(format!("got {seen} bytes with sha256 {actual}, recorded {size} bytes with sha256 {expected}"));
                        return Some((Err(e), (inner, sha, seen, true)));
                    }
                    None
                }
            }
        }
    })
    .boxed()
}
