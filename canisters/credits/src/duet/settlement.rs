//! Settlement markers: each payment signature (by the sha256 of the raw `PAYMENT-SIGNATURE`
//! header, per room) moves `pending → settled` exactly once.
//!
//! The worker **claims** the signature before calling the facilitator, then **commits** the
//! facilitator's answer (or releases the claim when settling failed). A second request with the
//! same signature while the first is at the facilitator finds it pending and is refused
//! ([`ClaimOutcome::InProgress`], the worker answers 409) instead of settling a second time; one
//! arriving after the commit is granted from the marker without paying again. Markers are
//! dropped 48 hours after they were processed, as the original's.

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use super::EntitlementKind;
use crate::units::UnixSeconds;
use crate::wallet::Wallet;

/// How long a settled marker is kept.
pub const MARKER_TTL_SECONDS: u64 = 48 * 60 * 60;
/// A claim older than this is taken to be abandoned (its worker died at the facilitator): the
/// same wallet may claim the signature again. The facilitator itself refuses an authorization
/// it already settled, so a retry after a lost answer cannot pay twice.
pub const PENDING_TIMEOUT_SECONDS: u64 = 15 * 60;

/// A settled payment, as the original's `settle:` marker records it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize)]
pub struct SettledPayment {
    /// When it was committed.
    #[n(0)]
    pub processed_at: UnixSeconds,
    /// Who paid (`None`: an anonymous public entry, which buys no entitlement).
    #[n(1)]
    pub wallet: Option<Wallet>,
    /// What it bought.
    #[n(2)]
    pub entitlement: EntitlementKind,
    /// The entitlement's expiry it produced (`None` for an anonymous entry).
    #[n(3)]
    pub expires_at: Option<UnixSeconds>,
    /// The segment paid for (live entries).
    #[n(4)]
    pub segment_id: Option<String>,
    /// The payee (live entries).
    #[n(5)]
    pub pay_to: Option<String>,
    /// The amount in base units (live entries).
    #[n(6)]
    pub amount: Option<String>,
    /// `mock` or `self`.
    #[n(7)]
    pub facilitator: String,
    /// The settlement transaction, when the facilitator reported one.
    #[n(8)]
    pub transaction_hash: Option<String>,
}

/// The marker of one signature.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Marker {
    /// Claimed by a request that is at the facilitator.
    #[n(0)]
    Pending {
        /// When it was claimed.
        #[n(0)]
        claimed_at: UnixSeconds,
        /// The wallet the claimer pays for, when known before settling.
        #[n(1)]
        wallet: Option<Wallet>,
        /// What is being bought.
        #[n(2)]
        entitlement: EntitlementKind,
    },
    /// Settled.
    #[n(1)]
    Settled(#[n(0)] SettledPayment),
}

/// The answer to a claim.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub enum ClaimOutcome {
    /// The signature is new: the caller holds the claim and must commit or release it.
    Claimed,
    /// Settled earlier for this wallet and entitlement and still valid: grant without paying.
    AlreadySettled(SettledPayment),
    /// Another request is settling this signature right now (409; retry later).
    InProgress,
    /// Settled for another wallet or another entitlement (409 `payment_signature_reused`).
    Reused,
    /// Settled, and what it bought has ended (409 `payment_signature_already_consumed`).
    AlreadyConsumed,
}

/// Decides a claim of a signature whose marker is `existing`, by `wallet` (`None`: not known
/// yet, an anonymous public entry) for `entitlement`, at `now`.
pub fn decide_claim(
    existing: Option<&Marker>,
    wallet: Option<&Wallet>,
    entitlement: EntitlementKind,
    now: UnixSeconds,
) -> ClaimOutcome {
    match existing {
        None => ClaimOutcome::Claimed,
        Some(Marker::Pending {
            claimed_at,
            wallet: claimer,
            entitlement: pending_kind,
        }) => {
            let abandoned = now >= claimed_at.plus(PENDING_TIMEOUT_SECONDS);
            if abandoned && claimer.as_ref() == wallet && *pending_kind == entitlement {
                ClaimOutcome::Claimed
            } else {
                ClaimOutcome::InProgress
            }
        }
        Some(Marker::Settled(paid)) => {
            if paid.entitlement != entitlement {
                return ClaimOutcome::Reused;
            }
            // A caller that names a wallet must be the payer; one that does not (public
            // entry without a wallet) is granted as the payer.
            if let (Some(asked), Some(payer)) = (wallet, paid.wallet.as_ref())
                && asked != payer
            {
                return ClaimOutcome::Reused;
            }
            match (&paid.wallet, paid.expires_at) {
                (Some(_), Some(expires_at)) if expires_at > now => {
                    ClaimOutcome::AlreadySettled(paid.clone())
                }
                // An anonymous entry bought one grant; a signature is not a reusable ticket.
                _ => ClaimOutcome::AlreadyConsumed,
            }
        }
    }
}

/// Whether a marker may be pruned at `now`: settled more than [`MARKER_TTL_SECONDS`] ago, or a
/// claim abandoned for as long.
pub fn is_prunable(marker: &Marker, now: UnixSeconds) -> bool {
    let since = match marker {
        Marker::Pending { claimed_at, .. } => *claimed_at,
        Marker::Settled(paid) => paid.processed_at,
    };
    now > since.plus(MARKER_TTL_SECONDS)
}

#[cfg(test)]
mod tests;
