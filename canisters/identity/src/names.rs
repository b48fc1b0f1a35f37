//! Names: the legacy off-chain `.heaven` registry ([`registry`]) and the policy that issues
//! NamePermits for the on-chain Tempo names ([`policy`], with its proof of work in [`pow`]).
//! Label rules for both live in [`label`]; [`sweep`] drops what both keep only for a while.

pub mod label;
pub mod policy;
pub mod pow;
pub mod registry;

use crate::state;
use crate::state::audit::{SweepCutoffs, process_event, sweep_preview};
use crate::state::event::EventType;
use crate::time::Now;

/// The expiry sweep of both: challenges past their retention, permit window keys older than
/// the permit window, registration window keys older than the registration window. Returns
/// how many (challenges, permit window keys) it removed.
pub fn sweep(now: Now) -> (u64, u64) {
    let at = now.secs();
    let cutoffs = SweepCutoffs {
        challenges_expired_before: at.saturating_sub(policy::CHALLENGE_RETENTION_SECONDS),
        windows_before: at.saturating_sub(policy::RATE_LIMIT_WINDOW_SECONDS),
        register_windows_before: at.saturating_sub(registry::REGISTER_WINDOW_SECONDS),
    };
    state::mutate(|s| {
        let (challenges_removed, windows_removed, register_windows_removed) =
            sweep_preview(s, &cutoffs);
        process_event(
            s,
            now,
            EventType::SweepRan {
                challenges_expired_before: cutoffs.challenges_expired_before,
                windows_before: cutoffs.windows_before,
                challenges_removed,
                windows_removed,
                register_windows_before: cutoffs.register_windows_before,
                register_windows_removed,
            },
        );
        (challenges_removed, windows_removed)
    })
}
