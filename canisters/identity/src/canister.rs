//! The canister's entry points, and nothing else: each decodes its arguments, checks the
//! caller through the runtime where it must, calls one module and encodes the answer. Updates
//! end by re-certifying what their events touched ([`gateway::Recertify`]).

use std::sync::Arc;

use canister_runtime::Runtime;
use canister_runtime::ic::IcRuntime;
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};

use crate::admin;
use crate::api::{ApiRequest, Now};
use crate::chain;
use crate::endpoints::publishing::{
    AttestScrobbleBatchReply, AttestScrobbleBatchRequest, FinalizeTrackReply, FinalizeTrackRequest,
    PublishError, PublisherAddresses, RegisterStoryIpReply, RegisterStoryIpRequest,
};
use crate::endpoints::{
    AdminError, AuditReport, EdgeRequest, EdgeResponse, Health, IdentityView, ImportBatchOutcome,
    SecretName, Stats, VERSION,
};
use crate::gateway::{self, Recertify};
use crate::lifecycle::{self, InitArg, SWEEP_INTERVAL, UpgradeArg};
use crate::publishing;
use crate::router;
use crate::signer;
use crate::state::event::ImportRows;
use crate::state::{
    self, IdentityRecord, LikesConfig, NamesPolicyConfig, PublishingConfig, SelfConfig,
    ShadowProfile, WalletRelayConfig,
};

fn now() -> Now {
    Now::from_ns(IcRuntime.time_ns())
}

/// Rebuilds the heap state an install or upgrade loses: certified responses and timers.
fn after_install() {
    gateway::rebuild(now());
    IcRuntime.set_certified_data(&gateway::root_hash());
    IcRuntime.set_timer_interval(
        SWEEP_INTERVAL,
        Arc::new(|| gateway::sweep(&IcRuntime, now())),
    );
}

#[ic_cdk::init]
fn init(arg: InitArg) {
    lifecycle::init(arg, now());
    after_install();
}

#[ic_cdk::post_upgrade]
fn post_upgrade(arg: Option<UpgradeArg>) {
    lifecycle::post_upgrade(arg, now());
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
    gateway::serve_query(&req, now(), IcRuntime.data_certificate())
}

/// The HTTP gateway's update: every route of the original api-core groups.
#[ic_cdk::update]
async fn http_request_update(req: HttpUpdateRequest<'static>) -> HttpUpdateResponse<'static> {
    gateway::serve_update(&IcRuntime, &req, now()).await
}

/// The same routes over candid, for workers using ic-agent. The client IP is used for the
/// per-IP permit limit only when the caller is a trusted edge (controllers set the list).
#[ic_cdk::update]
async fn edge_request(req: EdgeRequest) -> EdgeResponse {
    let now = now();
    let client_ip = router::trusted_edge_ip(&IcRuntime.caller(), req.client_ip);
    let api = ApiRequest::new(&req.method, &req.url, req.headers, req.body);
    let recertify = Recertify::start();
    let response = router::update_with_client_ip(&IcRuntime, &api, now, client_ip).await;
    recertify.finish(&IcRuntime, now);
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
    let recertify = Recertify::start();
    let address = signer::checksum_address(&IcRuntime, signer::Role::PolicySigner).await;
    recertify.finish(&IcRuntime, now());
    address
}

/// The policy signer's address if its key was fetched already (a query cannot fetch it; the
/// update `policy_signer_address` does).
#[ic_cdk::query]
fn policy_signer() -> Option<String> {
    signer::cached_checksum_address(signer::Role::PolicySigner)
}

/// The Ethereum address that pays for relayed transactions (fund it on the relay chain).
#[ic_cdk::update]
async fn relayer_address() -> Result<String, String> {
    let recertify = Recertify::start();
    let address = signer::checksum_address(&IcRuntime, signer::Role::Relayer).await;
    recertify.finish(&IcRuntime, now());
    address
}

/// The publishing signer: registers a published track on Tempo (ScrobbleV4 by the operator
/// role, ContentRegistry by the sponsor role). Publishers and controllers only; a retry with
/// the same `request_id` never sends a transaction twice.
#[ic_cdk::update]
async fn finalize_track(request: FinalizeTrackRequest) -> Result<FinalizeTrackReply, PublishError> {
    let recertify = Recertify::start();
    let reply = publishing::finalize_track(&IcRuntime, request, now()).await;
    recertify.finish(&IcRuntime, now());
    reply
}

/// The publishing signer: the EAS attestation of an uploaded scrobble batch (the
/// scrobble-attester role). Publishers and controllers only; a retry with the same
/// `request_id` never attests twice.
#[ic_cdk::update]
async fn attest_scrobble_batch(
    request: AttestScrobbleBatchRequest,
) -> Result<AttestScrobbleBatchReply, PublishError> {
    let recertify = Recertify::start();
    let reply = publishing::attest_scrobble_batch(&IcRuntime, request, now()).await;
    recertify.finish(&IcRuntime, now());
    reply
}

/// The publishing signer: mints and registers a published track as a Story IP asset (the
/// story-sponsor role). Publishers and controllers only; a retry with the same `request_id`
/// never mints twice.
#[ic_cdk::update]
async fn register_story_ip(
    request: RegisterStoryIpRequest,
) -> Result<RegisterStoryIpReply, PublishError> {
    let recertify = Recertify::start();
    let reply = publishing::register_story_ip(&IcRuntime, request, now()).await;
    recertify.finish(&IcRuntime, now());
    reply
}

/// The publishing roles' Ethereum addresses (fund them; authorise them on the contracts).
#[ic_cdk::update]
async fn publisher_addresses() -> Result<PublisherAddresses, String> {
    let recertify = Recertify::start();
    let addresses = publishing::publisher_addresses(&IcRuntime).await;
    recertify.finish(&IcRuntime, now());
    addresses
}

/// Controller: the publishing signer's settings (publishers, Tempo and EAS).
#[ic_cdk::update]
fn set_publishing_config(config: PublishingConfig) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::set_publishing_config(config, now))
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

/// Controller: replays the audit log and compares the state it rebuilds with the live one.
#[ic_cdk::query]
fn audit_check() -> Result<AuditReport, AdminError> {
    admin::require_controller(&IcRuntime)?;
    Ok(admin::audit_check())
}

/// Controller: names policy settings.
#[ic_cdk::update]
fn set_names_policy_config(config: NamesPolicyConfig) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| {
        admin::set_names_policy_config(config, now)
    })
}

/// Controller: wallet relay settings.
#[ic_cdk::update]
fn set_wallet_relay_config(config: WalletRelayConfig) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| {
        admin::set_wallet_relay_config(config, now)
    })
}

/// Controller: development switch and trusted edge principals.
#[ic_cdk::update]
fn set_access(development: bool, trusted_edges: Vec<String>) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| {
        admin::set_access(development, trusted_edges, now)
    })
}

/// Controller: set or clear a route secret (only its SHA-256 is kept; never readable back).
#[ic_cdk::update]
fn set_secret(name: SecretName, value: Option<String>) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::set_secret(name, value, now));
    Ok(())
}

/// Controller: import shadow profiles.
#[ic_cdk::update]
fn import_shadow_profiles(profiles: Vec<ShadowProfile>) -> Result<u64, AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| {
        admin::import_shadow_profiles(profiles, now)
    })
}

/// Controller: import Self identities.
#[ic_cdk::update]
fn import_identities(records: Vec<IdentityRecord>) -> Result<u64, AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::import_identities(records, now))
}

/// Controller: reserve (or release) a legacy label.
#[ic_cdk::update]
fn set_reserved(label: String, reason: Option<String>) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::set_reserved(&label, reason, now));
    Ok(())
}

/// Controller: Self.xyz settings (mock mode, scope, deeplink texts, nullifier namespace).
#[ic_cdk::update]
fn set_self_config(config: SelfConfig) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::set_self_config(config, now))
}

/// Controller: rate limits of `POST /api/likes`.
#[ic_cdk::update]
fn set_likes_config(config: LikesConfig) -> Result<(), AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::set_likes_config(config, now))
}

/// Controller: one batch of a D1 migration run (`heaven migrate identity-import --canister`);
/// a batch applied before is skipped, so a failed run resumes by sending its batches again.
#[ic_cdk::update]
fn import_batch(
    run: String,
    batch: u64,
    rows: ImportRows,
) -> Result<ImportBatchOutcome, AdminError> {
    admin::require_controller(&IcRuntime)?;
    gateway::certified(&IcRuntime, |now| admin::import_batch(run, batch, rows, now))
}

/// Controller: the batches of import run `run` applied so far.
#[ic_cdk::query]
fn import_progress(run: String) -> Result<Vec<u64>, AdminError> {
    admin::require_controller(&IcRuntime)?;
    Ok(admin::import_progress(&run))
}

ic_cdk::export_candid!();
