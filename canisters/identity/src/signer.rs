//! The canister's Ethereum keys: threshold-ECDSA keys under fixed derivation paths, their
//! addresses (keccak256 of the uncompressed key, last 20 bytes) and 65-byte `r‖s‖v` signatures
//! (low-s, v recovered against the public key), as the contracts and clients expect.
//!
//! The policy signer's address replaces `TEMPO_POLICY_SIGNER_ADDRESS` on-chain (docs/identity-signer.md);
//! the relayer pays for relayed transactions.

use canister_runtime::Runtime;
use heaven_eth::{Address, B256};
use heaven_evm::{PublicKeyCache, SignerError, ThresholdKey};

use crate::api::{ApiError, Now};
use crate::state;
use crate::state::audit::process_event;
use crate::state::event::EventType;

/// The keys the canister signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Signs NamePermits (`/api/names/permit`).
    PolicySigner,
    /// Sends relayed transactions (`/api/wallet/*`).
    Relayer,
    /// Sends ScrobbleV4 writes of `finalize_track` (replaces `TEMPO_OPERATOR_PRIVATE_KEY`).
    TempoOperator,
    /// Sends ContentRegistry writes of `finalize_track` (replaces `TEMPO_SPONSOR_PRIVATE_KEY`).
    TempoSponsor,
    /// Sends EAS scrobble attestations (replaces `BASE_SEPOLIA_RELAY_PK` there).
    ScrobbleAttester,
    /// Sends Story registrations (replaces `STORY_SPONSOR_PRIVATE_KEY`).
    StorySponsor,
}

impl Role {
    fn path(self) -> &'static [u8] {
        match self {
            Role::PolicySigner => b"heaven/names-policy-signer/v1",
            Role::Relayer => b"heaven/wallet-relayer/v1",
            Role::TempoOperator => b"heaven/tempo-operator/v1",
            Role::TempoSponsor => b"heaven/tempo-sponsor/v1",
            Role::ScrobbleAttester => b"heaven/scrobble-attester/v1",
            Role::StorySponsor => b"heaven/story-sponsor/v1",
        }
    }

    /// The derivation path of the role's key (one component).
    pub fn derivation_path(self) -> Vec<Vec<u8>> {
        vec![self.path().to_vec()]
    }

    /// A short name for logs and the signer route.
    pub fn name(self) -> &'static str {
        match self {
            Role::PolicySigner => "names-policy-signer",
            Role::Relayer => "wallet-relayer",
            Role::TempoOperator => "tempo-operator",
            Role::TempoSponsor => "tempo-sponsor",
            Role::ScrobbleAttester => "scrobble-attester",
            Role::StorySponsor => "story-sponsor",
        }
    }

    /// The role called `name` ([`Role::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Role::PolicySigner,
            Role::Relayer,
            Role::TempoOperator,
            Role::TempoSponsor,
            Role::ScrobbleAttester,
            Role::StorySponsor,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }

    /// The role's threshold key under the configured key name.
    pub fn key(self) -> ThresholdKey {
        let key_name = state::with_config(|c| c.ecdsa_key_name.clone());
        ThresholdKey::new(key_name, self.name(), self.path())
    }
}

/// The canister's stable state as the keys' public-key cache: a first fetch is recorded as a
/// `SignerKeyFetched` event, so public keys survive upgrades and show in the audit log.
pub(crate) struct StateKeys<'k> {
    key: &'k ThresholdKey,
    now: Now,
}

impl<'k> StateKeys<'k> {
    /// The cache for `key`, writing its events at `now`.
    pub(crate) fn new(key: &'k ThresholdKey, now: Now) -> Self {
        Self { key, now }
    }
}

impl PublicKeyCache for StateKeys<'_> {
    fn get(&self, id: &str) -> Option<Vec<u8>> {
        state::with(|s| s.signer_keys().get(&id.to_owned()))
    }

    fn put(&self, _id: &str, public_key: &[u8], address: &Address) {
        state::mutate(|s| {
            process_event(
                s,
                self.now,
                EventType::SignerKeyFetched {
                    key_name: self.key.key.name.clone(),
                    role: self.key.role.to_string(),
                    public_key: public_key.to_vec(),
                    address: heaven_eth::address::to_checksum(address),
                },
            )
        });
    }
}

/// The role's public key (SEC1), from stable state or (first use) the management canister.
pub async fn public_key<R: Runtime>(rt: &R, role: Role) -> Result<Vec<u8>, ApiError> {
    let key = role.key();
    let cache = StateKeys {
        key: &key,
        now: Now::from_ns(rt.time_ns()),
    };
    key.public_key(rt, &cache).await.map_err(signing_failed)
}

/// The role's Ethereum address.
pub async fn address<R: Runtime>(rt: &R, role: Role) -> Result<Address, ApiError> {
    let pk = public_key(rt, role).await?;
    heaven_eth::address::from_public_key(&pk).map_err(|e| {
        signing_failed(SignerError {
            role: role.name(),
            reason: e.to_string(),
        })
    })
}

/// The role's address when its key was fetched before (queries cannot fetch it).
pub fn cached_address(role: Role) -> Option<Address> {
    let key = role.key();
    key.cached_address(&StateKeys {
        key: &key,
        now: Now::from_ns(0),
    })
}

/// The role's EIP-55 address, or why it could not be had (the candid methods' answer).
pub async fn checksum_address<R: Runtime>(rt: &R, role: Role) -> Result<String, String> {
    address(rt, role)
        .await
        .map(|a| heaven_eth::address::to_checksum(&a))
        .map_err(|e| e.message())
}

/// The role's EIP-55 address when its key was fetched before.
pub fn cached_checksum_address(role: Role) -> Option<String> {
    cached_address(role).map(|a| heaven_eth::address::to_checksum(&a))
}

/// Signs `digest` with the role's key: `r‖s‖v`, low-s, v ∈ {27, 28}.
pub async fn sign<R: Runtime>(rt: &R, role: Role, digest: B256) -> Result<[u8; 65], ApiError> {
    let key = role.key();
    let cache = StateKeys {
        key: &key,
        now: Now::from_ns(rt.time_ns()),
    };
    key.sign(rt, &cache, digest).await.map_err(signing_failed)
}

/// Logged with its cause; the client sees only "Signing failed".
fn signing_failed(e: SignerError) -> ApiError {
    canister_runtime::print(&e.to_string());
    ApiError::error(500, "Signing failed")
}

#[cfg(test)]
mod tests;
