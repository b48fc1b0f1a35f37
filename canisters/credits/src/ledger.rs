//! The session-credit ledger of one wallet: what was granted (the one-time base grant for a
//! `.heaven` name, the one-time Celo bonus, controller adjustments) and what was consumed by
//! metering. Invariant, as the original's: `remaining = base + bonus − consumed ≥ 0`; consumed
//! never passes the grants (a debit larger than the balance is clamped).

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::units::Seconds;

/// The base grant: 30 minutes, once, for a wallet with a `.heaven` primary name.
pub const BASE_GRANT: Seconds = Seconds(1800);
/// The Celo bonus: 30 minutes, once, for a wallet the verification mirror knows.
pub const CELO_BONUS: Seconds = Seconds(1800);

/// A wallet's credit account (`credit_accounts`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, CandidType, Serialize, Deserialize,
)]
pub struct Account {
    /// Base seconds granted (0 or, normally, 1800).
    #[n(0)]
    pub base_granted: Seconds,
    /// Bonus seconds granted (0 or, normally, 1800).
    #[n(1)]
    pub bonus_granted: Seconds,
    /// Seconds used so far.
    #[n(2)]
    pub consumed: Seconds,
}

/// A controller's correction of an account: each given field is set to that value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct Adjustment {
    /// New base grant.
    pub base_granted: Option<Seconds>,
    /// New bonus grant.
    pub bonus_granted: Option<Seconds>,
    /// New consumed total.
    pub consumed: Option<Seconds>,
}

/// Why a controller's adjustment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdjustmentError {
    /// The result would have consumed more than was granted.
    #[error("consumed ({consumed}) would exceed the grants ({granted})")]
    Overdrawn {
        /// The consumed total asked for.
        consumed: Seconds,
        /// The grants asked for.
        granted: Seconds,
    },
}

impl Account {
    /// Everything granted.
    pub fn granted(&self) -> Seconds {
        self.base_granted.saturating_add(self.bonus_granted)
    }

    /// What is left to use.
    pub fn remaining(&self) -> Seconds {
        self.granted().saturating_sub(self.consumed)
    }

    /// Whether the base grant was given already.
    pub fn has_base_grant(&self) -> bool {
        self.base_granted > Seconds::ZERO
    }

    /// The account after the base grant (`None` when it was given already).
    pub fn with_base_grant(&self) -> Option<Account> {
        (!self.has_base_grant()).then_some(Account {
            base_granted: BASE_GRANT,
            ..*self
        })
    }

    /// The account after the Celo bonus (the once-only gate is the verification record).
    pub fn with_bonus(&self) -> Account {
        Account {
            bonus_granted: self.bonus_granted.saturating_add(CELO_BONUS),
            ..*self
        }
    }

    /// How much of `asked` a debit can take: all of it, or what remains.
    pub fn debit_amount(&self, asked: Seconds) -> Seconds {
        asked.min(self.remaining())
    }

    /// The account after consuming `seconds` (callers pass at most [`Account::remaining`]).
    pub fn with_debit(&self, seconds: Seconds) -> Account {
        Account {
            consumed: self.consumed.saturating_add(seconds).min(self.granted()),
            ..*self
        }
    }

    /// The account after `adjustment`, if the invariant still holds.
    pub fn with_adjustment(&self, adjustment: &Adjustment) -> Result<Account, AdjustmentError> {
        let adjusted = Account {
            base_granted: adjustment.base_granted.unwrap_or(self.base_granted),
            bonus_granted: adjustment.bonus_granted.unwrap_or(self.bonus_granted),
            consumed: adjustment.consumed.unwrap_or(self.consumed),
        };
        if adjusted.consumed > adjusted.granted() {
            return Err(AdjustmentError::Overdrawn {
                consumed: adjusted.consumed,
                granted: adjusted.granted(),
            });
        }
        Ok(adjusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_grant_is_given_once_and_the_bonus_adds() {
        let fresh = Account::default();
        assert_eq!(fresh.remaining(), Seconds::ZERO);
        let granted = fresh.with_base_grant().unwrap();
        assert_eq!(granted.remaining(), BASE_GRANT);
        assert_eq!(granted.with_base_grant(), None);
        let bonus = granted.with_bonus();
        assert_eq!(bonus.remaining(), Seconds(3600));
        assert_eq!(bonus.base_granted, BASE_GRANT);
    }

    #[test]
    fn debits_clamp_at_the_balance() {
        let account = Account::default().with_base_grant().unwrap();
        let spent = account.with_debit(account.debit_amount(Seconds(1000)));
        assert_eq!(spent.remaining(), Seconds(800));
        assert_eq!(spent.debit_amount(Seconds(5000)), Seconds(800));
        let empty = spent.with_debit(spent.debit_amount(Seconds(5000)));
        assert_eq!(empty.remaining(), Seconds::ZERO);
        assert_eq!(empty.consumed, BASE_GRANT);
        assert_eq!(empty.with_debit(Seconds(10)).consumed, BASE_GRANT);
    }

    #[test]
    fn adjustments_keep_the_invariant() {
        let account = Account {
            base_granted: Seconds(1800),
            bonus_granted: Seconds::ZERO,
            consumed: Seconds(100),
        };
        let set = account
            .with_adjustment(&Adjustment {
                consumed: Seconds(1790).into(),
                ..Adjustment::default()
            })
            .unwrap();
        assert_eq!(set.remaining(), Seconds(10));
        let err = account
            .with_adjustment(&Adjustment {
                base_granted: Seconds(50).into(),
                ..Adjustment::default()
            })
            .unwrap_err();
        assert_eq!(
            err,
            AdjustmentError::Overdrawn {
                consumed: Seconds(100),
                granted: Seconds(50)
            }
        );
    }
}
