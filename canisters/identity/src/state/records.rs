//! The records the identity canister stores. Field numbers are permanent: add fields with new
//! numbers (and a default), never renumber or reuse one.

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::Deserialize;

/// Canister configuration, set at install/upgrade and by controllers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Config {
    /// Threshold-ECDSA key name.
    #[n(0)]
    pub ecdsa_key_name: String,
    /// Installs plus upgrades so far.
    #[n(1)]
    pub installs: u64,
    /// `ENVIRONMENT == "development"` in the original: guarded routes are open while their
    /// secret is unset.
    #[cbor(default)]
    #[n(2)]
    pub development: bool,
    /// Names policy (Tempo) settings.
    #[cbor(default)]
    #[n(3)]
    pub names_policy: NamesPolicyConfig,
    /// Wallet relay (Base Sepolia) settings.
    #[cbor(default)]
    #[n(4)]
    pub wallet: WalletRelayConfig,
    /// Principals (e.g. the Akash edge's ic-agent identity) whose `edge_request` calls may
    /// state the client IP for the per-IP permit limit.
    #[cbor(default)]
    #[n(5)]
    pub trusted_edges: Vec<String>,
    /// Self.xyz verification settings (`/api/self`).
    #[cbor(default)]
    #[n(6)]
    pub self_verification: SelfConfig,
    /// Rate limits of `POST /api/likes` (not in the original).
    #[cbor(default)]
    #[n(7)]
    pub likes: LikesConfig,
    /// The publishing signer's settings (`finalize_track`, `attest_scrobble_batch`).
    #[cbor(default)]
    #[n(8)]
    pub publishing: super::PublishingConfig,
}

/// Settings of `/api/self/*` (the original's `SELF_*` and `APP_*` variables).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct SelfConfig {
    /// Mock mode (`SELF_MOCK_PASSPORT == "true"` or `ENVIRONMENT == "development"`): any
    /// well-formed webhook for a pending session verifies it, with the DOB and nationality the
    /// `userContextData` carries. Outside mock mode the webhook fails, as the original's did.
    #[n(0)]
    pub mock: bool,
    /// `APP_SCOPE || SELF_SCOPE || "heaven"`, trimmed.
    #[n(1)]
    pub scope: String,
    /// `APP_DISPLAY_NAME` (default `App`).
    #[n(2)]
    pub app_display_name: String,
    /// `APP_DEEPLINK_SCHEME` (default `heaven`).
    #[n(3)]
    pub deeplink_scheme: String,
    /// `APP_NULLIFIER_NAMESPACE` (default `heaven-names:v1`).
    #[n(4)]
    pub nullifier_namespace: String,
    /// `SELF_ENDPOINT`: the webhook URL the deeplink names; `None` = the request's origin +
    /// `/api/self/verify`.
    #[n(5)]
    pub endpoint: Option<String>,
    /// Proof verification outside mock mode (Self's backend verifier's checks against the
    /// hub on Celo); `None` = the webhook fails outside mock mode, as the original's did.
    #[cbor(default)]
    #[n(6)]
    pub verifier: Option<SelfVerifierConfig>,
}

/// How `POST /api/self/verify` checks real proofs (docs/self-verification.md).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct SelfVerifierConfig {
    /// Celo JSON-RPC endpoint.
    #[n(0)]
    pub rpc_url: String,
    /// Self's IdentityVerificationHub (V2) address on that chain.
    #[n(1)]
    pub hub: String,
    /// The scope public signal proofs must carry, in decimal: Self's
    /// `hashEndpointWithScope(endpoint, scope)` of the deeplink's endpoint and scope, computed
    /// off-canister (a Poseidon hash the canister does not implement).
    #[n(2)]
    pub scope_signal: String,
    /// Attestation ids accepted (1 passport, 2 biometric ID card; others are refused).
    #[n(3)]
    pub allowed_attestation_ids: Vec<u8>,
    /// The `olderThan` the proof must disclose (Self's `minimumAge`); `None` = not checked.
    #[n(4)]
    pub minimum_age: Option<u32>,
    /// ISO 3166 alpha-3 codes the proof's forbidden-countries list must contain, and that the
    /// disclosed nationality must not be.
    #[n(5)]
    pub excluded_countries: Vec<String>,
    /// Refuse a proof whose OFAC checks are not all passed.
    #[n(6)]
    pub ofac: bool,
    /// How far in the past the proof's circuit date may lie (Self's `maxProofAgeSeconds`).
    #[n(7)]
    pub max_proof_age_seconds: u64,
}

impl Default for SelfConfig {
    fn default() -> Self {
        Self {
            mock: false,
            scope: "heaven".into(),
            app_display_name: "App".into(),
            deeplink_scheme: "heaven".into(),
            nullifier_namespace: "heaven-names:v1".into(),
            endpoint: None,
            verifier: None,
        }
    }
}

/// Sliding-window limits of `POST /api/likes` (the original had none; likes are unsigned).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct LikesConfig {
    /// Window length in seconds.
    #[n(0)]
    pub window_seconds: u64,
    /// Likes per viewer address per window.
    #[n(1)]
    pub per_viewer: u32,
    /// Likes per client IP (vouched for by the trusted edge) per window.
    #[n(2)]
    pub per_ip: u32,
}

impl Default for LikesConfig {
    fn default() -> Self {
        Self {
            window_seconds: 60,
            per_viewer: 30,
            per_ip: 120,
        }
    }
}

/// Settings of `/api/names/challenge` and `/api/names/permit` (the original's `TEMPO_*` and
/// `NAMES_*` variables).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct NamesPolicyConfig {
    /// Tempo JSON-RPC endpoint (`TEMPO_RPC_URL`).
    #[n(0)]
    pub rpc_url: String,
    /// Tempo chain id (`TEMPO_CHAIN_ID`).
    #[n(1)]
    pub chain_id: u64,
    /// NameRegistryV2 address (`TEMPO_NAME_REGISTRY_V2`), as configured.
    #[n(2)]
    pub registry: String,
    /// PremiumNameStoreV2 address (`TEMPO_PREMIUM_NAME_STORE_V2`); no default, must be set.
    #[n(3)]
    pub store: Option<String>,
    /// `.heaven` parent node (`NAMES_PRIMARY_NODE`).
    #[n(4)]
    pub primary_node: String,
    /// `.pirate` parent node (`NAMES_SECONDARY_NODE`).
    #[n(5)]
    pub secondary_node: String,
    /// When set, the derived signer address must equal it (`TEMPO_POLICY_SIGNER_ADDRESS`).
    #[n(6)]
    pub expected_signer: Option<String>,
    /// Base PoW difficulty in hex nibbles (`NAMES_POW_DIFFICULTY_HEX`, 1–12).
    #[n(7)]
    pub pow_difficulty: u32,
    /// PoW challenge lifetime in seconds (`NAMES_POW_TTL_SECONDS`, 30–3600).
    #[n(8)]
    pub pow_ttl_seconds: u64,
    /// Permit deadline offset in seconds (`NAMES_PERMIT_TTL_SECONDS`, 30–3600).
    #[n(9)]
    pub permit_ttl_seconds: u64,
    /// Long-name permits per wallet per 10 minutes (1–300).
    #[n(10)]
    pub wallet_limit_10m: u32,
    /// Long-name permits per client IP per 10 minutes (1–1000).
    #[n(11)]
    pub ip_limit_10m: u32,
    /// Long-name permits per device id per 10 minutes (1–500).
    #[n(12)]
    pub device_limit_10m: u32,
}

impl Default for NamesPolicyConfig {
    fn default() -> Self {
        Self {
            rpc_url: "https://rpc.moderato.tempo.xyz".into(),
            chain_id: 42431,
            registry: "0xA111c5cA16752B09fF16B3B8B24BA55a8486aB23".into(),
            store: None,
            primary_node: "0x8edf6f47e89d05c0e21320161fda1fd1fabd0081a66c959691ea17102e39fb27"
                .into(),
            secondary_node: "0xace9c9c435cf933be3564cdbcf7b7e2faee63e4f39034849eacb82d13f32f02a"
                .into(),
            expected_signer: None,
            pow_difficulty: 4,
            pow_ttl_seconds: 300,
            permit_ttl_seconds: 180,
            wallet_limit_10m: 8,
            ip_limit_10m: 24,
            device_limit_10m: 12,
        }
    }
}

/// Settings of the `/api/wallet/*` relay (Base Sepolia in the original).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct WalletRelayConfig {
    /// JSON-RPC endpoint (`BASE_SEPOLIA_RPC`).
    #[n(0)]
    pub rpc_url: String,
    /// Chain id (84532).
    #[n(1)]
    pub chain_id: u64,
    /// DatingProfileV3 address.
    #[n(2)]
    pub dating_profile: String,
    /// MultiTldSubnameRegistrarV3 address.
    #[n(3)]
    pub registrar: String,
    /// `.heaven` node the registrar registers under.
    #[n(4)]
    pub heaven_node: String,
    /// Whether the relay may send transactions (the original's "relay key configured").
    #[n(5)]
    pub enabled: bool,
    /// Gas limit of a relayed transaction.
    #[n(6)]
    pub gas_limit: u64,
}

impl Default for WalletRelayConfig {
    fn default() -> Self {
        Self {
            rpc_url: "https://sepolia.base.org".into(),
            chain_id: 84532,
            dating_profile: "0x2D950745907874311834510d6472bdfebe04A114".into(),
            registrar: "0x12b7e3872198fD27fC1106fd85d438E9f1789594".into(),
            heaven_node: "0x8edf6f47e89d05c0e21320161fda1fd1fabd0081a66c959691ea17102e39fb27"
                .into(),
            enabled: false,
            gas_limit: 500_000,
        }
    }
}

/// The secrets that guard routes, kept as their SHA-256 (lowercase hex): a presented value is
/// hashed and compared in constant time (`crate::secret`), the value itself is never stored,
/// logged or returned. Set by controllers only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Secrets {
    /// `CLAIM_START_SECRET` in plain text, as builds before hashing stored it; hashed into
    /// [`Secrets::claim_start`] and cleared on the next install or upgrade.
    #[n(0)]
    pub legacy_claim_start: Option<String>,
    /// `DNS_SHARED_SECRET` in plain text (older builds); migrated like the above.
    #[n(1)]
    pub legacy_dns_shared: Option<String>,
    /// The edge key in plain text (older builds); migrated like the above.
    #[n(2)]
    pub legacy_edge_key: Option<String>,
    /// SHA-256 of `X-Claim-Start-Secret` (`CLAIM_START_SECRET`).
    #[n(3)]
    pub claim_start: Option<String>,
    /// SHA-256 of the bearer secret of `/api/names/dns/resolve` (`DNS_SHARED_SECRET`).
    #[n(4)]
    pub dns_shared: Option<String>,
    /// SHA-256 of the key the Akash edge presents (`X-Heaven-Edge-Key`) to have its client-IP
    /// header trusted (docs/adr/0003-client-ip-for-rate-limits.md).
    #[n(5)]
    pub edge_key: Option<String>,
}

impl Secrets {
    /// The stored hash of `kind`.
    pub fn sha256(&self, kind: SecretKind) -> Option<&str> {
        match kind {
            SecretKind::ClaimStart => self.claim_start.as_deref(),
            SecretKind::DnsShared => self.dns_shared.as_deref(),
            SecretKind::EdgeKey => self.edge_key.as_deref(),
        }
    }

    /// Plain-text values older builds stored, with the secret each one is.
    pub fn legacy_values(&self) -> Vec<(SecretKind, &str)> {
        [
            (SecretKind::ClaimStart, &self.legacy_claim_start),
            (SecretKind::DnsShared, &self.legacy_dns_shared),
            (SecretKind::EdgeKey, &self.legacy_edge_key),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.as_deref().map(|v| (kind, v)))
        .collect()
    }
}

/// Which route secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, Decode)]
#[cbor(index_only)]
pub enum SecretKind {
    /// `X-Claim-Start-Secret` of `POST /api/claim/start`.
    #[n(0)]
    ClaimStart,
    /// Bearer secret of `GET /api/names/dns/resolve`.
    #[n(1)]
    DnsShared,
    /// Key the Akash edge presents to have its client-IP header trusted.
    #[n(2)]
    EdgeKey,
}

impl SecretKind {
    /// Every secret, in a fixed order.
    pub const ALL: [SecretKind; 3] = [Self::ClaimStart, Self::DnsShared, Self::EdgeKey];

    /// The name logs and messages use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClaimStart => "claim_start",
            Self::DnsShared => "dns_shared",
            Self::EdgeKey => "edge_key",
        }
    }
}

/// A dating-directory profile a person can claim (`shadow_profiles`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct ShadowProfile {
    /// Id (e.g. `shadow-alex-sf`).
    #[n(0)]
    pub id: String,
    /// Where it was collected (`dateme`, `acx`, `cuties`).
    #[n(1)]
    pub source: String,
    /// Source page.
    #[n(2)]
    pub source_url: Option<String>,
    /// Display name.
    #[n(3)]
    pub display_name: Option<String>,
    /// Bio.
    #[n(4)]
    pub bio: Option<String>,
    /// Age bucket (1 = 18-24 … 6 = 50+).
    #[n(5)]
    pub age_bucket: Option<i64>,
    /// Gender identity code (1–5).
    #[n(6)]
    pub gender_identity: Option<i64>,
    /// Location text.
    #[n(7)]
    pub location: Option<String>,
    /// IPFS CID of the anime avatar.
    #[n(8)]
    pub anime_cid: Option<String>,
    /// Featured rank (0 = not featured).
    #[n(9)]
    pub featured_rank: i64,
    /// Milliseconds.
    #[n(10)]
    pub created_at_ms: u64,
    /// Milliseconds.
    #[n(11)]
    pub updated_at_ms: u64,
    /// Lowercase address once claimed.
    #[n(12)]
    pub claimed_address: Option<String>,
    /// Milliseconds.
    #[n(13)]
    pub claimed_at_ms: Option<u64>,
    /// Likes this profile received (kept by the likes routes; imported with the profile).
    #[n(14)]
    pub likes_received: u64,
}

/// A claim link and code (`claim_tokens`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct ClaimToken {
    /// Claim id (UUID v4).
    #[n(0)]
    pub id: String,
    /// The profile it hands over.
    #[n(1)]
    pub shadow_profile_id: String,
    /// sha256 hex of the link token.
    #[n(2)]
    pub token_hash: String,
    /// sha256 hex of the human code (`HVN-` and six characters).
    #[n(3)]
    pub human_code_hash: String,
    /// `bio_edit` or `dm`.
    #[n(4)]
    pub method: String,
    /// Milliseconds.
    #[n(5)]
    pub issued_at_ms: u64,
    /// Milliseconds (issued + 7 days).
    #[n(6)]
    pub expires_at_ms: u64,
    /// Single use.
    #[n(7)]
    pub used: bool,
    /// Milliseconds.
    #[n(8)]
    pub used_at_ms: Option<u64>,
    /// Lowercase address that completed the claim.
    #[n(9)]
    pub used_by: Option<String>,
}

/// A directory user (`users`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct User {
    /// Lowercase address.
    #[n(0)]
    pub address: String,
    /// Milliseconds.
    #[n(1)]
    pub created_at_ms: u64,
    /// Milliseconds.
    #[n(2)]
    pub last_active_at_ms: Option<u64>,
    /// `handoff`, `claimed` or `verified`.
    #[n(3)]
    pub directory_tier: String,
}

/// A legacy off-chain `.heaven` name (`heaven_names`). Times in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct HeavenName {
    /// Normalized label.
    #[n(0)]
    pub label: String,
    /// The label as the registrant sent it.
    #[n(1)]
    pub label_display: Option<String>,
    /// Lowercase owner address (`pkp_address` on the wire).
    #[n(2)]
    pub owner: String,
    /// Stored status (`active`).
    #[n(3)]
    pub status: String,
    /// Seconds.
    #[n(4)]
    pub registered_at: u64,
    /// Seconds.
    #[n(5)]
    pub expires_at: u64,
    /// Seconds (expiry + 30 days).
    #[n(6)]
    pub grace_ends_at: u64,
    /// Profile CID.
    #[n(7)]
    pub profile_cid: Option<String>,
    /// Seconds.
    #[n(8)]
    pub created_at: u64,
    /// Seconds.
    #[n(9)]
    pub updated_at: u64,
}

/// A signed-request nonce that has been used (`heaven_nonces`). Kept forever.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct UsedNonce {
    /// Lowercase address that used it.
    #[n(0)]
    pub owner: String,
    /// Seconds.
    #[n(1)]
    pub used_at: u64,
}

/// A proof-of-work challenge for a long name (`name_pow_challenges`). Times in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct PowChallenge {
    /// Lowercase wallet it was issued to.
    #[n(0)]
    pub wallet: String,
    /// `0x` lowercase keccak256 of the label.
    #[n(1)]
    pub label_hash: String,
    /// `0x` lowercase parent node.
    #[n(2)]
    pub parent_node: String,
    /// 64 hex chars, no `0x`.
    #[n(3)]
    pub challenge: String,
    /// Leading zero hex nibbles required.
    #[n(4)]
    pub difficulty: u32,
    /// Seconds.
    #[n(5)]
    pub expires_at: u64,
    /// Seconds, once used.
    #[n(6)]
    pub consumed_at: Option<u64>,
    /// Seconds.
    #[n(7)]
    pub created_at: u64,
}

/// A `user_identity` row (Self verification); the names policy reads the nullifier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct IdentityRecord {
    /// Lowercase address.
    #[n(0)]
    pub address: String,
    /// `0x` + 64 hex nullifier, absent for older verification records.
    #[n(1)]
    pub nullifier_hash: Option<String>,
    /// Seconds.
    #[n(2)]
    pub verified_at: u64,
    /// `YYYY-MM-DD` (absent only in records imported without it).
    #[cbor(default)]
    #[n(3)]
    pub date_of_birth: Option<String>,
    /// Whole years at verification.
    #[cbor(default)]
    #[n(4)]
    pub age_at_verification: Option<i64>,
    /// Nationality code as disclosed.
    #[cbor(default)]
    #[n(5)]
    pub nationality: Option<String>,
    /// The Self session that verified it.
    #[cbor(default)]
    #[n(6)]
    pub verification_session_id: Option<String>,
    /// Seconds (first verification).
    #[cbor(default)]
    #[n(7)]
    pub created_at: Option<u64>,
    /// Seconds (last verification).
    #[cbor(default)]
    #[n(8)]
    pub updated_at: Option<u64>,
}

/// A Self verification session (`self_verifications`). Times in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct SelfSession {
    /// 32 lowercase hex.
    #[n(0)]
    pub session_id: String,
    /// Lowercase address.
    #[n(1)]
    pub user_address: String,
    /// `pending`, `verified`, `failed` or `expired`.
    #[n(2)]
    pub status: String,
    /// `YYYY-MM-DD`, once verified.
    #[n(3)]
    pub date_of_birth: Option<String>,
    /// Whole years, once verified.
    #[n(4)]
    pub age: Option<i64>,
    /// Nationality, once verified.
    #[n(5)]
    pub nationality: Option<String>,
    /// The webhook's `attestationId`, once verified.
    #[n(6)]
    pub attestation_id: Option<i64>,
    /// SHA-256 hex of the proof JSON, once verified.
    #[n(7)]
    pub proof_hash: Option<String>,
    /// Seconds, once verified.
    #[n(8)]
    pub verified_at: Option<u64>,
    /// Seconds.
    #[n(9)]
    pub created_at: u64,
    /// Seconds (created + 600).
    #[n(10)]
    pub expires_at: u64,
    /// Why it failed.
    #[n(11)]
    pub failure_reason: Option<String>,
}

/// A like (`likes`); its key is `<liker>|<target type>|<target id as sent>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct Like {
    /// The row id (AUTOINCREMENT in the original).
    #[n(0)]
    pub id: u64,
    /// Lowercase liker address.
    #[n(1)]
    pub liker_address: String,
    /// `user` or `shadow`.
    #[n(2)]
    pub target_type: String,
    /// As sent (not lowercased).
    #[n(3)]
    pub target_id: String,
    /// Milliseconds.
    #[n(4)]
    pub created_at_ms: u64,
}

/// A match (`matches`): `user1 < user2`, both lowercase; keyed `<user1>|<user2>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Deserialize)]
pub struct Match {
    /// The row id.
    #[n(0)]
    pub id: u64,
    /// Lexicographically smaller address.
    #[n(1)]
    pub user1: String,
    /// Larger address.
    #[n(2)]
    pub user2: String,
    /// Milliseconds.
    #[n(3)]
    pub created_at_ms: u64,
}
