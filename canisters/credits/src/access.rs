//! Who may call what: controllers manage the canister; the worker principals they list report
//! authenticated wallets, meter, settle and write presence; balances and entitlements are open
//! to queries. Anonymous callers never reach an update (`inspect_message`).

use candid::Principal;
use canister_runtime::Runtime;

use crate::endpoints::CallError;
use crate::state;

/// A controller, or [`CallError::NotController`].
pub fn require_controller<R: Runtime>(rt: &R) -> Result<(), CallError> {
    if rt.is_controller(&rt.caller()) {
        Ok(())
    } else {
        Err(CallError::NotController)
    }
}

/// A listed worker or a controller, or [`CallError::NotWorker`].
pub fn require_worker<R: Runtime>(rt: &R) -> Result<(), CallError> {
    let caller = rt.caller();
    if rt.is_controller(&caller) || is_worker(&caller) {
        Ok(())
    } else {
        Err(CallError::NotWorker)
    }
}

fn is_worker(caller: &Principal) -> bool {
    let text = caller.to_text();
    state::with_config(|c| c.workers.contains(&text))
}

/// Whether an ingress message may be accepted: never from the anonymous principal.
pub fn accepts_ingress(caller: &Principal) -> bool {
    *caller != Principal::anonymous()
}
