//! `CacheStore`: short-lived cached values, negative entries and a shared rate-limit slot.
//!
//! Workers cache upstream answers here (including "the upstream has nothing for this key",
//! a negative entry) and space their calls to rate-limited upstreams (MusicBrainz: one request
//! per 1.1 s across all replicas) with [`CacheStore::reserve_slot`]. Adapters: SQLite (embedded
//! default) and Redis, in [`crate::adapters`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::error::{PortabilityError, Result};

/// What the cache holds for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEntry {
    /// A cached value.
    Hit(Vec<u8>),
    /// A cached absence: the upstream was asked and had nothing (see [`CacheStore::put_negative`]).
    Negative,
}

/// Expiring cache entries plus a shared rate-limit slot.
///
/// Contract shared by every adapter (checked by `tests/cache_store_contract.rs`):
/// - Keys are non-empty strings without NUL characters ([`PortabilityError::InvalidInput`]
///   otherwise). Entries and rate-limit slots live in separate namespaces.
/// - An entry is visible from the moment its `put` returns until its TTL has elapsed; an
///   expired entry is never returned. TTLs have millisecond resolution; a zero TTL is
///   [`PortabilityError::InvalidInput`].
/// - Writes are last-writer-wins; every method is atomic.
/// - The cache may drop entries early (eviction), so callers must treat a miss as normal.
/// - Unreachable backend: [`PortabilityError::Unavailable`]; other failures:
///   [`PortabilityError::Backend`].
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// Returns the live entry at `key`, or `Ok(None)` on a miss (never stored, deleted,
    /// expired or evicted).
    async fn get(&self, key: &str) -> Result<Option<CacheEntry>>;

    /// Stores `value` at `key` for `ttl`, replacing any entry (positive or negative) and its
    /// TTL. Idempotent.
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<()>;

    /// Stores a negative entry at `key` for `ttl`, replacing any entry and its TTL: later
    /// `get`s return [`CacheEntry::Negative`] until it expires. Idempotent.
    async fn put_negative(&self, key: &str, ttl: Duration) -> Result<()>;

    /// Removes the entry at `key`, if any. Idempotent; does not touch the rate-limit slot of
    /// the same name.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Reserves the next turn on the shared rate limiter `key` and returns how long the caller
    /// must wait before using it (zero if it may go now).
    ///
    /// Turns are spaced by at least `spacing`: the limiter remembers the earliest wall-clock
    /// millisecond the next turn may start; each call takes `max(now, that)` as its turn and
    /// moves it to `turn + spacing`, in one atomic step. So successive callers get waits of
    /// about 0, `spacing`, 2 x `spacing`... and a caller that comes after a quiet period waits
    /// nothing. The limiter state lives in the backend: it is shared by every process using
    /// the same backend and survives restarts. Each call consumes a turn even if the caller
    /// then gives up. A zero `spacing` is [`PortabilityError::InvalidInput`].
    async fn reserve_slot(&self, key: &str, spacing: Duration) -> Result<Duration>;
}

/// Checks a cache key: non-empty, no NUL character.
pub(crate) fn validate_key(key: &str) -> Result<()> {
    crate::state::validate_key(key)
}

/// Converts a TTL or spacing to whole milliseconds (rounding up, so a 1 µs TTL still lives
/// 1 ms), refusing zero.
pub(crate) fn positive_millis(what: &str, duration: Duration) -> Result<i64> {
    if duration.is_zero() {
        return Err(PortabilityError::InvalidInput(format!(
            "{what} must be positive"
        )));
    }
    let millis = duration.as_nanos().div_ceil(1_000_000);
    i64::try_from(millis)
        .map_err(|_| PortabilityError::InvalidInput(format!("{what} {duration:?} is too long")))
}

/// Milliseconds since the Unix epoch by this machine's clock.
pub(crate) fn now_millis() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_up_and_refuse_zero() {
        assert_eq!(positive_millis("ttl", Duration::from_micros(1)).unwrap(), 1);
        assert_eq!(
            positive_millis("ttl", Duration::from_millis(1100)).unwrap(),
            1100
        );
        assert!(matches!(
            positive_millis("ttl", Duration::ZERO),
            Err(PortabilityError::InvalidInput(_))
        ));
    }
}
