//! The candid shapes of the credits canister's methods, shared with its callers (the
//! voice-rooms worker's client, natively or over ic-agent), so no caller redeclares them.

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::attestation::Outcome;
pub use crate::duet::settlement::{ClaimOutcome, SettledPayment};
use crate::duet::{EntitlementKind, RoomId, Sha256Hex};
use crate::metering::CreditAlert;
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;

/// A wallet's balance, as `GET /credits` answers it (all zero without an account).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct CreditBalance {
    /// `base + bonus − consumed`.
    pub remaining_seconds: Seconds,
    /// Base grant.
    pub base_granted_seconds: Seconds,
    /// Celo bonus.
    pub bonus_granted_seconds: Seconds,
    /// Used.
    pub consumed_seconds: Seconds,
}

/// The answer to `ensure_credits` (the original's `ensureCredits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub enum EnsureOutcome {
    /// The wallet has its base grant (given now or earlier): its balance.
    Ready(CreditBalance),
    /// No base grant and no `.heaven` primary name on the registry (or the read failed):
    /// `heaven_name_required`.
    NameRequired,
}

/// The answer to `verify_celo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub enum CeloOutcome {
    /// The mirror does not know the wallet (or the read failed): 403 `not_verified`.
    NotVerified,
    /// Verified: whether the bonus was granted by this call (false: given before) and the
    /// balance.
    Verified {
        /// Granted now.
        granted: bool,
        /// Balance after.
        remaining_seconds: Seconds,
    },
}

/// Start metering a free-room connection (at join).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct OpenConnection {
    /// The worker's connection id (a UUID).
    pub connection_id: String,
    /// Whose credit it uses.
    pub wallet: Wallet,
    /// Join time: the first watermark.
    pub at: UnixSeconds,
}

/// Meter one connection up to a second.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct MeterRequest {
    /// The connection.
    pub connection_id: String,
    /// Its wallet (checked against the one it was opened with).
    pub wallet: Wallet,
    /// Bill up to this second (clamped to the canister's clock).
    pub up_to: UnixSeconds,
}

/// What a metering did.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct MeterOutcome {
    /// The connection.
    pub connection_id: String,
    /// Seconds debited by this call.
    pub debited_seconds: Seconds,
    /// Seconds debited on the connection in all.
    pub connection_debited_seconds: Seconds,
    /// The wallet's balance after.
    pub remaining_seconds: Seconds,
    /// Warnings raised by this call (each at most once per connection).
    pub alerts: Vec<CreditAlert>,
    /// The watermark after.
    pub metered_up_to: UnixSeconds,
}

/// Why a metering was refused.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize, thiserror::Error)]
pub enum MeterError {
    /// No connection with that id was opened.
    #[error("unknown connection")]
    UnknownConnection,
    /// The connection belongs to another wallet.
    #[error("the connection belongs to another wallet")]
    WalletMismatch,
}

/// A join or leave of a booked session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize)]
pub enum PresenceChange {
    /// Joined.
    #[n(0)]
    Joined,
    /// Left.
    #[n(1)]
    Left,
}

/// Record a booked-session join or leave.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct PresenceReport {
    /// The booking id (decimal digits).
    pub booking_id: String,
    /// Who.
    pub wallet: Wallet,
    /// Join or leave.
    pub change: PresenceChange,
    /// When.
    pub at: UnixSeconds,
}

/// Claim a payment signature before settling it with the facilitator.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct ClaimSettlement {
    /// The room.
    pub room_id: RoomId,
    /// sha256 of the raw `PAYMENT-SIGNATURE` header.
    pub signature_hash: Sha256Hex,
    /// The paying wallet when known (JWT or body wallet).
    pub wallet: Option<Wallet>,
    /// What is bought.
    pub entitlement: EntitlementKind,
}

/// The facilitator's answer to a claimed settlement.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub enum SettlementResult {
    /// Settled: the entitlement is extended by `window_seconds` for `wallet`.
    Settled {
        /// The effective payer (`None`: anonymous public entry, no entitlement).
        wallet: Option<Wallet>,
        /// The room's access window.
        window_seconds: u64,
        /// The segment paid for (live).
        segment_id: Option<String>,
        /// The payee (live).
        pay_to: Option<String>,
        /// The amount in base units (live).
        amount: Option<String>,
        /// `mock` or `self`.
        facilitator: String,
        /// The settlement transaction.
        transaction_hash: Option<String>,
    },
    /// Not settled: the claim is released and the signature may be presented again.
    Failed,
}

/// Commit a claimed settlement.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct CommitSettlement {
    /// The room.
    pub room_id: RoomId,
    /// sha256 of the raw `PAYMENT-SIGNATURE` header.
    pub signature_hash: Sha256Hex,
    /// What is bought.
    pub entitlement: EntitlementKind,
    /// The facilitator's answer.
    pub result: SettlementResult,
}

/// Why a commit was refused.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize, thiserror::Error)]
pub enum CommitError {
    /// The signature is not claimed (never, or released, or settled already).
    #[error("the payment signature is not claimed")]
    NotClaimed,
}

/// The answer to a commit: the settled payment (with the entitlement's new expiry), or
/// nothing when the result was a failure.
pub type CommitOutcome = Result<Option<SettledPayment>, CommitError>;

/// Extend an entitlement without a payment (a free room or replay).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct ExtendEntitlement {
    /// The room.
    pub room_id: RoomId,
    /// The viewer.
    pub wallet: Wallet,
    /// Live or replay.
    pub entitlement: EntitlementKind,
    /// The room's access window.
    pub window_seconds: u64,
}

/// A viewer's entitlements in a room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct EntitlementView {
    /// Live until.
    pub live_expires_at: Option<UnixSeconds>,
    /// Replay until.
    pub replay_expires_at: Option<UnixSeconds>,
}

/// Issue a one-time replay access token (the worker keeps the token; only its hash is sent).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct IssueReplayToken {
    /// The room.
    pub room_id: RoomId,
    /// sha256 of the token.
    pub token_hash: Sha256Hex,
    /// The viewer.
    pub wallet: Wallet,
    /// The recording to stream.
    pub replay_url: String,
}

/// What a redeemed replay token opens.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct ReplayAccess {
    /// The viewer.
    pub wallet: Wallet,
    /// The recording.
    pub replay_url: String,
}

/// The answer to an attestation run for one booking (`/session/:id/attest`).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub enum AttestOutcome {
    /// The `attest` transaction was sent.
    Submitted {
        /// The verdict.
        outcome: Outcome,
        /// `0x` transaction hash.
        tx_hash: String,
        /// `0x` metrics hash.
        metrics_hash: String,
    },
    /// Refused with the original's status and error text (`booking not found`, ...).
    Refused {
        /// HTTP status.
        status: u16,
        /// The `error` text.
        error: String,
    },
}

/// Summary of one attestation sweep (the original's log line, kept queryable).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize,
)]
pub struct SweepSummary {
    /// When it ran.
    #[n(0)]
    pub at: UnixSeconds,
    /// Bookings looked at.
    #[n(1)]
    pub scanned: u32,
    /// Transactions sent.
    #[n(2)]
    pub submitted: u32,
    /// Nothing to do.
    #[n(3)]
    pub noop: u32,
    /// Errors.
    #[n(4)]
    pub failed: u32,
    /// Noop reasons and their counts.
    #[n(5)]
    pub noop_reasons: Vec<(String, u32)>,
    /// Up to 20 failures: booking id and error.
    #[n(6)]
    pub failures: Vec<(String, String)>,
}
