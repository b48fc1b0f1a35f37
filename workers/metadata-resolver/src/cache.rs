//! The cache key scheme and TTLs of the original worker's KV namespace, over a
//! [`CacheStore`]. Values are stored exactly as the original stored them (compact JSON text,
//! or a raw string for `commons:`, `wikidata-image:` and `rehost:`), so a KV export can be
//! imported as is (see [`crate::kv_import`]). "Not found" answers are ordinary entries holding
//! the original's error JSON, with the short TTL.

use std::sync::Arc;
use std::time::Duration;

use portability::{CacheEntry, CacheStore};
use sha2::{Digest, Sha256};

use crate::js::lower_trim;

/// Positive entries: 30 days.
pub const TTL_POSITIVE: Duration = Duration::from_secs(60 * 60 * 24 * 30);
/// Negative entries (not found, no match): 1 hour.
pub const TTL_NEGATIVE: Duration = Duration::from_secs(60 * 60);
/// Artist searches: 24 hours.
pub const TTL_SEARCH: Duration = Duration::from_secs(60 * 60 * 24);
/// Rehosted image ids: 1 year (a Load id always names the same bytes).
pub const TTL_IMAGE: Duration = Duration::from_secs(60 * 60 * 24 * 365);

/// The rate-limit slot every replica reserves MusicBrainz turns on.
pub const MUSICBRAINZ_SLOT: &str = "musicbrainz";

/// The rate-limit slot that records when MusicBrainz requests actually go out (after their
/// turn's wait), so a request whose wake-up ran late still keeps the spacing before the next.
pub const MUSICBRAINZ_SENT: &str = "musicbrainz:sent";

/// `recording:{mbid}`.
pub fn recording_key(mbid: &str) -> String {
    format!("recording:{mbid}")
}
/// `artist:{mbid}`.
pub fn artist_key(mbid: &str) -> String {
    format!("artist:{mbid}")
}
/// `release-group:{mbid}`.
pub fn release_group_key(mbid: &str) -> String {
    format!("release-group:{mbid}")
}
/// `search:artist:{q lowercased then trimmed}`.
pub fn search_artist_key(q: &str) -> String {
    format!("search:artist:{}", lower_trim(q))
}
/// `spotify-artist:{id}`.
pub fn spotify_artist_key(id: &str) -> String {
    format!("spotify-artist:{id}")
}
/// `resolve:{artist}::{title}[::{release}]`, each part lowercased then trimmed; the release
/// part only when the release is non-empty.
pub fn resolve_key(artist: &str, title: &str, release: Option<&str>) -> String {
    let mut key = format!("resolve:{}::{}", lower_trim(artist), lower_trim(title));
    if let Some(release) = release.filter(|r| !r.is_empty()) {
        key.push_str("::");
        key.push_str(&lower_trim(release));
    }
    key
}
/// `commons:{decoded file name}`.
pub fn commons_key(file_name: &str) -> String {
    format!("commons:{file_name}")
}
/// `wikidata-image:{QID}`.
pub fn wikidata_image_key(qid: &str) -> String {
    format!("wikidata-image:{qid}")
}
/// `rehost:{sha256 hex of the exact URL}`; also returns the hash (it names the upload).
pub fn rehost_key(url: &str) -> (String, String) {
    let hash = hex::encode(Sha256::digest(url.as_bytes()));
    (format!("rehost:{hash}"), hash)
}

/// The resolver's view of the cache: raw values by key, as KV had them.
#[derive(Clone)]
pub struct ResolverCache {
    store: Arc<dyn CacheStore>,
}

impl ResolverCache {
    /// Wraps `store`.
    pub fn new(store: Arc<dyn CacheStore>) -> Self {
        Self { store }
    }

    /// The underlying store (the limiter reserves its slot there).
    pub fn store(&self) -> &Arc<dyn CacheStore> {
        &self.store
    }

    /// The stored value, or `None` on a miss. A [`CacheEntry::Negative`] (never written by
    /// this worker) counts as a miss, as KV had no such thing.
    pub async fn get(&self, key: &str) -> portability::Result<Option<Vec<u8>>> {
        Ok(match self.store.get(key).await? {
            Some(CacheEntry::Hit(bytes)) => Some(bytes),
            Some(CacheEntry::Negative) | None => None,
        })
    }

    /// Stores `value` at `key` for `ttl`.
    pub async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> portability::Result<()> {
        self.store.put(key, value, ttl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_original_scheme() {
        assert_eq!(
            search_artist_key("  The Beatles "),
            "search:artist:the beatles"
        );
        assert_eq!(
            resolve_key(" Radiohead", "Creep ", Some("Pablo Honey")),
            "resolve:radiohead::creep::pablo honey"
        );
        assert_eq!(resolve_key("A", "B", Some("")), "resolve:a::b");
        let (key, hash) = rehost_key("https://example.com/a.jpg");
        assert_eq!(key, format!("rehost:{hash}"));
        assert_eq!(hash.len(), 64);
        assert_eq!(TTL_POSITIVE.as_secs(), 2_592_000);
        assert_eq!(TTL_IMAGE.as_secs(), 31_536_000);
    }
}
