//! The `credits` canister: session credits, settlement idempotency and the attestation sweep of
//! voice-control-plane, on ic-cdk-timers instead of cron. Entry points here stay thin; the
//! business logic arrives with its own issue.

pub mod api;
pub mod attestation;
pub mod duet;
pub mod ledger;
pub mod lifecycle;
pub mod metering;
pub mod presence;
pub mod state;
pub mod units;
pub mod wallet;

use candid::{CandidType, Deserialize};

/// Init (and upgrade) arguments of the credits canister.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct CreditsInitArgs {
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
fn init(args: CreditsInitArgs) {
    lifecycle::init(args);
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<CreditsInitArgs>) {
    lifecycle::post_upgrade(args);
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
