//! `ContentAddressedBlobStore`: immutable published blobs and the names pointing at them.
//!
//! Published media go to Load Network and are anchored on Arweave; a local disk adapter is the
//! embedded default. Blobs are immutable and identified by an id the store assigns; a small
//! mutable index maps logical keys (e.g. `covers/<release>`) to ids. Trait only: the adapters
//! (Load, Irys, Arweave, local disk, failover) live in the `blob_store` crate.

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use futures_core::stream::BoxStream;

use std::ops::Range;

use crate::error::Result;

/// A name/value tag stored with a blob (e.g. `Content-Type`, `App-Name`), as Arweave tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobTag {
    /// Tag name.
    pub name: String,
    /// Tag value.
    pub value: String,
}

/// The tag that names the uploaded file for backends that take a file name (the Load agent's
/// multipart `file` part); it is not stored as a tag.
pub const FILE_NAME_TAG: &str = "File-Name";

/// The error code a Load-backed store puts in front of a refused upload:
/// `load_upload_failed:<status>:<body>` (api-core's wording). Callers that must show another
/// wording (the metadata-resolver) recognise it by this code.
pub const LOAD_UPLOAD_FAILED: &str = "load_upload_failed";

/// The error code of a Load upload answered without an id: `load_upload_missing_id:<payload>`.
pub const LOAD_UPLOAD_MISSING_ID: &str = "load_upload_missing_id";

/// Where a freshly stored blob can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// The blob's id: opaque, permanent, and always naming the same bytes.
    pub id: String,
    /// An HTTP URL that serves the bytes now (the store's gateway).
    pub gateway_url: String,
    /// Which backend stored the bytes (`load`, `irys`, `local`, ...): a failover store
    /// reports the fallback here.
    pub backend: String,
}

/// The permanent-storage status of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The blob's Arweave URL (e.g. `https://arweave.net/<tx>`).
    pub arweave_url: String,
    /// Whether Arweave serves the bytes yet (anchoring settles asynchronously).
    pub available: bool,
}

/// What a store knows about a blob without reading its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHead {
    /// The content type given at `put`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
    /// The tags given at `put`, in the same order.
    pub tags: Vec<BlobTag>,
}

/// The bytes of a blob, streamed in chunks; an error ends the stream.
pub type BlobStream = BoxStream<'static, Result<Bytes>>;

/// Immutable blobs with ids, permanent anchoring, and a logical-key index.
///
/// Contract: the bytes behind an id never change. Unknown ids and keys are
/// [`NotFound`](crate::PortabilityError::NotFound) (except `resolve`, which returns `None`);
/// an unreachable gateway is [`Unavailable`](crate::PortabilityError::Unavailable).
#[async_trait]
pub trait ContentAddressedBlobStore: Send + Sync {
    /// Stores `bytes` with their content type and tags and returns the new id and a gateway
    /// URL. The blob is readable through `get` and `head` when this returns. Adapters that
    /// derive ids from the content (local disk) return the same id for the same bytes, content
    /// type and tags; others may return a new id per call, so deduplicate on `head().sha256`
    /// if it matters.
    async fn put(&self, bytes: Bytes, content_type: &str, tags: &[BlobTag]) -> Result<StoredBlob>;

    /// [`put`](Self::put) from a stream of chunks. Streaming adapters override this to move
    /// large blobs with bounded memory; the default collects the stream and calls `put`.
    async fn put_stream(
        &self,
        mut body: BlobStream,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<StoredBlob> {
        let mut all = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            all.extend_from_slice(&chunk?);
        }
        self.put(Bytes::from(all), content_type, tags).await
    }

    /// Makes sure the blob is (being) stored permanently on Arweave and reports where.
    /// Idempotent: calling it again never anchors twice, and reports `available: true` once
    /// Arweave serves the bytes.
    async fn anchor(&self, id: &str) -> Result<Anchor>;

    /// Streams the blob's bytes, exactly as given to `put`. Adapters that know the blob's
    /// sha256 verify it while streaming and end the stream with an error on mismatch.
    async fn get(&self, id: &str) -> Result<BlobStream>;

    /// Streams the bytes `range` of the blob (end exclusive, clamped to the size; audio is
    /// streamed this way). A partial read cannot be checked against the whole blob's digest.
    /// The default reads the whole stream and drops what lies outside `range`; adapters
    /// override it with a real range read.
    async fn get_range(&self, id: &str, range: Range<u64>) -> Result<BlobStream> {
        let whole = self.get(id).await?;
        Ok(slice_stream(whole, range))
    }

    /// Returns the blob's metadata without its bytes.
    async fn head(&self, id: &str) -> Result<BlobHead>;

    /// Points `logical_key` at blob `id`, replacing any previous target (last writer wins).
    /// The blob must exist ([`NotFound`](crate::PortabilityError::NotFound) otherwise).
    /// Idempotent.
    async fn link(&self, logical_key: &str, id: &str) -> Result<()>;

    /// Returns the id `logical_key` points at, or `None` if it was never linked.
    async fn resolve(&self, logical_key: &str) -> Result<Option<String>>;
}

/// Keeps the bytes `range` of `stream` (offsets into the whole stream), dropping the rest.
pub fn slice_stream(stream: BlobStream, range: Range<u64>) -> BlobStream {
    struct Slice {
        inner: BlobStream,
        pos: u64,
        range: Range<u64>,
    }
    impl Stream for Slice {
        type Item = Result<Bytes>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            use std::task::Poll;
            loop {
                if self.pos >= self.range.end {
                    return Poll::Ready(None);
                }
                let chunk = match self.inner.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => chunk,
                    other => return other,
                };
                let start = self.pos;
                let end = start + chunk.len() as u64;
                self.pos = end;
                let from = self.range.start.max(start);
                let to = self.range.end.min(end);
                if from < to {
                    let part = chunk.slice((from - start) as usize..(to - start) as usize);
                    return Poll::Ready(Some(Ok(part)));
                }
            }
        }
    }
    Box::pin(Slice {
        inner: stream,
        pos: 0,
        range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn chunks(parts: &[&'static [u8]]) -> BlobStream {
        let items: Vec<Result<Bytes>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures_util::stream::iter(items).boxed()
    }

    async fn sliced(range: Range<u64>) -> Vec<u8> {
        let mut stream = slice_stream(chunks(&[b"abc", b"", b"defg", b"hi"]), range);
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn slices_across_chunk_boundaries() {
        assert_eq!(sliced(0..9).await, b"abcdefghi");
        assert_eq!(sliced(2..5).await, b"cde");
        assert_eq!(sliced(3..7).await, b"defg");
        assert_eq!(sliced(8..100).await, b"i");
        assert!(sliced(9..20).await.is_empty());
        assert!(sliced(4..4).await.is_empty());
    }
}
