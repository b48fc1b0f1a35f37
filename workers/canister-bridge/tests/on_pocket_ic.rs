//! The bridge's agent scenarios on PocketIC, run when `POCKET_IC_BIN` names a server binary
//! (otherwise each test writes the skip line `cargo xtask test` counts): the real credits and
//! identity wasm are installed on a PocketIC instance, the instance goes live (`make_live`: it
//! serves the IC HTTP interface itself, with its own root key and certificates), and the
//! unmodified ic-agent clients run the same scenarios as against the harness
//! (`credits_through_agent.rs`, `identity_through_agent.rs`).

mod common;

use std::future::Future;

use canister_bridge::{AgentCredits, AgentIdentity};
use common::scenarios::{self, WALLET};
use common::{connect, grant, install_credits, install_identity, worker_principal};
use ic_wasm_harness::PocketIcScenario;

/// Runs `scenario` on a two-thread tokio runtime (PocketIC's blocking client keeps its own, so
/// the instance is set up outside any runtime).
fn run<F: Future<Output = ()>>(scenario: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(scenario);
}

#[test]
fn a_free_room_is_metered_once_per_second_through_ic_agent_on_pocket_ic() {
    let Some(mut pic) = PocketIcScenario::live_from_env_or_skip() else {
        return;
    };
    let c = install_credits(&mut pic, &[worker_principal(1)]);
    grant(&mut pic, c, WALLET, 1800);
    let url = pic.make_live().expect("PocketIC goes live");
    run(async move {
        let credits = AgentCredits::new(connect(url, 1).await, c);
        scenarios::free_room_metering(&credits).await;
    });
}

#[test]
fn names_routes_and_identity_reads_go_through_ic_agent_on_pocket_ic() {
    let Some(mut pic) = PocketIcScenario::live_from_env_or_skip() else {
        return;
    };
    let c = install_identity(&mut pic);
    let url = pic.make_live().expect("PocketIC goes live");
    run(async move {
        let identity = AgentIdentity::new(connect(url, 7).await, c);
        scenarios::names_routes_and_identity_reads(&identity).await;
    });
}
