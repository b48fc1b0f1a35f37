//! The canister's entry points, and nothing else: each checks the caller through the runtime
//! where it must, calls one module and encodes the answer.

use std::sync::Arc;

use canister_runtime::Runtime;
use canister_runtime::ic::IcRuntime;
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};

use crate::access::{accepts_ingress, require_controller, require_worker};
use crate::admin::{self, ImportReport, ImportedAccount};
use crate::anchor::{self, AnchorError, AnchorStatus};
use crate::api::{
    AttestOutcome, CeloOutcome, ClaimOutcome, ClaimSettlement, CommitOutcome, CommitSettlement,
    CreditBalance, EnsureOutcome, EntitlementView, ExtendEntitlement, IssueReplayToken, MeterError,
    MeterOutcome, MeterRequest, OpenConnection, PresenceReport, ReplayAccess, SweepSummary,
};
use crate::chain::LiveChain;
use crate::duet::{RoomId, Sha256Hex};
use crate::endpoints::{AuditReport, CallError, Health, Stats, VERSION};
use crate::ledger::Adjustment;
use crate::lifecycle::{
    self, ANCHOR_INTERVAL, InitArg, PRUNE_INTERVAL, SWEEP_STEP_INTERVAL, UpgradeArg,
};
use crate::state::AnchorRecord;
use crate::state::{self, ChainConfig, CreditEvent, CreditEventKind};
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;
use crate::{grants, oracle, payments, sessions, usage};

fn now_ns() -> u64 {
    IcRuntime.time_ns()
}

/// Arms the timers an install or upgrade loses: the attestation sweep, the anchoring of
/// receipts and the pruning.
fn arm_timers() {
    canister_runtime::ic::set_serial_timer_interval(SWEEP_STEP_INTERVAL, || async {
        sessions::sweep_step(&IcRuntime).await;
    });
    canister_runtime::ic::set_serial_timer_interval(ANCHOR_INTERVAL, || async {
        anchor::run_from_timer(&IcRuntime).await;
    });
    IcRuntime.set_timer_interval(PRUNE_INTERVAL, Arc::new(|| payments::prune(now_ns())));
}

#[ic_cdk::init]
fn init(arg: InitArg) {
    lifecycle::init(arg, now_ns());
    arm_timers();
}

#[ic_cdk::post_upgrade]
fn post_upgrade(arg: Option<UpgradeArg>) {
    lifecycle::post_upgrade(arg, now_ns());
    arm_timers();
}

#[ic_cdk::inspect_message]
fn inspect_message() {
    let (caller, _method) = canister_runtime::ic::ingress_message();
    if accepts_ingress(&caller) {
        canister_runtime::ic::accept_ingress_message();
    }
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

/// A wallet's balance (`GET /credits`).
#[ic_cdk::query]
fn balance(wallet: Wallet) -> CreditBalance {
    grants::balance(&wallet)
}

/// A viewer's entitlements in a duet room.
#[ic_cdk::query]
fn entitlement(room_id: RoomId, wallet: Wallet) -> EntitlementView {
    payments::entitlement(&room_id, &wallet)
}

/// The latest attestation sweep summaries, newest first.
#[ic_cdk::query]
fn sweeps(limit: u32) -> Vec<SweepSummary> {
    sessions::sweeps(limit.min(100) as usize)
}

/// A wallet's `credit_events` after id `after` (optionally of one `event_type`).
#[ic_cdk::query]
fn credit_events(
    wallet: Wallet,
    event_type: Option<CreditEventKind>,
    after: u64,
    limit: u32,
) -> Vec<CreditEvent> {
    admin::credit_events(&wallet, event_type, after, limit.min(1000) as usize)
}

/// Counters.
#[ic_cdk::query]
fn stats() -> Stats {
    admin::stats()
}

/// The state compared with its log replayed.
#[ic_cdk::query]
fn audit() -> AuditReport {
    admin::audit()
}

/// The oracle's address if its key was fetched already.
#[ic_cdk::query]
fn oracle() -> Option<String> {
    oracle::cached_address().map(|a| heaven_eth::address::to_checksum(&a))
}

/// The oracle's address (fetches the key): the address the escrow owner passes to `setOracle`.
#[ic_cdk::update]
async fn oracle_address() -> Result<String, CallError> {
    oracle::address(&IcRuntime)
        .await
        .map(|a| heaven_eth::address::to_checksum(&a))
        .map_err(|e| CallError::Invalid(e.to_string()))
}

/// Worker: the original's `ensureCredits` (reads the registry for the base grant).
#[ic_cdk::update]
async fn ensure_credits(wallet: Wallet) -> Result<EnsureOutcome, CallError> {
    require_worker(&IcRuntime)?;
    let config = state::with_config(|c| c.chain.clone());
    Ok(grants::ensure_credits(&IcRuntime, &LiveChain::new(&IcRuntime, &config), &wallet).await)
}

/// Worker: `POST /credits/verify-celo` (reads the verification mirror for the bonus).
#[ic_cdk::update]
async fn verify_celo(wallet: Wallet) -> Result<CeloOutcome, CallError> {
    require_worker(&IcRuntime)?;
    let config = state::with_config(|c| c.chain.clone());
    Ok(grants::verify_celo(&IcRuntime, &LiveChain::new(&IcRuntime, &config), &wallet).await)
}

/// Worker: start metering a free-room connection.
#[ic_cdk::update]
fn open_connection(request: OpenConnection) -> Result<Result<(), MeterError>, CallError> {
    require_worker(&IcRuntime)?;
    Ok(usage::open_connection(request, now_ns()))
}

/// Worker: meter connections (one per heartbeat; a room's alarm sends all).
#[ic_cdk::update]
fn meter(requests: Vec<MeterRequest>) -> Result<Vec<Result<MeterOutcome, MeterError>>, CallError> {
    require_worker(&IcRuntime)?;
    Ok(usage::meter(requests, now_ns()))
}

/// Worker: the final metering of a connection at leave.
#[ic_cdk::update]
fn close_connection(
    connection_id: String,
    at: UnixSeconds,
) -> Result<Result<MeterOutcome, MeterError>, CallError> {
    require_worker(&IcRuntime)?;
    Ok(usage::close_connection(&connection_id, at, now_ns()))
}

/// Worker: a booked-session join or leave.
#[ic_cdk::update]
fn record_presence(report: PresenceReport) -> Result<(), CallError> {
    require_worker(&IcRuntime)?;
    sessions::record_presence(report, now_ns()).map_err(|e| CallError::Invalid(e.to_string()))
}

/// Worker: `/session/:id/attest`.
#[ic_cdk::update]
async fn attest_booking(
    booking_id: String,
    force_outcome: Option<String>,
) -> Result<AttestOutcome, CallError> {
    require_worker(&IcRuntime)?;
    let now = UnixSeconds::from_nanos(now_ns());
    Ok(sessions::attest(
        &IcRuntime,
        &booking_id,
        force_outcome.as_deref(),
        sessions::Mode::Http,
        now,
    )
    .await
    .into_outcome())
}

/// Worker: claim a payment signature before settling it.
#[ic_cdk::update]
fn claim_settlement(request: ClaimSettlement) -> Result<ClaimOutcome, CallError> {
    require_worker(&IcRuntime)?;
    Ok(payments::claim(request, now_ns()))
}

/// Worker: commit (or release) a claimed settlement.
#[ic_cdk::update]
fn commit_settlement(request: CommitSettlement) -> Result<CommitOutcome, CallError> {
    require_worker(&IcRuntime)?;
    Ok(payments::commit(request, now_ns()))
}

/// Worker: extend an entitlement without a payment.
#[ic_cdk::update]
fn extend_entitlement(request: ExtendEntitlement) -> Result<UnixSeconds, CallError> {
    require_worker(&IcRuntime)?;
    Ok(payments::extend(request, now_ns()))
}

/// Worker: record a one-time replay token.
#[ic_cdk::update]
fn issue_replay_token(request: IssueReplayToken) -> Result<UnixSeconds, CallError> {
    require_worker(&IcRuntime)?;
    Ok(payments::issue_replay_token(request, now_ns()))
}

/// Worker: redeem a replay token (once).
#[ic_cdk::update]
fn redeem_replay_token(token_hash: Sha256Hex) -> Result<Option<ReplayAccess>, CallError> {
    require_worker(&IcRuntime)?;
    Ok(payments::redeem_replay_token(token_hash, now_ns()))
}

/// Controller: the worker principals.
#[ic_cdk::update]
fn set_workers(workers: Vec<String>) -> Result<(), CallError> {
    require_controller(&IcRuntime)?;
    admin::set_workers(workers, now_ns())
}

/// Controller: chain settings and the attestation switch.
#[ic_cdk::update]
fn set_chain_config(config: ChainConfig) -> Result<(), CallError> {
    require_controller(&IcRuntime)?;
    admin::set_chain_config(config, now_ns())
}

/// Controller: add base credit (`admin_adjust`).
#[ic_cdk::update]
fn grant_credits(wallet: Wallet, seconds: Seconds) -> Result<CreditBalance, CallError> {
    require_controller(&IcRuntime)?;
    Ok(grants::grant(&wallet, seconds, now_ns()))
}

/// Controller: set an account's totals (`admin_adjust`).
#[ic_cdk::update]
fn adjust_credits(wallet: Wallet, adjustment: Adjustment) -> Result<CreditBalance, CallError> {
    require_controller(&IcRuntime)?;
    grants::adjust(&wallet, &adjustment, now_ns()).map_err(|e| CallError::Invalid(e.to_string()))
}

/// Controller: import the original's credit tables (all or nothing, re-runnable).
#[ic_cdk::update]
fn import_credits(
    accounts: Vec<ImportedAccount>,
    events: Vec<CreditEvent>,
) -> Result<ImportReport, CallError> {
    require_controller(&IcRuntime)?;
    admin::import(accounts, events, now_ns())
}

/// Controller: the worker endpoint receipts are anchored through (`None`: off).
#[ic_cdk::update]
fn set_anchor_url(url: Option<String>) -> Result<(), CallError> {
    require_controller(&IcRuntime)?;
    anchor::set_url(url, now_ns())
}

/// Controller: anchor the next batch of pending receipts now (the timer does every 10 min).
#[ic_cdk::update]
async fn anchor_receipts() -> Result<Result<Option<AnchorRecord>, AnchorError>, CallError> {
    require_controller(&IcRuntime)?;
    Ok(anchor::run(&IcRuntime).await)
}

/// The anchoring key (SEC1 hex): the worker's `ANCHOR_CANISTER_PUBLIC_KEY`.
#[ic_cdk::update]
async fn anchor_public_key() -> Result<String, CallError> {
    anchor::public_key(&IcRuntime)
        .await
        .map(hex::encode)
        .map_err(|e| CallError::Invalid(e.to_string()))
}

/// The anchoring endpoint, receipts pending and the latest anchored batches.
#[ic_cdk::query]
fn anchors(limit: u32) -> AnchorStatus {
    anchor::status(limit.min(100) as usize)
}

/// Outcall transform for the worker's anchoring answers: status and body only.
#[ic_cdk::query(hidden = true)]
fn transform_anchor(args: TransformArgs) -> HttpRequestResult {
    let response = canister_runtime::ic::outcall_response(args.response);
    canister_runtime::ic::http_request_result(anchor::transform(response))
}

/// Outcall transform for JSON-RPC answers.
#[ic_cdk::query(hidden = true)]
fn transform_rpc(args: TransformArgs) -> HttpRequestResult {
    let response = canister_runtime::ic::outcall_response(args.response);
    canister_runtime::ic::http_request_result(heaven_evm::chain::transform(response, &args.context))
}

ic_cdk::export_candid!();
