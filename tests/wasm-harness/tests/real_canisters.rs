//! The shipped `identity` and `credits` wasm (from `cargo xtask build-canisters`) install with
//! their init argument, answer `health`, and keep their configuration across an upgrade — on
//! the harness, and on PocketIC when `POCKET_IC_BIN` is set.

use candid::{CandidType, Deserialize};
use ic_wasm_harness::{Scenario, ScenarioExt, canister_wasm, scenario_tests};

/// `InitArg` of candid/identity.did / `CreditsInitArgs` of candid/credits.did (sent again on
/// upgrade, as dfx does: identity decodes it as its optional `UpgradeArg`).
#[derive(CandidType)]
struct InitArgs {
    ecdsa_key_name: String,
}

/// `Health` of candid/identity.did and candid/credits.did.
#[derive(Debug, CandidType, Deserialize, PartialEq, Eq)]
struct Health {
    ok: bool,
    ecdsa_key_name: String,
    installs: u64,
    version: String,
}

fn health_across_upgrade(s: &mut dyn Scenario, name: &str) {
    let wasm = canister_wasm(name).unwrap_or_else(|e| panic!("{e}"));
    let args = InitArgs {
        ecdsa_key_name: "dfx_test_key".into(),
    };
    let c = s
        .install_with(&wasm, &args)
        .unwrap_or_else(|e| panic!("installing {name} on {}: {e}", s.backend()));
    let health: Health = s.query(c, "health", ()).unwrap();
    assert!(health.ok);
    assert_eq!(health.ecdsa_key_name, "dfx_test_key");
    assert_eq!(health.installs, 1);
    assert!(!health.version.is_empty());
    let version: String = s.query(c, "version", ()).unwrap();
    assert_eq!(version, health.version);
    s.upgrade(c, &wasm, candid::encode_one(None::<InitArgs>).unwrap())
        .unwrap();
    let health: Health = s.query(c, "health", ()).unwrap();
    assert_eq!(
        (health.installs, health.ecdsa_key_name.as_str()),
        (2, "dfx_test_key")
    );
}

fn identity_answers_health(s: &mut dyn Scenario) {
    health_across_upgrade(s, "identity");
}

fn credits_answers_health(s: &mut dyn Scenario) {
    health_across_upgrade(s, "credits");
}

scenario_tests!(identity_answers_health, credits_answers_health);
