//! The `identity` canister: claims, names, names policy and the wallet relay of api-core, signed
//! with threshold ECDSA. Entry points here stay thin: they decode, check the caller and call into
//! the modules; the business logic arrives with its own issue.

pub mod lifecycle;
pub mod state;

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
    lifecycle::init(args);
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<IdentityInitArgs>) {
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
