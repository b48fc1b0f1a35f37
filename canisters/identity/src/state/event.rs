//! The audit trail: every change to the canister's state is an [`EventType`], applied and
//! appended to a stable log in one step ([`super::audit::process_event`]). Each variant says
//! what happened in business terms and carries everything needed to apply it again, so the
//! state can be rebuilt from the log ([`super::audit::replay_events`]). Events name what
//! changed, never a secret value (secrets appear as their SHA-256).
//!
//! Variant and field numbers are permanent. Variants 1–4, 6–9, 11, 12, 15 and 18 were written
//! by builds whose events did not carry their data yet; they still decode (logs keep them) but
//! are never written, and a log holding one cannot be replayed.

use minicbor::{Decode, Encode};

use super::publishing::{PublishingConfig, SignedTransaction};
use super::records::{
    ClaimToken, HeavenName, IdentityRecord, Like, LikesConfig, Match, NamesPolicyConfig,
    SecretKind, SelfConfig, SelfSession, ShadowProfile, User, WalletRelayConfig,
};
use crate::endpoints::publishing::PublicationReply;

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Event {
    /// IC time (nanoseconds) of the message that made the change; the time the change is
    /// applied at (expiries, windows, `*_at` fields).
    #[n(0)]
    pub timestamp: u64,
    /// What happened.
    #[n(1)]
    pub payload: EventType,
}

/// What happened. Times inside payloads are seconds unless a field says otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum EventType {
    /// The canister was installed (`installs` = 1) or upgraded, and now signs with the
    /// threshold-ECDSA key `ecdsa_key_name`.
    #[n(0)]
    Installed {
        /// Threshold-ECDSA key name.
        #[n(0)]
        ecdsa_key_name: String,
        /// Installs plus upgrades so far, this one included.
        #[n(1)]
        installs: u64,
    },
    /// (Older builds.) A controller changed the configuration; what changed was not recorded.
    #[n(1)]
    LegacyConfigChanged,
    /// (Older builds.) A controller set or cleared a route secret.
    #[n(2)]
    LegacySecretChanged {
        /// `claim_start`, `dns_shared` or `edge_key`.
        #[n(0)]
        which: String,
    },
    /// (Older builds.) A shadow profile was imported or replaced.
    #[n(3)]
    LegacyShadowProfileUpserted {
        /// Profile id.
        #[n(0)]
        id: String,
    },
    /// (Older builds.) A claim was started.
    #[n(4)]
    LegacyClaimStarted {
        /// Claim id.
        #[n(0)]
        claim_id: String,
        /// Profile id.
        #[n(1)]
        shadow_profile_id: String,
        /// `bio_edit` or `dm`.
        #[n(2)]
        method: String,
    },
    /// The holder of `address` completed claim `claim_id`: the profile it hands over now
    /// belongs to that address, the link is used up, and the address is a `claimed` directory
    /// user unless it was a user already.
    #[n(5)]
    ClaimCompleted {
        /// Claim id.
        #[n(0)]
        claim_id: String,
        /// Lowercase address.
        #[n(1)]
        address: String,
    },
    /// (Older builds.) A legacy name was registered.
    #[n(6)]
    LegacyNameRegistered {
        /// Label.
        #[n(0)]
        label: String,
        /// Lowercase owner.
        #[n(1)]
        owner: String,
        /// Seconds.
        #[n(2)]
        expires_at: u64,
    },
    /// (Older builds.) A legacy name was renewed.
    #[n(7)]
    LegacyNameRenewed {
        /// Label.
        #[n(0)]
        label: String,
        /// Seconds.
        #[n(1)]
        expires_at: u64,
    },
    /// (Older builds.) A legacy name's profile CID changed.
    #[n(8)]
    LegacyNameUpdated {
        /// Label.
        #[n(0)]
        label: String,
    },
    /// (Older builds.) A PoW challenge was issued.
    #[n(9)]
    LegacyPowChallengeIssued {
        /// Challenge id.
        #[n(0)]
        challenge_id: String,
        /// Lowercase wallet.
        #[n(1)]
        wallet: String,
    },
    /// The proof of work of challenge `challenge_id` was accepted for a permit; the challenge
    /// cannot be used again.
    #[n(10)]
    PowChallengeConsumed {
        /// Challenge id.
        #[n(0)]
        challenge_id: String,
    },
    /// (Older builds.) A NamePermit was issued.
    #[n(11)]
    LegacyPermitIssued {
        /// Lowercase wallet.
        #[n(0)]
        wallet: String,
        /// `0x` label hash.
        #[n(1)]
        label_hash: String,
        /// 0 SHORT_SELF, 1 LONG_POW.
        #[n(2)]
        policy_type: u8,
    },
    /// (Older builds.) A Self identity record was imported or replaced.
    #[n(12)]
    LegacyIdentityUpserted {
        /// Lowercase address.
        #[n(0)]
        address: String,
    },
    /// A controller reserved the legacy label `label` for `reason`, or released it (`None`).
    #[n(13)]
    ReservedChanged {
        /// Label (trimmed, lowercase).
        #[n(0)]
        label: String,
        /// Reason, `None` when released.
        #[n(1)]
        reason: Option<String>,
    },
    /// The relayer sent a transaction (the nonce was reserved by an earlier event; nothing in
    /// the state changes).
    #[n(14)]
    TransactionSent {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
        /// Relayer nonce used.
        #[n(1)]
        nonce: u64,
        /// `0x` transaction hash.
        #[n(2)]
        hash: String,
        /// `set-profile` or `register-name`.
        #[n(3)]
        kind: String,
    },
    /// (Older builds.) The expiry sweep removed stale rows.
    #[n(15)]
    LegacySwept {
        /// PoW challenges removed.
        #[n(0)]
        challenges: u64,
        /// Permit-window keys removed.
        #[n(1)]
        permit_windows: u64,
    },
    /// The relayer's next nonce on chain `chain_id` was read from the chain: `nonce`.
    #[n(16)]
    RelayerNonceSynced {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
        /// Next nonce.
        #[n(1)]
        nonce: u64,
    },
    /// A wrong DM code was tried for the profile (counts toward its attempts limit; older
    /// attempts outside the window are forgotten).
    #[n(17)]
    ClaimCodeRejected {
        /// Profile id.
        #[n(0)]
        shadow_profile_id: String,
    },
    /// (Older builds.) A signing key's public key was fetched.
    #[n(18)]
    LegacySignerKeyFetched {
        /// `names-policy-signer` or `wallet-relayer`.
        #[n(0)]
        role: String,
        /// EIP-55 address.
        #[n(1)]
        address: String,
    },
    /// The names-policy settings (Tempo chain, contracts, PoW, limits) were set.
    #[n(19)]
    NamesPolicyConfigured {
        /// The new settings.
        #[n(0)]
        config: NamesPolicyConfig,
    },
    /// The wallet relay settings (chain, contracts, whether it may send) were set.
    #[n(20)]
    WalletRelayConfigured {
        /// The new settings.
        #[n(0)]
        config: WalletRelayConfig,
    },
    /// The development switch and the principals trusted to state client IPs were set.
    #[n(21)]
    AccessConfigured {
        /// Guarded routes are open while their secret is unset.
        #[n(0)]
        development: bool,
        /// Principal texts of trusted edges.
        #[n(1)]
        trusted_edges: Vec<String>,
    },
    /// A route secret was set (to the value whose SHA-256 is `sha256`) or cleared (`None`).
    #[n(22)]
    SecretSet {
        /// Which secret.
        #[n(0)]
        which: SecretKind,
        /// Lowercase hex SHA-256 of the new value.
        #[n(1)]
        sha256: Option<String>,
    },
    /// A claimable shadow profile was imported (or replaced, by id) as given.
    #[n(23)]
    ShadowProfileImported {
        /// The profile.
        #[n(0)]
        profile: ShadowProfile,
    },
    /// An operator started claim `claim_id` for a profile: a link token and a human code were
    /// issued (only their SHA-256 is kept), valid until `expires_at_ms`.
    #[n(24)]
    ClaimStarted {
        /// Claim id (UUID v4).
        #[n(0)]
        claim_id: String,
        /// The profile it hands over.
        #[n(1)]
        shadow_profile_id: String,
        /// `bio_edit` or `dm`.
        #[n(2)]
        method: String,
        /// SHA-256 hex of the link token.
        #[n(3)]
        token_hash: String,
        /// SHA-256 hex of the human code.
        #[n(4)]
        human_code_hash: String,
        /// Milliseconds.
        #[n(5)]
        expires_at_ms: u64,
    },
    /// A Self identity (the short-name credential the policy reads) was imported or replaced.
    #[n(25)]
    IdentityImported {
        /// The record (lowercase address).
        #[n(0)]
        record: IdentityRecord,
    },
    /// `owner` registered the legacy name `label` with a signed request spending `nonce`;
    /// a lapsed registration of the label is replaced.
    #[n(26)]
    NameRegistered {
        /// Normalized label.
        #[n(0)]
        label: String,
        /// The label as the registrant sent it.
        #[n(1)]
        label_display: String,
        /// Lowercase owner.
        #[n(2)]
        owner: String,
        /// Profile CID, if any.
        #[n(3)]
        profile_cid: Option<String>,
        /// Seconds.
        #[n(4)]
        expires_at: u64,
        /// Seconds.
        #[n(5)]
        grace_ends_at: u64,
        /// The signed request's nonce (used once, ever).
        #[n(6)]
        nonce: String,
        /// SHA-256 hex of the client IP a trusted edge vouched for (the per-IP limit).
        #[n(7)]
        ip_hash: Option<String>,
    },
    /// The owner renewed the legacy name `label` with a signed request spending `nonce`.
    #[n(27)]
    NameRenewed {
        /// Label.
        #[n(0)]
        label: String,
        /// Seconds.
        #[n(1)]
        expires_at: u64,
        /// Seconds.
        #[n(2)]
        grace_ends_at: u64,
        /// The signed request's nonce.
        #[n(3)]
        nonce: String,
    },
    /// The owner set (or, with `None`, cleared) the profile CID of the legacy name `label` with
    /// a signed request spending `nonce`.
    #[n(28)]
    NameProfileUpdated {
        /// Label.
        #[n(0)]
        label: String,
        /// The new CID.
        #[n(1)]
        profile_cid: Option<String>,
        /// The signed request's nonce.
        #[n(2)]
        nonce: String,
    },
    /// A `.heaven` name relayed on-chain for `owner` was mirrored into the legacy table (a new
    /// row, or the existing row takes the new owner and times).
    #[n(29)]
    NameMirrored {
        /// Label.
        #[n(0)]
        label: String,
        /// Lowercase owner.
        #[n(1)]
        owner: String,
        /// Seconds.
        #[n(2)]
        expires_at: u64,
        /// Seconds.
        #[n(3)]
        grace_ends_at: u64,
    },
    /// A proof-of-work challenge for a long name was issued to `wallet`.
    #[n(30)]
    PowChallengeIssued {
        /// Challenge id (32 hex).
        #[n(0)]
        challenge_id: String,
        /// Lowercase wallet.
        #[n(1)]
        wallet: String,
        /// `0x` keccak256 of the label.
        #[n(2)]
        label_hash: String,
        /// `0x` parent node.
        #[n(3)]
        parent_node: String,
        /// 64 hex chars.
        #[n(4)]
        challenge: String,
        /// Leading zero nibbles required.
        #[n(5)]
        difficulty: u32,
        /// Seconds.
        #[n(6)]
        expires_at: u64,
    },
    /// A NamePermit was issued to `wallet`; it counts toward the sliding-window limits of the
    /// wallet (its own when the wallet signed the request, else the wallet as asked for by
    /// `requester`) and, for long names, of the client IP and device.
    #[n(31)]
    PermitIssued {
        /// Lowercase wallet.
        #[n(0)]
        wallet: String,
        /// `0x` label hash.
        #[n(1)]
        label_hash: String,
        /// 0 SHORT_SELF, 1 LONG_POW.
        #[n(2)]
        policy_type: u8,
        /// SHA-256 hex of the client IP a trusted edge vouched for (long names).
        #[n(3)]
        ip_hash: Option<String>,
        /// `X-Device-Id` (long names).
        #[n(4)]
        device_id: Option<String>,
        /// Who asked, for an unsigned request: `ip:<ip hash>`, `device:<id>` or `anonymous`;
        /// `None` when the wallet signed it.
        #[n(5)]
        requester: Option<String>,
    },
    /// The public key of a signing role under key `key_name` was fetched; its address is now
    /// the role's.
    #[n(32)]
    SignerKeyFetched {
        /// Threshold-ECDSA key name.
        #[n(0)]
        key_name: String,
        /// `names-policy-signer` or `wallet-relayer`.
        #[n(1)]
        role: String,
        /// SEC1 public key.
        #[n(2)]
        #[cbor(with = "minicbor::bytes")]
        public_key: Vec<u8>,
        /// EIP-55 address (for readers of the log).
        #[n(3)]
        address: String,
    },
    /// The expiry sweep ran: challenges that expired before `challenges_expired_before`,
    /// permit window keys older than `windows_before` and registration window keys older than
    /// `register_windows_before` were dropped.
    #[n(33)]
    SweepRan {
        /// Challenges with `expires_at` below this were removed (retention included).
        #[n(0)]
        challenges_expired_before: u64,
        /// Window keys issued before this were removed.
        #[n(1)]
        windows_before: u64,
        /// How many challenges that was.
        #[n(2)]
        challenges_removed: u64,
        /// How many window keys that was.
        #[n(3)]
        windows_removed: u64,
        /// Registration window keys issued before this were removed.
        #[n(4)]
        register_windows_before: u64,
        /// How many registration window keys that was.
        #[n(5)]
        register_windows_removed: u64,
    },
    /// The relayer reserved nonce `nonce` on chain `chain_id` for a transaction.
    #[n(34)]
    RelayerNonceReserved {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
        /// The reserved nonce.
        #[n(1)]
        nonce: u64,
    },
    /// A reserved nonce went unused (signing failed) and was handed back: restored when no
    /// later one was reserved, otherwise the known nonce is forgotten.
    #[n(35)]
    RelayerNonceReleased {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
        /// The nonce handed back.
        #[n(1)]
        nonce: u64,
    },
    /// The relayer's known nonce on `chain_id` was dropped; the next relay reads the chain.
    #[n(36)]
    RelayerNonceForgotten {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
    },
    /// A relayed `set-profile` of `user` counted toward its rate limit (mined or pending).
    #[n(37)]
    ProfileRelayCounted {
        /// Lowercase address.
        #[n(0)]
        user: String,
    },
    /// The Self.xyz settings (mock mode, scope, deeplink texts, nullifier namespace) were set.
    #[n(38)]
    SelfConfigured {
        /// The new settings.
        #[n(0)]
        config: SelfConfig,
    },
    /// The rate limits of `POST /api/likes` were set.
    #[n(39)]
    LikesConfigured {
        /// The new limits.
        #[n(0)]
        config: LikesConfig,
    },
    /// `user_address` opened Self verification session `session_id`, pending until
    /// `expires_at` (seconds).
    #[n(40)]
    SelfSessionCreated {
        /// 32 lowercase hex.
        #[n(0)]
        session_id: String,
        /// Lowercase address.
        #[n(1)]
        user_address: String,
        /// Seconds.
        #[n(2)]
        expires_at: u64,
    },
    /// A pending Self session was found past its expiry (on a poll or a webhook) and is now
    /// `expired`.
    #[n(41)]
    SelfSessionExpired {
        /// Session id.
        #[n(0)]
        session_id: String,
    },
    /// The webhook for a pending Self session did not verify it: the session is `failed`.
    #[n(42)]
    SelfSessionFailed {
        /// Session id.
        #[n(0)]
        session_id: String,
        /// The reason shown to pollers.
        #[n(1)]
        reason: String,
    },
    /// Self verified the session's holder: the session is `verified`, the address's identity
    /// (with its app-scoped nullifier, the short-name credential) is replaced, and a directory
    /// user of that address becomes `verified`.
    #[n(43)]
    SelfVerified {
        /// Session id.
        #[n(0)]
        session_id: String,
        /// `YYYY-MM-DD`.
        #[n(1)]
        date_of_birth: String,
        /// Whole years now.
        #[n(2)]
        age: i64,
        /// Nationality.
        #[n(3)]
        nationality: String,
        /// The webhook's attestation id.
        #[n(4)]
        attestation_id: i64,
        /// SHA-256 hex of the proof JSON.
        #[n(5)]
        proof_hash: String,
        /// `0x` + 64 hex app-scoped nullifier.
        #[n(6)]
        nullifier_hash: String,
    },
    /// `viewer` liked `target_id` (as sent) of `target_type`: the viewer is a directory user
    /// (last active now), the like is stored unless it was already, the like counts toward the
    /// viewer's (and the vouched client IP's) rate limit, and when the target's address liked
    /// the viewer back the two are matched (once).
    #[n(44)]
    LikeSubmitted {
        /// Lowercase viewer address.
        #[n(0)]
        viewer: String,
        /// `user` or `shadow`.
        #[n(1)]
        target_type: String,
        /// As sent.
        #[n(2)]
        target_id: String,
        /// SHA-256 hex of the client IP a trusted edge vouched for.
        #[n(3)]
        ip_hash: Option<String>,
        /// The like window length (seconds) the request was checked against: older window
        /// keys of this viewer and IP are dropped.
        #[n(4)]
        window_seconds: u64,
    },
    /// The shadow-profile indexes (featured rank, claimed address) were built from the
    /// profiles a build without them had stored.
    #[n(45)]
    ProfileIndexesBuilt,
    /// Rows of the original's tables were imported (a migration batch, or a whole local run):
    /// each replaces the row with the same key.
    #[n(46)]
    RowsImported {
        /// The import run, for resumable batches.
        #[n(0)]
        run: Option<String>,
        /// The batch's index within the run.
        #[n(1)]
        batch: Option<u64>,
        /// The rows.
        #[n(2)]
        rows: ImportRows,
    },
    /// A controller set the publishing signer's settings.
    #[n(47)]
    PublishingConfigured {
        /// The new settings.
        #[n(0)]
        config: PublishingConfig,
    },
    /// A publisher asked for publication `key` (`<kind>|<request id>`) for the first time.
    #[n(48)]
    PublicationRequested {
        /// `<kind>|<client request id>`.
        #[n(0)]
        key: String,
        /// `finalize_track` or `attest_scrobble_batch`.
        #[n(1)]
        kind: String,
        /// SHA-256 hex of the typed request.
        #[n(2)]
        digest: String,
    },
    /// The canister signed a transaction for a step of publication `key` (the role's nonce
    /// was reserved by a `PublisherNonceSet` before it).
    #[n(49)]
    PublicationTransactionSigned {
        /// `<kind>|<client request id>`.
        #[n(0)]
        key: String,
        /// The transaction.
        #[n(1)]
        transaction: SignedTransaction,
    },
    /// The node refused the transaction of `step` outright: it is forgotten, and a retry
    /// signs a new one.
    #[n(50)]
    PublicationTransactionDropped {
        /// `<kind>|<client request id>`.
        #[n(0)]
        key: String,
        /// The step.
        #[n(1)]
        step: String,
    },
    /// Publication `key` succeeded; retries answer `reply`.
    #[n(51)]
    PublicationCompleted {
        /// `<kind>|<client request id>`.
        #[n(0)]
        key: String,
        /// The answer.
        #[n(1)]
        reply: PublicationReply,
    },
    /// The publishing role `role`'s next nonce on chain `chain_id` is `nonce` (read from the
    /// chain, or advanced past a reservation, or handed back).
    #[n(52)]
    PublisherNonceSet {
        /// The role.
        #[n(0)]
        role: String,
        /// Chain id.
        #[n(1)]
        chain_id: u64,
        /// Next nonce.
        #[n(2)]
        nonce: u64,
    },
    /// A send from `role` failed ambiguously: its nonce on `chain_id` is read from the chain
    /// next time.
    #[n(53)]
    PublisherNonceForgotten {
        /// The role.
        #[n(0)]
        role: String,
        /// Chain id.
        #[n(1)]
        chain_id: u64,
    },
}

/// Rows of the original's identity tables, as one import batch carries them.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Encode, Decode, candid::CandidType, serde::Deserialize,
)]
pub struct ImportRows {
    /// `users`.
    #[n(0)]
    pub users: Vec<User>,
    /// `shadow_profiles` (with `likes_received` counted from `likes`).
    #[n(1)]
    pub shadow_profiles: Vec<ShadowProfile>,
    /// `claim_tokens`.
    #[n(2)]
    pub claim_tokens: Vec<ClaimToken>,
    /// `likes`.
    #[n(3)]
    pub likes: Vec<Like>,
    /// `matches`.
    #[n(4)]
    pub matches: Vec<Match>,
    /// `self_verifications`.
    #[n(5)]
    pub self_sessions: Vec<SelfSession>,
    /// `user_identity`.
    #[n(6)]
    pub identities: Vec<IdentityRecord>,
    /// `heaven_names`.
    #[n(7)]
    pub names: Vec<HeavenName>,
    /// `heaven_reserved`.
    #[n(8)]
    pub reserved: Vec<ReservedLabel>,
    /// `name_permit_issuance`.
    #[n(9)]
    pub permit_issuance: Vec<PermitIssuance>,
}

/// A `heaven_reserved` row.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Encode, Decode, candid::CandidType, serde::Deserialize,
)]
pub struct ReservedLabel {
    /// Trimmed, lowercase label.
    #[n(0)]
    pub label: String,
    /// Why.
    #[n(1)]
    pub reason: String,
}

/// A `name_permit_issuance` row (it becomes sliding-window keys).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Encode, Decode, candid::CandidType, serde::Deserialize,
)]
pub struct PermitIssuance {
    /// Lowercase wallet.
    #[n(0)]
    pub wallet: String,
    /// SHA-256 hex of the client IP.
    #[n(1)]
    pub ip_hash: Option<String>,
    /// `X-Device-Id`.
    #[n(2)]
    pub device_id: Option<String>,
    /// `0x` label hash.
    #[n(3)]
    pub label_hash: String,
    /// `0x` parent node.
    #[n(4)]
    pub parent_node: String,
    /// 0 SHORT_SELF, 1 LONG_POW.
    #[n(5)]
    pub policy_type: u8,
    /// Seconds.
    #[n(6)]
    pub issued_at: u64,
}

impl EventType {
    /// Whether this is a variant only older builds wrote, which lacks the data to apply it.
    pub fn is_legacy(&self) -> bool {
        matches!(
            self,
            Self::LegacyConfigChanged
                | Self::LegacySecretChanged { .. }
                | Self::LegacyShadowProfileUpserted { .. }
                | Self::LegacyClaimStarted { .. }
                | Self::LegacyNameRegistered { .. }
                | Self::LegacyNameRenewed { .. }
                | Self::LegacyNameUpdated { .. }
                | Self::LegacyPowChallengeIssued { .. }
                | Self::LegacyPermitIssued { .. }
                | Self::LegacyIdentityUpserted { .. }
                | Self::LegacySwept { .. }
                | Self::LegacySignerKeyFetched { .. }
        )
    }
}

#[cfg(test)]
mod tests;
