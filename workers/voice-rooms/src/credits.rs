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
}
