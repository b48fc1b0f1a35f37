//! The records the credits canister keeps, CBOR with numbered fields (a field added later
//! decodes old data as its default).

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;

/// How the canister reads the chain (the original's `RPC_URL`, `CHAIN_ID`, contract addresses
/// and `ESCROW_MODE`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize)]
pub struct ChainConfig {
    /// JSON-RPC endpoint of the Tempo chain.
    #[n(0)]
    pub rpc_url: String,
    /// Chain id (42431, Tempo Moderato).
    #[n(1)]
    pub chain_id: u64,
    /// RegistryV1 (`primaryName`), for the base grant.
    #[n(2)]
    pub registry: String,
    /// VerificationMirror (`verifiedAt`), for the Celo bonus.
    #[n(3)]
    pub verification_mirror: String,
    /// SessionEscrowV1/V2, for the attestation.
    #[n(4)]
    pub escrow: String,
    /// `mock` fakes the escrow's reads and writes as the original's `ESCROW_MODE=mock`.
    #[n(5)]
    pub escrow_mock: bool,
    /// Whether the attestation sweep runs (off until the owner made the canister the oracle).
    #[n(6)]
    pub attestation_enabled: bool,
    /// `ENVIRONMENT == "development"`: `force_outcome` is accepted on `/session/:id/attest`.
    #[n(7)]
    pub development: bool,
}

impl Default for ChainConfig {
    /// The original's wrangler.toml values; escrow live, attestation off, development on.
    fn default() -> Self {
        Self {
            rpc_url: "https://rpc.moderato.tempo.xyz".into(),
            chain_id: 42431,
            registry: "0xA111c5cA16752B09fF16B3B8B24BA55a8486aB23".into(),
            verification_mirror: "0x0000000000000000000000000000000000000000".into(),
            escrow: "0xF3B4DB746a874A2197ae21C857e1Ca692C6ED059".into(),
            escrow_mock: false,
            attestation_enabled: false,
            development: true,
        }
    }
}

/// Install configuration and who may call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Config {
    /// Threshold-ECDSA key name.
    #[n(0)]
    pub ecdsa_key_name: String,
    /// Installs plus upgrades so far.
    #[n(1)]
    pub installs: u64,
    /// Chain settings.
    #[n(2)]
    pub chain: ChainConfig,
    /// Principals (text) of the workers allowed to report wallets, meter and settle.
    #[n(3)]
    pub workers: Vec<String>,
    /// The worker endpoint receipts are anchored through (`POST .../internal/anchor`); `None`:
    /// anchoring is off.
    #[n(4)]
    pub anchor_url: Option<String>,
}

/// Which kind of receipt an audit-log entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize)]
pub enum ReceiptKind {
    /// `SettlementCommitted`: a duet payment the facilitator settled.
    #[n(0)]
    Settlement,
    /// `AttestationSent`: an attestation transaction the oracle sent.
    #[n(1)]
    Attestation,
}

/// A batch of receipts stored and anchored through the worker.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize)]
pub struct AnchorRecord {
    /// The `Idempotency-Key` the batch was sent with.
    #[n(0)]
    pub key: String,
    /// Log index of the batch's first receipt.
    #[n(1)]
    pub first: u64,
    /// Log index of its last receipt.
    #[n(2)]
    pub last: u64,
    /// Receipts in the batch.
    #[n(3)]
    pub receipts: u64,
    /// The blob id the worker answered (Load / Arweave data item id).
    #[n(4)]
    pub id: String,
    /// Where Arweave serves it, if the worker's store anchors.
    #[n(5)]
    pub arweave_url: Option<String>,
    /// When it was recorded (Unix seconds).
    #[n(6)]
    pub at: UnixSeconds,
}

/// The kinds of `credit_events` rows.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, CandidType, Serialize, Deserialize,
)]
pub enum CreditEventKind {
    /// `grant_base`.
    #[n(0)]
    GrantBase,
    /// `grant_celo_bonus`.
    #[n(1)]
    GrantCeloBonus,
    /// `debit_usage`.
    #[n(2)]
    DebitUsage,
    /// `refund_usage` (the original's schema has it; nothing writes it).
    #[n(3)]
    RefundUsage,
    /// `admin_adjust`.
    #[n(4)]
    AdminAdjust,
}

impl CreditEventKind {
    /// The `event_type` text.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditEventKind::GrantBase => "grant_base",
            CreditEventKind::GrantCeloBonus => "grant_celo_bonus",
            CreditEventKind::DebitUsage => "debit_usage",
            CreditEventKind::RefundUsage => "refund_usage",
            CreditEventKind::AdminAdjust => "admin_adjust",
        }
    }

    /// The kind named `text`.
    pub fn parse(text: &str) -> Option<CreditEventKind> {
        [
            CreditEventKind::GrantBase,
            CreditEventKind::GrantCeloBonus,
            CreditEventKind::DebitUsage,
            CreditEventKind::RefundUsage,
            CreditEventKind::AdminAdjust,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A row of the `credit_events` view: the ledger's movements of one wallet.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize)]
pub struct CreditEvent {
    /// Position in the wallet's history (imported rows keep the original's id).
    #[n(0)]
    pub id: u64,
    /// The wallet.
    #[n(1)]
    pub wallet: Wallet,
    /// Change of the balance (negative for debits).
    #[n(2)]
    pub delta_seconds: i64,
    /// What moved it.
    #[n(3)]
    pub event_type: CreditEventKind,
    /// The balance after.
    #[n(4)]
    pub balance_after_seconds: Seconds,
    /// The metered connection (debits).
    #[n(5)]
    pub connection_id: Option<String>,
    /// When (Unix seconds).
    #[n(6)]
    pub created_at: UnixSeconds,
}

/// A sweep in progress: the bookings it looks at (fixed at its start), how far it got and
/// what it found so far. Kept in stable memory, so an upgrade between two steps loses nothing:
/// the next timer firing goes on from `next`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct SweepRun {
    /// When it started (its `now` for every verdict, as the original fixed `now` once).
    #[n(0)]
    pub started_at: UnixSeconds,
    /// The bookings, highest id first.
    #[n(1)]
    pub bookings: Vec<String>,
    /// Index of the next booking to look at.
    #[n(2)]
    pub next: u64,
    /// The summary so far.
    #[n(3)]
    pub summary: crate::api::SweepSummary,
}

/// What one booking of a sweep came to.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum SweepResult {
    /// The `attest` transaction was sent.
    #[n(0)]
    Submitted,
    /// Nothing to do, for this reason (`booking_not_found`, `already_settled`, `not_due_yet`,
    /// `window_missed`).
    #[n(1)]
    Noop(#[n(0)] String),
    /// An error.
    #[n(2)]
    Failed(#[n(0)] String),
}
