//! The `identity` canister: api-core's claim, names, names-policy and wallet routes on ICP,
//! signed with threshold ECDSA.
//!
//! The logic is plain Rust over [`canister_runtime::Runtime`] and the stable [`state`]; the
//! same [`router`] answers the canister's HTTP [`gateway`] (`http_request` /
//! `http_request_update`) and, natively, the local stack on port 8787. The entry points below
//! stay thin: they read the clock and the caller, check controllers, and call into the modules.

pub mod admin;
pub mod api;
pub mod chain;
pub mod claim;
pub mod events;
pub mod gateway;
pub mod lifecycle;
pub mod names;
#[cfg(feature = "native")]
pub mod native;
pub mod router;
pub mod signer;
pub mod state;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod wallet;

use std::sync::Arc;
use std::time::Duration;

use candid::{CandidType, Deserialize};
use canister_runtime::Runtime;
use canister_runtime::ic::IcRuntime;
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};

use crate::admin::{EdgeRequest, EdgeResponse, IdentityView, SecretName, Stats};
use crate::api::{ApiRequest, Now};
use crate::state::{IdentityRecord, NamesPolicyConfig, ShadowProfile, WalletRelayConfig};

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

/// How often the expiry sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

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

fn now() -> Now {
    Now::from_ns(IcRuntime.time_ns())
}

fn require_controller() -> Result<(), String> {
    if ic_cdk::api::is_controller(&ic_cdk::api::msg_caller()) {
        Ok(())
    } else {
        Err("only a controller may call this method".into())
    }
}

/// Rebuilds the heap state an install or upgrade loses: certified responses and timers.
fn after_install() {
    gateway::rebuild(now());
    ic_cdk::api::certified_data_set(gateway::root_hash());
    IcRuntime.set_timer_interval(
        SWEEP_INTERVAL,
        Arc::new(|| {
            gateway::sweep(now());
            ic_cdk::api::certified_data_set(gateway::root_hash());
        }),
    );
}

#[ic_cdk::init]
fn init(args: IdentityInitArgs) {
    lifecycle::init(args, now().ns);
    after_install();
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<IdentityInitArgs>) {
    lifecycle::post_upgrade(args, now().ns);
    after_install();
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

/// The HTTP gateway's query: certified reads, otherwise "upgrade to update".
#[ic_cdk::query]
fn http_request(req: HttpRequest<'static>) -> HttpResponse<'static> {
    gateway::serve_query(&req, now(), ic_cdk::api::data_certificate())
}

/// The HTTP gateway's update: every route of the original api-core groups.
#[ic_cdk::update]
async fn http_request_update(req: HttpUpdateRequest<'static>) -> HttpUpdateResponse<'static> {
    let response = gateway::serve_update(&IcRuntime, &req, now()).await;
    ic_cdk::api::certified_data_set(gateway::root_hash());
    response
}

/// The same routes over candid, for workers using ic-agent. The client IP is used for the
/// per-IP permit limit only when the caller is a trusted edge (controllers set the list).
#[ic_cdk::update]
async fn edge_request(req: EdgeRequest) -> EdgeResponse {
    let caller = ic_cdk::api::msg_caller().to_text();
    let trusted = state::with_config(|c| c.trusted_edges.contains(&caller));
    let api = ApiRequest::new(&req.method, &req.url, req.headers, req.body);
    let now = now();
    let events_before = state::with(|s| s.events.len());
    let client_ip = if trusted { req.client_ip } else { None };
    let response = router::update_with_client_ip(&IcRuntime, &api, now, client_ip).await;
    gateway::after_update(events_before, now);
    ic_cdk::api::certified_data_set(gateway::root_hash());
    EdgeResponse {
        status: response.status,
        body: response.body,
    }
}

/// Outcall transform for JSON-RPC answers (see `chain`).
#[ic_cdk::query(hidden = true)]
fn transform_rpc(args: TransformArgs) -> HttpRequestResult {
    let response = canister_runtime::ic::outcall_response(args.response);
    canister_runtime::ic::http_request_result(chain::transform(response, &args.context))
}

/// The Ethereum address of the names-policy signer: set it as the store's `policySigner`
/// (docs/identity-signer.md).
#[ic_cdk::update]
async fn policy_signer_address() -> Result<String, String> {
    signer::address(&IcRuntime, signer::Role::PolicySigner)
        .await
        .map(|a| heaven_eth::address::to_checksum(&a))
        .map_err(|e| e.message())
}

/// The policy signer's address if its key was fetched already (a query cannot fetch it; the
/// update `policy_signer_address` does).
#[ic_cdk::query]
fn policy_signer() -> Option<String> {
    signer::cached_address(signer::Role::PolicySigner).map(|a| heaven_eth::address::to_checksum(&a))
}

/// The Ethereum address that pays for relayed transactions (fund it on the relay chain).
#[ic_cdk::update]
async fn relayer_address() -> Result<String, String> {
    signer::address(&IcRuntime, signer::Role::Relayer)
        .await
        .map(|a| heaven_eth::address::to_checksum(&a))
        .map_err(|e| e.message())
}

/// Operator counters.
#[ic_cdk::query]
fn stats() -> Stats {
    admin::stats()
}

/// Whether an address is Self-verified (for the media worker's music access check).
#[ic_cdk::query]
fn identity_of(address: String) -> Option<IdentityView> {
    admin::identity_of(&address)
}

/// Controller: names policy settings.
#[ic_cdk::update]
fn set_names_policy_config(config: NamesPolicyConfig) -> Result<(), String> {
    require_controller()?;
    admin::set_names_policy_config(config, now())?;
    gateway::refresh_signer();
    ic_cdk::api::certified_data_set(gateway::root_hash());
    Ok(())
}

/// Controller: wallet relay settings.
#[ic_cdk::update]
fn set_wallet_relay_config(config: WalletRelayConfig) -> Result<(), String> {
    require_controller()?;
    admin::set_wallet_relay_config(config, now())
}

/// Controller: development switch and trusted edge principals.
#[ic_cdk::update]
fn set_access(development: bool, trusted_edges: Vec<String>) -> Result<(), String> {
    require_controller()?;
    admin::set_access(development, trusted_edges, now())
}

/// Controller: set or clear a route secret (never readable back).
#[ic_cdk::update]
fn set_secret(name: SecretName, value: Option<String>) -> Result<(), String> {
    require_controller()?;
    admin::set_secret(name, value, now());
    Ok(())
}

/// Controller: import shadow profiles.
#[ic_cdk::update]
fn import_shadow_profiles(profiles: Vec<ShadowProfile>) -> Result<u64, String> {
    require_controller()?;
    admin::import_shadow_profiles(profiles, now())
}

/// Controller: import Self identities.
#[ic_cdk::update]
fn import_identities(records: Vec<IdentityRecord>) -> Result<u64, String> {
    require_controller()?;
    admin::import_identities(records, now())
}

/// Controller: reserve (or release) a legacy label.
#[ic_cdk::update]
fn set_reserved(label: String, reason: Option<String>) -> Result<(), String> {
    require_controller()?;
    admin::set_reserved(&label, reason, now());
    gateway::recertify_name(&label.trim().to_lowercase(), now());
    ic_cdk::api::certified_data_set(gateway::root_hash());
    Ok(())
}

ic_cdk::export_candid!();
