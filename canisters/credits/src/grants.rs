//! The ledger's grants and balances: the one-time base grant for a wallet with a `.heaven`
//! primary name (the original's `ensureCredits`), the one-time Celo bonus, controller
//! corrections. Chain reads come first and are re-checked in one step afterwards, since other
//! messages run while an outcall is out.

use canister_runtime::Runtime;

use crate::api::{CeloOutcome, CreditBalance, EnsureOutcome};
use crate::chain::ChainReads;
use crate::ledger::{Account, Adjustment, AdjustmentError};
use crate::state::{self, audit::process_event, event::EventType};
use crate::units::Seconds;
use crate::wallet::Wallet;

/// The balance view of an account (zeros without one).
pub fn balance_of(account: Option<Account>) -> CreditBalance {
    let a = account.unwrap_or_default();
    CreditBalance {
        remaining_seconds: a.remaining(),
        base_granted_seconds: a.base_granted,
        bonus_granted_seconds: a.bonus_granted,
        consumed_seconds: a.consumed,
    }
}

/// `GET /credits`: the wallet's balance; does not create an account.
pub fn balance(wallet: &Wallet) -> CreditBalance {
    balance_of(state::with(|s| s.account(wallet)))
}

/// The original's `ensureCredits`: a wallet without its base grant gets it when the registry
/// gives it a primary name; without one it is `NameRequired`.
pub async fn ensure_credits<R: Runtime, C: ChainReads>(
    rt: &R,
    chain: &C,
    wallet: &Wallet,
) -> EnsureOutcome {
    if let Some(account) = state::with(|s| s.account(wallet))
        && account.has_base_grant()
    {
        return EnsureOutcome::Ready(balance_of(Some(account)));
    }
    if !chain.has_primary_name(wallet).await {
        return EnsureOutcome::NameRequired;
    }
    let now_ns = rt.time_ns();
    state::mutate(|s| {
        let has_base = s.account(wallet).is_some_and(|a| a.has_base_grant());
        if !has_base {
            process_event(
                s,
                now_ns,
                EventType::BaseGranted {
                    wallet: wallet.clone(),
                },
            );
        }
        EnsureOutcome::Ready(balance_of(s.account(wallet)))
    })
}

/// `POST /credits/verify-celo`: the once-only Celo bonus for a wallet the mirror verified.
pub async fn verify_celo<R: Runtime, C: ChainReads>(
    rt: &R,
    chain: &C,
    wallet: &Wallet,
) -> CeloOutcome {
    if !chain.is_verified(wallet).await {
        return CeloOutcome::NotVerified;
    }
    let now_ns = rt.time_ns();
    state::mutate(|s| {
        let granted = !s.verifications().contains_key(&wallet.as_str().to_owned());
        if granted {
            process_event(
                s,
                now_ns,
                EventType::CeloBonusGranted {
                    wallet: wallet.clone(),
                },
            );
        }
        CeloOutcome::Verified {
            granted,
            remaining_seconds: balance_of(s.account(wallet)).remaining_seconds,
        }
    })
}

/// A controller's correction (`admin_adjust`): the given totals replace the account's.
pub fn adjust(
    wallet: &Wallet,
    adjustment: &Adjustment,
    now_ns: u64,
) -> Result<CreditBalance, AdjustmentError> {
    state::mutate(|s| {
        let before = s.account(wallet).unwrap_or_default();
        let after = before.with_adjustment(adjustment)?;
        process_event(
            s,
            now_ns,
            EventType::AccountAdjusted {
                wallet: wallet.clone(),
                account: after,
            },
        );
        Ok(balance_of(Some(after)))
    })
}

/// A controller's grant: `seconds` more of base credit (`admin_adjust`).
pub fn grant(wallet: &Wallet, seconds: Seconds, now_ns: u64) -> CreditBalance {
    let base = state::with(|s| s.account(wallet).unwrap_or_default().base_granted);
    let adjustment = Adjustment {
        base_granted: Some(base.saturating_add(seconds)),
        ..Adjustment::default()
    };
    adjust(wallet, &adjustment, now_ns).expect("adding to the grants cannot overdraw")
}
