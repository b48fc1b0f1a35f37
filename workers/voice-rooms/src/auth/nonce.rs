//! The original's `auth_nonces` table as records in the [`StateStore`]:
//! `voice-rooms/auth-nonces/<lowercase wallet>/<nonce>` → [`NonceRecord`]. Several live nonces
//! per wallet coexist; each is valid while `created_at >= now - 300` and consumed once, by a
//! compare-and-swap delete, so of concurrent verifications exactly one succeeds (on every
//! replica sharing the store). Expired records are removed by [`NonceBook::sweep_expired`].

use std::sync::Arc;

use portability::{PortabilityError, StateStore, StateStoreJsonExt};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::Wallet;

const NONCES: &str = "voice-rooms/auth-nonces/";

/// How long a nonce can be used, seconds.
pub const NONCE_TTL_SECONDS: i64 = 300;

/// A fresh nonce: 32 random bytes as 64 lowercase hex digits, no `0x`.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A row of `auth_nonces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceRecord {
    /// Lowercase wallet.
    pub wallet: String,
    /// 64 lowercase hex digits.
    pub nonce: String,
    /// Unix seconds of issue.
    pub created_at: i64,
}

/// Login nonces over a [`StateStore`].
#[derive(Clone)]
pub struct NonceBook {
    store: Arc<dyn StateStore>,
}

fn key(wallet: &Wallet, nonce: &str) -> String {
    format!("{NONCES}{wallet}/{nonce}")
}

/// The shape of every nonce this service issues; anything else was never stored.
fn is_nonce(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl NonceBook {
    /// Keeps records in `store`.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    /// Stores `nonce` for `wallet`, issued at `now`.
    pub async fn put(
        &self,
        wallet: &Wallet,
        nonce: &str,
        now: i64,
    ) -> Result<(), PortabilityError> {
        let record = NonceRecord {
            wallet: wallet.to_string(),
            nonce: nonce.to_owned(),
            created_at: now,
        };
        self.store
            .put_json(&key(wallet, nonce), &record, None)
            .await?;
        Ok(())
    }

    /// Consumes `nonce` of `wallet` if it is stored and unexpired at `now`; `false` when it
    /// is unknown, expired, or was consumed by someone else first.
    pub async fn consume(
        &self,
        wallet: &Wallet,
        nonce: &str,
        now: i64,
    ) -> Result<bool, PortabilityError> {
        if !is_nonce(nonce) {
            return Ok(false);
        }
        let key = key(wallet, nonce);
        let Some((record, version)) = self.store.get_json::<NonceRecord>(&key).await? else {
            return Ok(false);
        };
        if record.created_at < now - NONCE_TTL_SECONDS {
            return Ok(false);
        }
        match self.store.delete(&key, Some(version)).await {
            Ok(removed) => Ok(removed),
            Err(PortabilityError::Conflict { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// How many nonce records are stored (expired ones included).
    pub async fn stored(&self) -> Result<usize, PortabilityError> {
        let mut count = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list(NONCES, after.as_deref(), portability::MAX_LIST_LIMIT)
                .await?;
            count += page.len();
            if page.len() < portability::MAX_LIST_LIMIT {
                return Ok(count);
            }
            after = page.last().map(|(key, _)| key.clone());
        }
    }

    /// Deletes every nonce expired at `now` (each only if unchanged since it was read);
    /// returns how many.
    pub async fn sweep_expired(&self, now: i64) -> Result<usize, PortabilityError> {
        let mut removed = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list(NONCES, after.as_deref(), portability::MAX_LIST_LIMIT)
                .await?;
            for (key, record) in &page {
                let expired = serde_json::from_slice::<NonceRecord>(&record.value)
                    .map(|nonce| nonce.created_at < now - NONCE_TTL_SECONDS)
                    // A record this build cannot read can never be consumed: remove it too.
                    .unwrap_or(true);
                if expired {
                    match self.store.delete(key, Some(record.version)).await {
                        Ok(true) => removed += 1,
                        Ok(false) | Err(PortabilityError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            if page.len() < portability::MAX_LIST_LIMIT {
                return Ok(removed);
            }
            after = page.last().map(|(key, _)| key.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portability::SqliteStateStore;

    async fn book() -> NonceBook {
        NonceBook::new(Arc::new(SqliteStateStore::open_in_memory().await.unwrap()))
    }

    fn wallet() -> Wallet {
        Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap()
    }

    #[test]
    fn nonces_are_64_lowercase_hex() {
        let nonce = new_nonce();
        assert!(is_nonce(&nonce), "{nonce}");
        assert_ne!(nonce, new_nonce());
    }

    #[tokio::test]
    async fn several_live_nonces_each_single_use_and_valid_300_seconds() {
        let book = book().await;
        let (a, b, c) = (new_nonce(), new_nonce(), new_nonce());
        book.put(&wallet(), &a, 1000).await.unwrap();
        book.put(&wallet(), &b, 1000).await.unwrap();
        book.put(&wallet(), &c, 1000).await.unwrap();
        assert!(
            book.consume(&wallet(), &b, 1300).await.unwrap(),
            "300 s old is still valid"
        );
        assert!(
            !book.consume(&wallet(), &b, 1300).await.unwrap(),
            "single use"
        );
        assert!(
            book.consume(&wallet(), &a, 1000).await.unwrap(),
            "the other one still works"
        );
        assert!(!book.consume(&wallet(), &c, 1301).await.unwrap(), "expired");
        let other = Wallet::parse("0x00000000000000000000000000000000000000bb").unwrap();
        book.put(&other, &a, 1000).await.unwrap();
        assert!(
            !book.consume(&wallet(), &a, 1000).await.unwrap(),
            "another wallet's nonce"
        );
        assert!(!book.consume(&other, &a.to_uppercase(), 1000).await.unwrap());
        assert!(!book.consume(&other, "not/a\0nonce", 1000).await.unwrap());
    }

    #[tokio::test]
    async fn the_sweep_removes_expired_nonces_only() {
        let book = book().await;
        let (old, fresh) = (new_nonce(), new_nonce());
        book.put(&wallet(), &old, 1000).await.unwrap();
        book.put(&wallet(), &fresh, 1200).await.unwrap();
        assert_eq!(book.sweep_expired(1300).await.unwrap(), 0);
        assert_eq!(book.sweep_expired(1301).await.unwrap(), 1);
        assert_eq!(book.stored().await.unwrap(), 1);
        assert!(book.consume(&wallet(), &fresh, 1301).await.unwrap());
        assert_eq!(book.stored().await.unwrap(), 0);
    }
}
