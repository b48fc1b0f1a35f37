//! The credits canister as this worker sees it: [`CreditsClient`], the one way to money state
//! (balances, the Celo bonus). The local stack implements it in-process over the native
//! canister; an ic-agent implementation comes with the canister bridge. Shapes are the
//! original's answers, so handlers serialise them as they are.

use async_trait::async_trait;
use serde::Serialize;

use crate::auth::Wallet;

/// A wallet's balance, as `GET /credits` answers it (field order is the original's; all zero
/// without an account).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CreditBalance {
    /// `base + bonus − consumed`.
    pub remaining_seconds: u64,
    /// Base grant (0 or 1800).
    pub base_granted_seconds: u64,
    /// Celo bonus (0 or 1800).
    pub bonus_granted_seconds: u64,
    /// Used.
    pub consumed_seconds: u64,
}

/// What the canister decided for `POST /credits/verify-celo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeloOutcome {
    /// The verification mirror does not know the wallet, or could not be read.
    NotVerified,
    /// Verified; `granted` is false when the bonus was given before.
    Verified {
        /// The bonus was granted by this call.
        granted: bool,
        /// Balance after.
        remaining_seconds: u64,
    },
}

/// What the canister's attestation of one booking did (`POST /session/:id/attest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttestOutcome {
    /// The escrow's `attest` transaction was sent.
    Submitted {
        /// `completed`, `no-show-host` or `no-show-guest`.
        outcome: String,
        /// `0x` transaction hash.
        tx_hash: String,
    },
    /// Refused with the original's HTTP status and `error` text (`booking not found`,
    /// `grace_not_over`, ...).
    Refused {
        /// HTTP status.
        status: u16,
        /// The `error` text.
        error: String,
    },
}

/// Why the canister gave no answer. Every case is a 503 `{"error":"service unavailable"}`:
/// the original has no error of its own on these routes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditsError {
    /// The canister cannot be reached (stopped, network, replica busy).
    #[error("credits canister unreachable: {0}")]
    Unreachable(String),
    /// The canister took the call and failed it (a trap; nothing was written).
    #[error("credits canister call failed: {0}")]
    Rejected(String),
}

/// The credits canister's methods the worker needs so far.
#[async_trait]
pub trait CreditsClient: Send + Sync {
    /// The balance of `wallet` (never creates an account).
    async fn balance(&self, wallet: &Wallet) -> Result<CreditBalance, CreditsError>;

    /// Grants the Celo bonus once if the verification mirror knows `wallet`.
    async fn verify_celo(&self, wallet: &Wallet) -> Result<CeloOutcome, CreditsError>;

    /// Runs the attestation of booking `booking_id` (the path segment as sent) now, with
    /// `force_outcome` when the caller forces a verdict.
    async fn attest_booking(
        &self,
        booking_id: &str,
        force_outcome: Option<&str>,
    ) -> Result<AttestOutcome, CreditsError>;
    // The free rooms' metering (the types are below).
    /// The original's `ensureCredits`: grants the base once when the wallet has a name.
    async fn ensure_credits(&self, wallet: &Wallet) -> Result<EnsuredCredits, CreditsError>;

    /// Starts metering `connection_id` for `wallet` from `at` (idempotent).
    async fn open_connection(
        &self,
        connection_id: &str,
        wallet: &Wallet,
        at: i64,
    ) -> Result<Result<(), MeterRefused>, CreditsError>;

    /// Meters connections in one canister message (a room's alarm sends all of them).
    async fn meter(
        &self,
        requests: Vec<MeterRequest>,
    ) -> Result<Vec<Result<Metered, MeterRefused>>, CreditsError>;

    /// Meters a connection up to `at` a last time and stops metering it.
    async fn close_connection(
        &self,
        connection_id: &str,
        at: i64,
    ) -> Result<Result<Metered, MeterRefused>, CreditsError>;

    /// Records that `wallet` joined or left the room of booking `booking_id` (decimal digits)
    /// at `at`; the canister's attestation reads these stays.
    async fn record_presence(
        &self,
        booking_id: &str,
        wallet: &Wallet,
        change: PresenceChange,
        at: i64,
    ) -> Result<(), CreditsError>;

    // The duet rooms' money state (contract §4.3–4.8, §9): settlement markers keyed by room
    // and sha256 of the PAYMENT-SIGNATURE, entitlements and one-time replay tokens. The types
    // are the canister's candid types.
    /// Claims a payment signature before the facilitator is called.
    async fn claim_settlement(
        &self,
        request: duet_api::ClaimSettlement,
    ) -> Result<duet_api::ClaimOutcome, CreditsError>;

    /// Commits (or releases) a claimed signature with the facilitator's answer.
    async fn commit_settlement(
        &self,
        request: duet_api::CommitSettlement,
    ) -> Result<duet_api::CommitOutcome, CreditsError>;

    /// Extends an entitlement without a payment (free room or free replay); the new expiry.
    async fn extend_entitlement(
        &self,
        request: duet_api::ExtendEntitlement,
    ) -> Result<i64, CreditsError>;

    /// A viewer's entitlements in a room.
    async fn entitlement(
        &self,
        room: &duet_api::RoomId,
        wallet: &duet_api::CanisterWallet,
    ) -> Result<duet_api::EntitlementView, CreditsError>;

    /// Records a one-time replay token (by its hash); its expiry.
    async fn issue_replay_token(
        &self,
        request: duet_api::IssueReplayToken,
    ) -> Result<i64, CreditsError>;

    /// Redeems a replay token once (`None`: unknown, spent or expired).
    async fn redeem_replay_token(
        &self,
        token_hash: duet_api::Sha256Hex,
    ) -> Result<Option<duet_api::ReplayAccess>, CreditsError>;
}

/// The credits canister's duet types used by [`CreditsClient`]'s duet methods.
pub mod duet_api {
    pub use credits_canister::api::{
        ClaimSettlement, CommitError, CommitOutcome, CommitSettlement, EntitlementView,
        ExtendEntitlement, IssueReplayToken, ReplayAccess, SettlementResult,
    };
    pub use credits_canister::duet::settlement::{ClaimOutcome, SettledPayment};
    pub use credits_canister::duet::{EntitlementKind, RoomId, Sha256Hex};
    pub use credits_canister::wallet::Wallet as CanisterWallet;
}

/// A booked-session join or leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceChange {
    /// Joined.
    Joined,
    /// Left.
    Left,
}

/// The answer to the original's `ensureCredits` (the canister grants the base once, for a
/// wallet with a `.heaven` name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnsuredCredits {
    /// The wallet has its base grant: its balance.
    Ready(CreditBalance),
    /// No base grant and no name: `heaven_name_required`.
    NameRequired,
}

/// A once-per-connection warning raised by a metering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
pub enum CreditAlert {
    /// Remaining fell to 300 s or below (`credits_low`).
    Low,
    /// Nothing remains (`credits_exhausted`).
    Exhausted,
}

/// Meter one connection up to a second (the canister clamps it to its own clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterRequest {
    /// The connection id given at [`CreditsClient::open_connection`].
    pub connection_id: String,
    /// Its wallet.
    pub wallet: Wallet,
    /// Bill up to this Unix second.
    pub up_to: i64,
}

/// What the canister did for one connection: it advances the connection's watermark and
/// debits the seconds since the previous one in one step, so no second is billed twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metered {
    /// Seconds debited by this call.
    pub debited_seconds: u64,
    /// Seconds debited on the connection in all.
    pub connection_debited_seconds: u64,
    /// The wallet's balance after.
    pub remaining_seconds: u64,
    /// Warnings raised by this call.
    pub alerts: Vec<CreditAlert>,
    /// The watermark after (Unix seconds).
    pub metered_up_to: i64,
}

/// Why the canister refused to meter a connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeterRefused {
    /// Never opened.
    #[error("unknown connection")]
    UnknownConnection,
    /// Opened for another wallet.
    #[error("the connection belongs to another wallet")]
    WalletMismatch,
}
