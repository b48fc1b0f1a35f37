//! The `identity` canister: api-core's claim, names, names-policy and wallet routes on ICP,
//! signed with threshold ECDSA.
//!
//! The logic is plain Rust over [`canister_runtime::Runtime`] and the stable [`state`]; the
//! same [`router`] answers the canister's HTTP gateway (`http_request` /
//! `http_request_update`) and, natively, the local stack on port 8787. Entry points here stay
//! thin: they decode, check the caller and call into the modules.

pub mod api;
pub mod chain;
pub mod claim;
pub mod events;
pub mod lifecycle;
pub mod names;
pub mod router;
pub mod signer;
pub mod state;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod wallet;

use candid::{CandidType, Deserialize};

/// Init (and upgrade) arguments of the identity canister.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct IdentityInitArgs {
    /// Threshold-ECDSA key name: `dfx_test_key` locally, `test_key_1` / `key_1` on mainnet.
    pub ecdsa_key_name: String,
}

/// Answer of the `health` query.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// Always true when the canister answers.
    pub ok: bool,
    /// Crate version of the running wasm.
    pub version: String,
    /// The configured threshold-ECDSA key name.
    pub ecdsa_key_name: String,
    /// How many times the canister has been installed or upgraded.
    pub installs: u64,
}

/// Version of this canister build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[ic_cdk::init]
fn init(args: IdentityInitArgs) {
    lifecycle::init(args, ic_cdk::api::time());
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<IdentityInitArgs>) {
    lifecycle::post_upgrade(args, ic_cdk::api::time());
}

/// Liveness and configuration summary.
#[ic_cdk::query]
fn health() -> Health {
    state::with_config(|c| Health {
        ok: true,
        version: VERSION.to_string(),
        ecdsa_key_name: c.ecdsa_key_name.clone(),
        installs: c.installs,
    })
}

/// Crate version of the running wasm.
#[ic_cdk::query]
fn version() -> String {
    VERSION.to_string()
}

ic_cdk::export_candid!();

/// Writes one diagnostic line: the replica log (`debug_print`) in wasm, `tracing` natively with
/// the `native` feature, nowhere otherwise (unit tests).
pub fn log(line: &str) {
    #[cfg(target_arch = "wasm32")]
    ic_cdk::api::debug_print(line);
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    tracing::warn!(target: "identity", "{line}");
    #[cfg(all(not(target_arch = "wasm32"), not(feature = "native")))]
    let _ = line;
}
