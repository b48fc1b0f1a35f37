//! The records of the publishing signer (`crate::publishing`): its settings, and one
//! [`Publication`] per client request id, which holds every transaction signed for it (so a
//! retried request sends those same bytes again instead of signing new ones) and, once done,
//! the reply a retry gets. Field numbers are permanent.

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::Deserialize;

use crate::endpoints::publishing::PublicationReply;

/// Settings of the publishing signer, set by controllers (and by the local stack's settings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct PublishingConfig {
    /// Principals (the media worker's ic-agent identities) that may ask for publications;
    /// controllers always may.
    #[n(0)]
    pub publishers: Vec<String>,
    /// Tempo: `finalize_track`.
    #[n(1)]
    pub tempo: TempoPublishingConfig,
    /// EAS on Base: `attest_scrobble_batch`.
    #[n(2)]
    pub eas: EasConfig,
    /// Story Aeneid: `register_story_ip`.
    #[n(3)]
    pub story: StoryConfig,
}

/// Tempo settings of `finalize_track` (the original's `TEMPO_*` variables of music finalize).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct TempoPublishingConfig {
    /// Whether finalize may send transactions (the original's "operator and sponsor keys are
    /// set"); off until the roles' addresses are funded and authorised on the contracts.
    #[n(0)]
    pub enabled: bool,
    /// JSON-RPC endpoint (`TEMPO_RPC_URL`).
    #[n(1)]
    pub rpc_url: String,
    /// Chain id (`TEMPO_CHAIN_ID`).
    #[n(2)]
    pub chain_id: u64,
    /// ScrobbleV4 (`TEMPO_SCROBBLE_V4`).
    #[n(3)]
    pub scrobble_v4: String,
    /// ContentRegistry (`TEMPO_CONTENT_REGISTRY`).
    #[n(4)]
    pub content_registry: String,
    /// How long a transaction's receipt is waited for (`TEMPO_TX_WAIT_TIMEOUT_MS` / 1000,
    /// 1–300 s).
    #[n(5)]
    pub tx_wait_timeout_secs: u64,
    /// At most this many receipt reads per transaction within that time (each read is an
    /// outcall, the only way a canister lets time pass inside a call).
    #[n(6)]
    pub receipt_polls: u32,
    /// Gas limit of `registerTracksBatch` (one track).
    #[n(7)]
    pub track_gas_limit: u64,
    /// Gas limit of `setTrackCoverBatch` (one track).
    #[n(8)]
    pub cover_gas_limit: u64,
    /// Gas limit of `registerContentFor`.
    #[n(9)]
    pub content_gas_limit: u64,
}

impl Default for TempoPublishingConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            rpc_url: "https://rpc.moderato.tempo.xyz".into(),
            chain_id: 42431,
            scrobble_v4: "0xe00e82086480E61AaC8d5ad8B05B56A582dD0000".into(),
            content_registry: "0x2A3beA895AE5bb4415c436155cbA15a97ACc2C77".into(),
            tx_wait_timeout_secs: 45,
            receipt_polls: 20,
            track_gas_limit: 600_000,
            cover_gas_limit: 300_000,
            content_gas_limit: 400_000,
        }
    }
}

/// EAS settings of `attest_scrobble_batch` (the original's `BASE_SEPOLIA_*` and `lib/eas.ts`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct EasConfig {
    /// Whether attestations may be sent (the original's "relay key and RPC are set").
    #[n(0)]
    pub enabled: bool,
    /// JSON-RPC endpoint (`BASE_SEPOLIA_RPC`).
    #[n(1)]
    pub rpc_url: String,
    /// Chain id (84532).
    #[n(2)]
    pub chain_id: u64,
    /// The EAS contract (the OP Stack predeploy).
    #[n(3)]
    pub eas: String,
    /// The scrobble-batch schema UID.
    #[n(4)]
    pub schema: String,
    /// Gas limit of `attest`.
    #[n(5)]
    pub gas_limit: u64,
    /// At most this many receipt reads per attestation.
    #[n(6)]
    pub receipt_polls: u32,
}

impl Default for EasConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            rpc_url: "https://sepolia.base.org".into(),
            chain_id: 84532,
            eas: "0x4200000000000000000000000000000000000021".into(),
            schema: "0x6a31b6c6ed2c423297bd53d6df387d04cf69cecb961eb57f1dfc44ba374d95f0".into(),
            gas_limit: 400_000,
            receipt_polls: 20,
        }
    }
}

/// Story settings of `register_story_ip` (the original's `STORY_*` variables, §3.9).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct StoryConfig {
    /// Whether registrations may be sent (the original's "sponsor key is set").
    #[n(0)]
    pub enabled: bool,
    /// JSON-RPC endpoint (`STORY_RPC_URL`).
    #[n(1)]
    pub rpc_url: String,
    /// Chain id (`STORY_CHAIN_ID`, 1315).
    #[n(2)]
    pub chain_id: u64,
    /// The SPG NFT collection (`STORY_SPG_NFT_CONTRACT`).
    #[n(3)]
    pub spg_nft: String,
    /// LicenseAttachmentWorkflows.
    #[n(4)]
    pub license_attachment_workflows: String,
    /// DerivativeWorkflows.
    #[n(5)]
    pub derivative_workflows: String,
    /// IPAssetRegistry.
    #[n(6)]
    pub ip_asset_registry: String,
    /// LicenseRegistry.
    #[n(7)]
    pub license_registry: String,
    /// RoyaltyPolicyLAP.
    #[n(8)]
    pub royalty_policy_lap: String,
    /// The WIP token (the terms' currency).
    #[n(9)]
    pub wip_token: String,
    /// Gas limit of the mint-and-register transaction.
    #[n(10)]
    pub gas_limit: u64,
    /// At most this many receipt reads.
    #[n(11)]
    pub receipt_polls: u32,
}

impl Default for StoryConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            rpc_url: "https://aeneid.storyrpc.io".into(),
            chain_id: 1315,
            spg_nft: "0xb1764abf89e6a151ea27824612145ef89ed70a73".into(),
            license_attachment_workflows: "0xcC2E862bCee5B6036Db0de6E06Ae87e524a79fd8".into(),
            derivative_workflows: "0x9e2d496f72C547C2C535B167e06ED8729B374a4f".into(),
            ip_asset_registry: "0x77319B4031e6eF1250907aa00018B8B1c67a244b".into(),
            license_registry: "0x529a750E02d8E2f15649c13D69a465286a780e24".into(),
            royalty_policy_lap: "0xBe54FB168b3c982b7AaE60dB6CF75Bd8447b390E".into(),
            wip_token: "0x1514000000000000000000000000000000000000".into(),
            gas_limit: 2_000_000,
            receipt_polls: 20,
        }
    }
}

/// One client request id's publication.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Publication {
    /// What was asked (`finalize_track`, `attest_scrobble_batch`).
    #[n(0)]
    pub kind: String,
    /// SHA-256 hex of the typed request: a request id reused for a different request is
    /// refused.
    #[n(1)]
    pub digest: String,
    /// When it was first asked (seconds).
    #[n(2)]
    pub started_at: u64,
    /// The transactions signed for it, one per step at most.
    #[n(3)]
    pub transactions: Vec<SignedTransaction>,
    /// The answer, once it succeeded (a retry gets it again without any chain call).
    #[n(4)]
    pub reply: Option<PublicationReply>,
}

impl Publication {
    /// The transaction signed for `step`, if any.
    pub fn transaction(&self, step: &str) -> Option<&SignedTransaction> {
        self.transactions.iter().find(|t| t.step == step)
    }
}

/// A transaction the canister signed for a publication step.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedTransaction {
    /// The step (`register-track`, `set-cover`, `register-content`, `attest`).
    #[n(0)]
    pub step: String,
    /// The role whose key signed it.
    #[n(1)]
    pub role: String,
    /// Chain id.
    #[n(2)]
    pub chain_id: u64,
    /// Its nonce.
    #[n(3)]
    pub nonce: u64,
    /// `0x` hash.
    #[n(4)]
    pub hash: String,
    /// The signed raw bytes (sent again as they are after an ambiguous outcome).
    #[n(5)]
    #[cbor(with = "minicbor::bytes")]
    pub raw: Vec<u8>,
}

/// `publisher_nonces` key: `<role>|<chain id>`.
pub fn nonce_key(role: &str, chain_id: u64) -> String {
    format!("{role}|{chain_id}")
}
