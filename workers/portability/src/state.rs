//! `StateStore`: durable, versioned key-value records.
//!
//! This is where workers keep every piece of state that must survive a restart (jobs, pointers,
//! session snapshots). Each record carries a version so concurrent writers can coordinate with
//! compare-and-swap instead of locks. Adapters: SQLite (embedded default) and Postgres, in
//! [`crate::adapters`].

use async_trait::async_trait;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{PortabilityError, Result};

/// The most records one [`StateStore::list`] call returns, whatever limit the caller asks for.
pub const MAX_LIST_LIMIT: usize = 1000;

/// A stored value together with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The bytes last written.
    pub value: Vec<u8>,
    /// Starts at 1 when the record is created and grows by exactly 1 on every successful write.
    pub version: u64,
}

/// Durable key-value records with per-record versions.
///
/// Contract shared by every adapter (checked by `tests/state_store_contract.rs`):
/// - Keys are non-empty UTF-8 strings without NUL characters, namespaced by the caller
///   ("sessions/abc", "scheduler/cleanup"); any other key is refused with
///   [`PortabilityError::InvalidInput`]. Keys compare by Unicode code point (byte order of
///   their UTF-8 encoding), on every backend.
/// - A record's version starts at 1 and grows by 1 per successful write. Deleting a record
///   forgets its version: a record created again starts at 1 again.
/// - Every method is a single atomic step: concurrent callers observe each other's writes
///   whole or not at all, and of N concurrent compare-and-swaps on the same version exactly one
///   succeeds.
/// - A backend that cannot be reached yields [`PortabilityError::Unavailable`]; other backend
///   failures yield [`PortabilityError::Backend`]. After such an error the write may or may not
///   have happened; read the record to find out.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Reads the record at `key`. `Ok(None)` when there is none. Never modifies the store.
    async fn get(&self, key: &str) -> Result<Option<Versioned>>;

    /// Creates the record at `key` with version 1 and returns 1.
    ///
    /// Create-only: if a record already exists it is left untouched and the call fails with
    /// [`PortabilityError::Conflict`] (`expected: None`, `actual: Some(current version)`).
    /// Not idempotent: a retry after a success fails with `Conflict`.
    async fn insert(&self, key: &str, value: Vec<u8>) -> Result<u64>;

    /// Writes `value` at `key` and returns the record's new version.
    ///
    /// - `expected_version: None`: unconditional upsert; the new version is the previous one
    ///   plus 1, or 1 if there was no record.
    /// - `expected_version: Some(v)`: compare-and-swap; succeeds only if the record exists with
    ///   version `v` (the new version is then `v + 1`), otherwise fails with
    ///   [`PortabilityError::Conflict`] and changes nothing. Use [`StateStore::insert`] to
    ///   create a record conditionally.
    async fn put(&self, key: &str, value: Vec<u8>, expected_version: Option<u64>) -> Result<u64>;

    /// Deletes the record at `key`. Returns `true` if this call removed it, `false` if there
    /// was no record (so a retried delete is harmless).
    ///
    /// With `expected_version: Some(v)` the record is removed only if its version is `v`; a
    /// record with another version is kept and the call fails with
    /// [`PortabilityError::Conflict`].
    async fn delete(&self, key: &str, expected_version: Option<u64>) -> Result<bool>;

    /// Lists records whose key starts with `prefix` (an empty prefix matches every key), in
    /// ascending key order, starting strictly after `after` when given, at most
    /// `min(limit, MAX_LIST_LIMIT)` of them. To page through a prefix, pass the last key of
    /// the previous page as `after`; a page shorter than the limit is the last one. Each entry
    /// is read atomically but the page is not a snapshot of the whole prefix.
    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Versioned)>>;
}

/// JSON convenience on top of any [`StateStore`].
///
/// The value is stored as the UTF-8 JSON encoding of `T`; versions behave exactly as for the
/// byte methods. Decoding failures are [`PortabilityError::Encoding`].
#[async_trait]
pub trait StateStoreJsonExt: StateStore {
    /// Reads and decodes the record at `key`; `Ok(None)` when there is none.
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<(T, u64)>> {
        match self.get(key).await? {
            None => Ok(None),
            Some(record) => {
                let value = serde_json::from_slice(&record.value)
                    .map_err(|err| PortabilityError::from_json(key, err))?;
                Ok(Some((value, record.version)))
            }
        }
    }

    /// Encodes `value` as JSON and writes it with [`StateStore::put`] semantics.
    async fn put_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
        expected_version: Option<u64>,
    ) -> Result<u64> {
        let bytes =
            serde_json::to_vec(value).map_err(|err| PortabilityError::from_json(key, err))?;
        self.put(key, bytes, expected_version).await
    }

    /// Encodes `value` as JSON and creates the record with [`StateStore::insert`] semantics.
    async fn insert_json<T: Serialize + Sync>(&self, key: &str, value: &T) -> Result<u64> {
        let bytes =
            serde_json::to_vec(value).map_err(|err| PortabilityError::from_json(key, err))?;
        self.insert(key, bytes).await
    }
}

impl<S: StateStore + ?Sized> StateStoreJsonExt for S {}

/// Checks a key against the contract: non-empty, no NUL character.
pub(crate) fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(PortabilityError::InvalidInput(
            "key must not be empty".into(),
        ));
    }
    if key.contains('\0') {
        return Err(PortabilityError::InvalidInput(format!(
            "key {key:?} contains a NUL character"
        )));
    }
    Ok(())
}

/// The smallest string greater than every string that starts with `prefix`, or `None` when no
/// such bound exists (empty prefix, or a prefix made only of `char::MAX`). With it a prefix
/// scan becomes the index-friendly range `prefix <= key < bound`.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            0xD800 => Some('\u{E000}'),
            code => char::from_u32(code),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Converts a stored (signed) version to the public unsigned one.
pub(crate) fn version_from_db(version: i64) -> Result<u64> {
    u64::try_from(version)
        .map_err(|_| PortabilityError::Encoding(format!("stored version {version} is negative")))
}

/// Converts a caller's version to the signed integer the SQL backends store.
pub(crate) fn version_to_db(version: u64) -> Result<i64> {
    i64::try_from(version)
        .map_err(|_| PortabilityError::InvalidInput(format!("version {version} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_non_empty_and_nul_free() {
        assert!(validate_key("sessions/abc").is_ok());
        assert!(matches!(
            validate_key(""),
            Err(PortabilityError::InvalidInput(_))
        ));
        assert!(matches!(
            validate_key("a\0b"),
            Err(PortabilityError::InvalidInput(_))
        ));
    }

    #[test]
    fn prefix_bound_increments_the_last_char() {
        assert_eq!(
            prefix_upper_bound("sessions/").as_deref(),
            Some("sessions0")
        );
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }

    #[test]
    fn every_key_with_the_prefix_is_below_the_bound() {
        let bound = prefix_upper_bound("jobs/").unwrap();
        for key in ["jobs/", "jobs/a", "jobs/\u{10FFFF}\u{10FFFF}", "jobs/zzz"] {
            assert!(key < bound.as_str(), "{key}");
        }
        assert!("jobs0" >= bound.as_str());
    }
}
