//! First install.

use candid::{CandidType, Deserialize};

use crate::state::{self, audit::process_event, event::EventType};
use crate::time::Now;

/// Install argument of the identity canister (`dfx.json`'s
/// `(record { ecdsa_key_name = "dfx_test_key" })`).
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct InitArg {
    /// Threshold-ECDSA key name: `dfx_test_key` locally, `test_key_1` / `key_1` on mainnet.
    pub ecdsa_key_name: String,
}

/// First install at `now`.
pub fn init(arg: InitArg, now: Now) {
    state::mutate(|s| {
        process_event(
            s,
            now,
            EventType::Installed {
                ecdsa_key_name: arg.ecdsa_key_name,
                installs: 1,
            },
        )
    });
}
