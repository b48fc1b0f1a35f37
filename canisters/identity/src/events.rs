//! The audit trail: every change to the canister's state is appended to a stable log as an
//! [`Event`]. Events name what changed, never secret values.

use minicbor::{Decode, Encode};

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Event {
    /// IC time (nanoseconds) of the message that made the change.
    #[n(0)]
    pub at_ns: u64,
    /// What changed.
    #[n(1)]
    pub kind: EventKind,
}

/// The kinds of change. Variant and field numbers are permanent.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum EventKind {
    /// Installed or upgraded with this key name.
    #[n(0)]
    Installed {
        /// Threshold-ECDSA key name.
        #[n(0)]
        ecdsa_key_name: String,
        /// Install count after this one.
        #[n(1)]
        installs: u64,
    },
    /// A controller changed the configuration.
    #[n(1)]
    ConfigChanged,
    /// A controller set or cleared a route secret (only its name is logged).
    #[n(2)]
    SecretChanged {
        /// `claim_start`, `dns_shared` or `edge_key`.
        #[n(0)]
        which: String,
    },
    /// A shadow profile was imported or replaced.
    #[n(3)]
    ShadowProfileUpserted {
        /// Profile id.
        #[n(0)]
        id: String,
    },
    /// A claim was started.
    #[n(4)]
    ClaimStarted {
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
    /// A claim was completed.
    #[n(5)]
    ClaimCompleted {
        /// Claim id.
        #[n(0)]
        claim_id: String,
        /// Lowercase address.
        #[n(1)]
        address: String,
    },
    /// A legacy name was registered.
    #[n(6)]
    NameRegistered {
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
    /// A legacy name was renewed.
    #[n(7)]
    NameRenewed {
        /// Label.
        #[n(0)]
        label: String,
        /// Seconds.
        #[n(1)]
        expires_at: u64,
    },
    /// A legacy name's profile CID changed.
    #[n(8)]
    NameUpdated {
        /// Label.
        #[n(0)]
        label: String,
    },
    /// A PoW challenge was issued.
    #[n(9)]
    PowChallengeIssued {
        /// Challenge id.
        #[n(0)]
        challenge_id: String,
        /// Lowercase wallet.
        #[n(1)]
        wallet: String,
    },
    /// A PoW challenge was consumed.
    #[n(10)]
    PowChallengeConsumed {
        /// Challenge id.
        #[n(0)]
        challenge_id: String,
    },
    /// A NamePermit was issued (signed).
    #[n(11)]
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
    },
    /// A Self identity record was imported or replaced.
    #[n(12)]
    IdentityUpserted {
        /// Lowercase address.
        #[n(0)]
        address: String,
    },
    /// A label was reserved (or released when `reason` is None).
    #[n(13)]
    ReservedChanged {
        /// Label.
        #[n(0)]
        label: String,
        /// Reason, None when released.
        #[n(1)]
        reason: Option<String>,
    },
    /// The relayer sent a transaction.
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
    /// The expiry sweep removed stale rows.
    #[n(15)]
    Swept {
        /// PoW challenges removed.
        #[n(0)]
        challenges: u64,
        /// Permit-window keys removed.
        #[n(1)]
        permit_windows: u64,
    },
    /// A wrong DM code was tried for a profile (counts toward the attempts limit).
    #[n(17)]
    ClaimCodeRejected {
        /// Profile id.
        #[n(0)]
        shadow_profile_id: String,
    },
    /// A signing key's public key was fetched and its address is now in use.
    #[n(18)]
    SignerKeyFetched {
        /// `names-policy-signer` or `wallet-relayer`.
        #[n(0)]
        role: String,
        /// EIP-55 address.
        #[n(1)]
        address: String,
    },
    /// The relayer's nonce for a chain was re-read from the chain.
    #[n(16)]
    RelayerNonceSynced {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
        /// Next nonce.
        #[n(1)]
        nonce: u64,
    },
}
