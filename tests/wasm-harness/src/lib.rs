//! A test-only executor of the IC system API on wasmtime, and a scenario API with two backends.
//!
//! - [`Harness`] loads canister wasm, links the `ic0` functions our canisters import
//!   ([`implemented_system_api`]), and runs messages with the IC's semantics: updates commit,
//!   queries and traps roll back heap and stable memory, upgrades keep stable memory and reset
//!   the heap, the global timer fires when time passes it, inter-canister calls answer through
//!   callbacks in the wasm table, and the management canister signs with deterministic k256
//!   keys, forwards HTTP outcalls (through the caller's transform) and answers `raw_rand`.
//! - [`Scenario`] is what canister scenario tests are written against; [`Harness`] and
//!   [`PocketIcScenario`] (the `pocket-ic` crate, when `POCKET_IC_BIN` is set) implement it.
//!
//! - [`ic_http::IcHttpServer`] serves a harness over the IC HTTP interface, so an unmodified
//!   `ic_agent::Agent` can call the canisters it runs.
//!
//! Never linked into a canister or a worker. See `tests/README.md` for what the harness does
//! not model.

#![warn(missing_docs)]

mod artifacts;
mod canister;
mod context;
mod costs;
mod delivery;
mod ecdsa;
mod error;
mod gateway;
mod harness;
pub mod ic_http;
mod instrument;
mod management;
mod outcall;
mod pocket;
mod scenario;
mod system_api;

pub use artifacts::{canister_wasm, canister_wasm_path, target_dir, workspace_root};
pub use error::{HarnessError, Reject, RejectCode, Result};
pub use gateway::{GatewayRequest, GatewayResponse, GatewayUpdateRequest};
pub use harness::{
    ExecutedMessage, Harness, Limits, OutcallHandler, OutcallRound, START_TIME_NANOS,
};
pub use outcall::{OutcallRequest, OutcallResponse};
pub use pocket::{POCKET_IC_BIN, POCKET_IC_SKIPPED, PocketIcScenario};
pub use scenario::{Scenario, ScenarioExt, user};

/// The `ic0` functions the harness implements; a module importing any other fails to install.
pub fn implemented_system_api() -> &'static [&'static str] {
    system_api::Runtime::get().implemented()
}

/// Derivation helpers of the harness's threshold-ECDSA stand-in, for tests that check
/// signatures independently.
pub mod test_keys {
    pub use crate::ecdsa::{public_key, sign};
}

/// Runs each named scenario (a `fn(&mut dyn Scenario)`) as two tests, `<name>::harness` and
/// `<name>::pocket_ic`; the PocketIC one prints `PocketIC: skipped (POCKET_IC_BIN not set)`
/// and returns when no server is configured.
#[macro_export]
macro_rules! scenario_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn harness() {
                super::$name(&mut $crate::Harness::new());
            }

            #[test]
            fn pocket_ic() {
                if let Some(mut scenario) = $crate::PocketIcScenario::from_env_or_skip() {
                    super::$name(&mut scenario);
                }
            }
        }
    )*};
}
