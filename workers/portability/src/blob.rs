//! `ContentAddressedBlobStore`: immutable published blobs and the names pointing at them.
//!
//! Published media go to Load Network and are anchored on Arweave; a local disk adapter is the
//! embedded default. Blobs are immutable and identified by an id the store assigns; a small
//! mutable index maps logical keys (e.g. `covers/<release>`) to ids. Trait only: the adapters
//! come with the media worker.

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::stream::BoxStream;

use crate::error::Result;

/// A name/value tag stored with a blob (e.g. `Content-Type`, `App-Name`), as Arweave tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobTag {
    /// Tag name.
    pub name: String,
    /// Tag value.
    pub value: String,
}

/// Where a freshly stored blob can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// The blob's id: opaque, permanent, and always naming the same bytes.
    pub id: String,
    /// An HTTP URL that serves the bytes now (the store's gateway).
    pub gateway_url: String,
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

    /// Makes sure the blob is (being) stored permanently on Arweave and reports where.
    /// Idempotent: calling it again never anchors twice, and reports `available: true` once
    /// Arweave serves the bytes.
    async fn anchor(&self, id: &str) -> Result<Anchor>;

    /// Streams the blob's bytes, exactly as given to `put`.
    async fn get(&self, id: &str) -> Result<BlobStream>;

    /// Returns the blob's metadata without its bytes.
    async fn head(&self, id: &str) -> Result<BlobHead>;

    /// Points `logical_key` at blob `id`, replacing any previous target (last writer wins).
    /// The blob must exist ([`NotFound`](crate::PortabilityError::NotFound) otherwise).
    /// Idempotent.
    async fn link(&self, logical_key: &str, id: &str) -> Result<()>;

    /// Returns the id `logical_key` points at, or `None` if it was never linked.
    async fn resolve(&self, logical_key: &str) -> Result<Option<String>>;
}
