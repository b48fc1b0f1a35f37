//! A canister's Ethereum keys: threshold-ECDSA keys under fixed derivation paths, their
//! addresses (keccak256 of the uncompressed key, last 20 bytes) and 65-byte `r‖s‖v` signatures
//! (low-s, v recovered against the public key), as contracts and clients expect.
//!
//! Public keys are deterministic per key name and path, so each canister keeps them in its
//! stable state (through its own event) behind [`PublicKeyCache`]: queries and later messages
//! use them without a management-canister call.

use canister_runtime::{EcdsaKey, Runtime};
use heaven_eth::{Address, B256};

/// Where a canister keeps the public keys it fetched.
pub trait PublicKeyCache {
    /// The public key (SEC1) kept under `id`, if any.
    fn get(&self, id: &str) -> Option<Vec<u8>>;
    /// Keeps `public_key` (whose address is `address`) under `id`.
    fn put(&self, id: &str, public_key: &[u8], address: &Address);
}

/// A signing failure (the management canister refused, or an unusable key or signature).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{role} signing failed: {reason}")]
pub struct SignerError {
    /// The key's role.
    pub role: &'static str,
    /// Why.
    pub reason: String,
}

/// One role's threshold-ECDSA key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThresholdKey {
    /// The key name (`dfx_test_key`, `test_key_1`, `key_1`).
    pub key: EcdsaKey,
    /// The role, e.g. `session-oracle`; also names the key in caches and logs.
    pub role: &'static str,
    /// The derivation path (one component: `heaven/<role>/v1`).
    pub derivation_path: Vec<Vec<u8>>,
}

impl ThresholdKey {
    /// The key `key_name` derived for `role` with the one-component path `path`.
    pub fn new(key_name: impl Into<String>, role: &'static str, path: &[u8]) -> Self {
        Self {
            key: EcdsaKey::new(key_name),
            role,
            derivation_path: vec![path.to_vec()],
        }
    }

    /// Where the public key is kept: `<key name>|<role>`.
    pub fn cache_id(&self) -> String {
        format!("{}|{}", self.key.name, self.role)
    }

    fn failed(&self, e: impl std::fmt::Display) -> SignerError {
        SignerError {
            role: self.role,
            reason: e.to_string(),
        }
    }

    /// The public key (SEC1), from the cache or (first use) the management canister.
    pub async fn public_key<R: Runtime>(
        &self,
        rt: &R,
        cache: &impl PublicKeyCache,
    ) -> Result<Vec<u8>, SignerError> {
        let id = self.cache_id();
        if let Some(pk) = cache.get(&id) {
            return Ok(pk);
        }
        let pk = rt
            .ecdsa_public_key(&self.key, &self.derivation_path)
            .await
            .map_err(|e| self.failed(e))?;
        let address = heaven_eth::address::from_public_key(&pk).map_err(|e| self.failed(e))?;
        // Another message may have fetched it during the await: the key is the same.
        if cache.get(&id).is_none() {
            cache.put(&id, &pk, &address);
        }
        Ok(pk)
    }

    /// The key's Ethereum address.
    pub async fn address<R: Runtime>(
        &self,
        rt: &R,
        cache: &impl PublicKeyCache,
    ) -> Result<Address, SignerError> {
        let pk = self.public_key(rt, cache).await?;
        heaven_eth::address::from_public_key(&pk).map_err(|e| self.failed(e))
    }

    /// The address when the key was fetched before (queries cannot fetch it).
    pub fn cached_address(&self, cache: &impl PublicKeyCache) -> Option<Address> {
        cache
            .get(&self.cache_id())
            .and_then(|pk| heaven_eth::address::from_public_key(&pk).ok())
    }

    /// Signs `digest`: `r‖s‖v`, low-s, v ∈ {27, 28}.
    pub async fn sign<R: Runtime>(
        &self,
        rt: &R,
        cache: &impl PublicKeyCache,
        digest: B256,
    ) -> Result<[u8; 65], SignerError> {
        let pk = self.public_key(rt, cache).await?;
        let rs = rt
            .sign_with_ecdsa(&self.key, &self.derivation_path, digest.0)
            .await
            .map_err(|e| self.failed(e))?;
        heaven_eth::signature::from_threshold(&rs, &digest, &pk).map_err(|e| self.failed(e))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use canister_runtime::native::NativeRuntime;

    use super::*;

    #[derive(Default)]
    struct Cache(RefCell<BTreeMap<String, Vec<u8>>>);

    impl PublicKeyCache for Cache {
        fn get(&self, id: &str) -> Option<Vec<u8>> {
            self.0.borrow().get(id).cloned()
        }
        fn put(&self, id: &str, public_key: &[u8], _address: &Address) {
            self.0
                .borrow_mut()
                .insert(id.to_owned(), public_key.to_vec());
        }
    }

    #[tokio::test]
    async fn signatures_recover_to_the_keys_address_and_the_key_is_cached() {
        let dir = tempfile::tempdir().unwrap();
        let rt = NativeRuntime::open(dir.path()).unwrap();
        let key = ThresholdKey::new("dfx_test_key", "test-role", b"heaven/test-role/v1");
        let cache = Cache::default();
        assert_eq!(key.cached_address(&cache), None);
        let address = key.address(&rt, &cache).await.unwrap();
        assert_eq!(key.cached_address(&cache), Some(address));
        let digest = heaven_eth::keccak256(b"message");
        let sig = key.sign(&rt, &cache, digest).await.unwrap();
        assert_eq!(
            heaven_eth::signature::recover_prehash(&digest, &sig).unwrap(),
            address
        );
        let other = ThresholdKey::new("dfx_test_key", "other", b"heaven/other/v1");
        assert_ne!(other.address(&rt, &cache).await.unwrap(), address);
    }
}
