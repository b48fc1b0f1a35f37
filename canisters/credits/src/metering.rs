//! Metering by watermark: each connection in a free room remembers the second up to which it
//! has been billed. A metering up to `t` bills exactly the seconds between that watermark and
//! `t` and moves the watermark to `t` in the same step, so a retried, duplicated or reordered
//! metering never bills a second twice (the original read its `last_metered_at`, awaited the
//! database debit, then wrote it back: two concurrent heartbeats billed the same seconds).

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ledger::Account;
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;

/// Remaining credit at or below which a connection is warned once (`credits_low`).
pub const LOW_CREDIT: Seconds = Seconds(300);
/// Remaining credit needed to create or join a free room, or renew its token.
pub const MIN_TO_ENTER: Seconds = Seconds(90);

/// A connection being metered.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct MeteredConnection {
    /// Whose credit it uses.
    #[n(0)]
    pub wallet: Wallet,
    /// Billed up to this second.
    #[n(1)]
    pub watermark: UnixSeconds,
    /// Billed so far on this connection.
    #[n(2)]
    pub debited: Seconds,
    /// `credits_low` was raised.
    #[n(3)]
    pub warned_low: bool,
    /// `credits_exhausted` was raised.
    #[n(4)]
    pub exhausted: bool,
    /// When metering stopped (the participant left); no second after it is billed.
    #[n(5)]
    pub closed_at: Option<UnixSeconds>,
}

impl MeteredConnection {
    /// A connection of `wallet` opened at `at`.
    pub fn opened(wallet: Wallet, at: UnixSeconds) -> Self {
        Self {
            wallet,
            watermark: at,
            debited: Seconds::ZERO,
            warned_low: false,
            exhausted: false,
            closed_at: None,
        }
    }
}

/// A once-per-connection warning about the balance.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, CandidType, Serialize, Deserialize,
)]
pub enum CreditAlert {
    /// Remaining fell to [`LOW_CREDIT`] or below (`credits_low`).
    #[n(0)]
    Low,
    /// Nothing remains (`credits_exhausted`).
    #[n(1)]
    Exhausted,
}

/// What one metering does to a connection and its wallet's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metering {
    /// The new watermark (unchanged when nothing elapsed).
    pub watermark: UnixSeconds,
    /// Seconds between the old watermark and `up_to` (0 when `up_to` is not later).
    pub elapsed: Seconds,
    /// Seconds taken from the account (`elapsed`, clamped at the balance).
    pub debited: Seconds,
    /// The balance afterwards.
    pub remaining: Seconds,
    /// Warnings raised by this metering.
    pub alerts: Vec<CreditAlert>,
}

/// Meters `connection` up to `up_to` against `account` (`None`: the wallet has no account,
/// so nothing can be debited). A closed connection is billed no further than its close.
pub fn meter(
    connection: &MeteredConnection,
    account: Option<&Account>,
    up_to: UnixSeconds,
) -> Metering {
    let up_to = match connection.closed_at {
        Some(closed) => up_to.min(closed),
        None => up_to,
    };
    let balance = account.map(Account::remaining).unwrap_or_default();
    let elapsed = up_to.since(connection.watermark);
    if elapsed == Seconds::ZERO {
        return Metering {
            watermark: connection.watermark,
            elapsed,
            debited: Seconds::ZERO,
            remaining: balance,
            alerts: Vec::new(),
        };
    }
    let debited = account.map_or(Seconds::ZERO, |a| a.debit_amount(elapsed));
    let remaining = balance.saturating_sub(debited);
    let mut alerts = Vec::new();
    if !connection.warned_low && remaining <= LOW_CREDIT {
        alerts.push(CreditAlert::Low);
    }
    if !connection.exhausted && remaining == Seconds::ZERO {
        alerts.push(CreditAlert::Exhausted);
    }
    Metering {
        watermark: up_to,
        elapsed,
        debited,
        remaining,
        alerts,
    }
}

impl MeteredConnection {
    /// The connection after `metering`.
    pub fn after(&self, metering: &Metering) -> MeteredConnection {
        MeteredConnection {
            watermark: metering.watermark,
            debited: self.debited.saturating_add(metering.debited),
            warned_low: self.warned_low || metering.alerts.contains(&CreditAlert::Low),
            exhausted: self.exhausted || metering.alerts.contains(&CreditAlert::Exhausted),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests;
