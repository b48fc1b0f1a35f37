//! The canister's Ethereum keys: threshold-ECDSA keys under fixed derivation paths, their
//! addresses (keccak256 of the uncompressed key, last 20 bytes) and 65-byte `r‖s‖v` signatures
//! (low-s, v recovered against the public key), as the contracts and clients expect.
//!
//! The policy signer's address replaces `TEMPO_POLICY_SIGNER_ADDRESS` on-chain (docs/identity-signer.md);
//! the relayer pays for relayed transactions.

use canister_runtime::{EcdsaKey, Runtime};
use heaven_eth::{Address, B256};

use crate::api::ApiError;
use crate::events::EventKind;
use crate::state;

/// The keys the canister signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Signs NamePermits (`/api/names/permit`).
    PolicySigner,
    /// Sends relayed transactions (`/api/wallet/*`).
    Relayer,
}

impl Role {
    /// The derivation path of the role's key (one component).
    pub fn derivation_path(self) -> Vec<Vec<u8>> {
        let name: &[u8] = match self {
            Role::PolicySigner => b"heaven/names-policy-signer/v1",
            Role::Relayer => b"heaven/wallet-relayer/v1",
        };
        vec![name.to_vec()]
    }

    /// A short name for logs and the signer route.
    pub fn name(self) -> &'static str {
        match self {
            Role::PolicySigner => "names-policy-signer",
            Role::Relayer => "wallet-relayer",
        }
    }
}

fn key() -> EcdsaKey {
    EcdsaKey::new(state::with_config(|c| c.ecdsa_key_name.clone()))
}

/// Where the role's public key for the configured key name is kept.
fn cache_key(key: &EcdsaKey, role: Role) -> String {
    format!("{}|{}", key.name, role.name())
}

/// The role's public key (SEC1), from stable state or (first use) the management canister.
/// Public keys are deterministic per key and path, so they are kept across upgrades.
pub async fn public_key<R: Runtime>(rt: &R, role: Role) -> Result<Vec<u8>, ApiError> {
    let key = key();
    let cache_key = cache_key(&key, role);
    if let Some(pk) = state::with(|s| s.signer_keys.get(&cache_key)) {
        return Ok(pk);
    }
    let pk = rt
        .ecdsa_public_key(&key, &role.derivation_path())
        .await
        .map_err(|e| signing_failed(role, e))?;
    let address = heaven_eth::address::from_public_key(&pk).map_err(|e| signing_failed(role, e))?;
    let now_ns = rt.time_ns();
    state::with_mut(|s| {
        if s.signer_keys.insert(cache_key, pk.clone()).is_none() {
            s.record(
                now_ns,
                EventKind::SignerKeyFetched {
                    role: role.name().to_string(),
                    address: heaven_eth::address::to_checksum(&address),
                },
            );
        }
    });
    Ok(pk)
}

/// The role's Ethereum address.
pub async fn address<R: Runtime>(rt: &R, role: Role) -> Result<Address, ApiError> {
    let pk = public_key(rt, role).await?;
    heaven_eth::address::from_public_key(&pk).map_err(|e| signing_failed(role, e))
}

/// The role's address when its key was fetched before (queries cannot fetch it).
pub fn cached_address(role: Role) -> Option<Address> {
    let cache_key = cache_key(&key(), role);
    state::with(|s| s.signer_keys.get(&cache_key))
        .and_then(|pk| heaven_eth::address::from_public_key(&pk).ok())
}

/// Signs `digest` with the role's key: `r‖s‖v`, low-s, v ∈ {27, 28}.
pub async fn sign<R: Runtime>(rt: &R, role: Role, digest: B256) -> Result<[u8; 65], ApiError> {
    let pk = public_key(rt, role).await?;
    let rs = rt
        .sign_with_ecdsa(&key(), &role.derivation_path(), digest.0)
        .await
        .map_err(|e| signing_failed(role, e))?;
    heaven_eth::signature::from_threshold(&rs, &digest, &pk).map_err(|e| signing_failed(role, e))
}

fn signing_failed(role: Role, e: impl std::fmt::Display) -> ApiError {
    crate::log(&format!("{} signing failed: {e}", role.name()));
    ApiError::error(500, "Signing failed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use canister_runtime::native::NativeRuntime;

    #[tokio::test]
    async fn signature_recovers_to_the_reported_address_and_roles_differ() {
        let dir = tempfile::tempdir().unwrap();
        let rt = NativeRuntime::open(dir.path()).unwrap();
        let signer = address(&rt, Role::PolicySigner).await.unwrap();
        let relayer = address(&rt, Role::Relayer).await.unwrap();
        assert_ne!(signer, relayer);
        assert_eq!(cached_address(Role::PolicySigner), Some(signer));
        // Keys are kept in stable state and their first use is an audit event, once.
        assert_eq!(address(&rt, Role::PolicySigner).await.unwrap(), signer);
        let fetched = state::with(|s| {
            s.events
                .iter()
                .filter(|e| matches!(e.0.kind, EventKind::SignerKeyFetched { .. }))
                .count()
        });
        assert_eq!(fetched, 2);
        assert_eq!(state::with(|s| s.signer_keys.len()), 2);

        let digest = heaven_eth::keccak256(b"a digest");
        let sig = sign(&rt, Role::PolicySigner, digest).await.unwrap();
        assert!(sig[64] == 27 || sig[64] == 28);
        let recovered = heaven_eth::signature::recover_prehash(&digest, &sig).unwrap();
        assert_eq!(recovered, signer);
        // low-s: s <= n/2
        let half_n =
            hex::decode("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
                .unwrap();
        assert!(sig[32..64] <= half_n[..]);
    }
}
