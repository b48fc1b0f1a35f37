//! The credits canister as a native service of the local stack (`heaven serve rooms` and
//! `cargo run`): the same logic and stable state on a [`CanisterThread`] (one thread, a
//! file-backed memory, a panicking message rolled back), every start after the first an
//! upgrade, the development key signing, timers for the sweep and the pruning.
//!
//! Worker methods need no principal check here: the only caller is the local stack itself.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use candid::Principal;
use canister_runtime::Runtime;
use canister_runtime::native::{
    CanisterThread, HostMemory, NativeCanister, NativeRuntime, NativeRuntimeError, Periodic,
    Segmented, StartError, ThreadError, create_private_dir, run_segment,
};

use crate::admin::{self, ImportReport, ImportedAccount};
use crate::api::{
    AttestOutcome, CeloOutcome, ClaimOutcome, ClaimSettlement, CommitOutcome, CommitSettlement,
    CreditBalance, EnsureOutcome, EntitlementView, ExtendEntitlement, IssueReplayToken, MeterError,
    MeterOutcome, MeterRequest, OpenConnection, PresenceReport, ReplayAccess, SweepSummary,
};
use crate::chain::LiveChain;
use crate::duet::{RoomId, Sha256Hex};
use crate::endpoints::{AuditReport, CallError, Stats};
use crate::ledger::{Adjustment, AdjustmentError};
use crate::lifecycle::{self, InitArg, PRUNE_INTERVAL, SWEEP_INTERVAL, SWEEP_STEP_INTERVAL};
use crate::state::{self, ChainConfig, CreditEvent, CreditEventKind, audit::process_event};
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;
use crate::{grants, oracle, payments, sessions, usage};

/// File (inside the data dir) holding the canister's stable memory.
pub const STABLE_MEMORY_FILE: &str = "credits-canister.stable";
/// Threshold-ECDSA key name of the native canister (a local replica's name).
pub const NATIVE_ECDSA_KEY_NAME: &str = "dfx_test_key";
/// Name of the thread the state lives on.
pub const THREAD_NAME: &str = "credits-canister";
/// How the canister names itself in the state-file lock message.
const CANISTER_NAME: &str = "credits canister";

/// The canister id the native credits canister reports (the third a local replica hands out),
/// so its derived keys differ from the identity canister's.
pub fn dev_canister_id() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 1])
}

/// Why the native credits canister could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum NativeCreditsError {
    /// A chain setting is malformed.
    #[error("invalid credits settings (RPC_URL / *_ADDRESS variables): {0}")]
    InvalidSettings(String),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The stable-memory file could not be opened.
    #[error("cannot open the credits state file {path}: {source}")]
    Memory {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The state file holds something this build cannot read.
    #[error("the credits state file {path} is not a state this build can read")]
    Corrupt {
        /// The file.
        path: PathBuf,
    },
    /// The development key or HTTP client could not be prepared.
    #[error(transparent)]
    Runtime(#[from] NativeRuntimeError),
    /// The canister thread could not be created.
    #[error("cannot start the credits canister thread: {0}")]
    Thread(std::io::Error),
    /// The canister thread is gone.
    #[error("the credits canister thread has stopped")]
    Stopped,
    /// A call panicked on the canister thread (its writes were undone).
    #[error("a call panicked on the credits canister thread")]
    Panicked,
}

impl From<ThreadError> for NativeCreditsError {
    fn from(e: ThreadError) -> Self {
        match e {
            ThreadError::Stopped => Self::Stopped,
            ThreadError::Panicked => Self::Panicked,
        }
    }
}

/// The chain settings of the local stack, from the original's variables (`RPC_URL`,
/// `CHAIN_ID`, `REGISTRY_ADDRESS`, `VERIFICATION_MIRROR_ADDRESS`, `ESCROW_ADDRESS`,
/// `ESCROW_MODE` / `SESSION_ESCROW_MODE`, `ENVIRONMENT`) plus `ATTESTATION_ENABLED=true`.
pub fn chain_config_from_env(get: impl Fn(&str) -> Option<String>) -> ChainConfig {
    let var = |name: &str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let d = ChainConfig::default();
    let mode = var("ESCROW_MODE").or_else(|| var("SESSION_ESCROW_MODE"));
    ChainConfig {
        rpc_url: var("RPC_URL").unwrap_or(d.rpc_url),
        chain_id: var("CHAIN_ID")
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.chain_id),
        registry: var("REGISTRY_ADDRESS").unwrap_or(d.registry),
        verification_mirror: var("VERIFICATION_MIRROR_ADDRESS").unwrap_or(d.verification_mirror),
        escrow: var("ESCROW_ADDRESS").unwrap_or(d.escrow),
        escrow_mock: mode.as_deref() == Some("mock"),
        attestation_enabled: var("ATTESTATION_ENABLED").as_deref() == Some("true"),
        development: var("ENVIRONMENT").as_deref().unwrap_or("development") == "development",
    }
}

/// The async operations, sent to the thread as requests (the synchronous ones run as jobs).
enum Request {
    EnsureCredits(Wallet),
    VerifyCelo(Wallet),
    Attest(String, Option<String>),
    OracleAddress,
    Sweep,
}

enum Response {
    Ensure(EnsureOutcome),
    Celo(CeloOutcome),
    Attest(AttestOutcome),
    Address(Result<String, String>),
    Sweep(Option<SweepSummary>),
    Trapped,
}

/// The credits canister as its thread sees it.
struct CreditsCanister {
    rt: NativeRuntime,
}

impl NativeCanister for CreditsCanister {
    type Request = Request;
    type Response = Response;

    fn query(&self, _request: &Request) -> Option<Response> {
        None
    }

    fn update(&self, request: Request) -> impl Future<Output = Response> + 'static {
        let rt = self.rt.clone();
        async move {
            let config = state::with_config(|c| c.chain.clone());
            match request {
                Request::EnsureCredits(wallet) => {
                    let chain = LiveChain::new(&rt, &config);
                    Response::Ensure(grants::ensure_credits(&rt, &chain, &wallet).await)
                }
                Request::VerifyCelo(wallet) => {
                    let chain = LiveChain::new(&rt, &config);
                    Response::Celo(grants::verify_celo(&rt, &chain, &wallet).await)
                }
                Request::Attest(booking, force) => {
                    let now = UnixSeconds::from_nanos(rt.time_ns());
                    let attempt = sessions::attest(
                        &rt,
                        &booking,
                        force.as_deref(),
                        sessions::Mode::Http,
                        now,
                    )
                    .await;
                    Response::Attest(attempt.into_outcome())
                }
                Request::OracleAddress => Response::Address(
                    oracle::address(&rt)
                        .await
                        .map(|a| heaven_eth::address::to_checksum(&a))
                        .map_err(|e| e.to_string()),
                ),
                Request::Sweep => Response::Sweep(sessions::sweep(&rt).await),
            }
        }
    }

    fn describe(request: &Request) -> String {
        match request {
            Request::EnsureCredits(w) => format!("ensure_credits {w}"),
            Request::VerifyCelo(w) => format!("verify_celo {w}"),
            Request::Attest(b, _) => format!("attest_booking {b}"),
            Request::OracleAddress => "oracle_address".into(),
            Request::Sweep => "sweep".into(),
        }
    }

    fn trapped(&self) -> Response {
        Response::Trapped
    }

    fn periodic(&self) -> Vec<Periodic> {
        let sweep_rt = self.rt.clone();
        let prune_rt = self.rt.clone();
        vec![
            Periodic {
                name: "attestation sweep step",
                interval: SWEEP_STEP_INTERVAL,
                job: Box::new(move || {
                    let rt = sweep_rt.clone();
                    // A step awaits outcalls: it runs as its own task, each stretch between
                    // awaits a segment; the step guard keeps two from overlapping.
                    tokio::task::spawn_local(Segmented::new(async move {
                        sessions::sweep_step(&rt).await;
                    }));
                }),
            },
            Periodic {
                name: "settlement and replay-token pruning",
                interval: PRUNE_INTERVAL,
                job: Box::new(move || payments::prune(prune_rt.time_ns())),
            },
        ]
    }
}

/// Handle to the native credits canister. Cheap to clone; the thread stops when the last
/// clone is dropped.
#[derive(Clone, Debug)]
pub struct NativeCredits {
    thread: CanisterThread<CreditsCanister>,
    rt: NativeRuntime,
}

impl NativeCredits {
    /// Starts the canister thread on `<data_dir>/credits-canister.stable` (created on first
    /// start) and waits until it is installed or upgraded and configured with `chain`.
    pub fn start(data_dir: &Path, chain: ChainConfig) -> Result<Self, NativeCreditsError> {
        admin::validate_chain_config(&chain).map_err(NativeCreditsError::InvalidSettings)?;
        create_private_dir(data_dir).map_err(|source| NativeCreditsError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let rt = NativeRuntime::open_as(data_dir, dev_canister_id())?;
        let dir = data_dir.to_path_buf();
        let thread_rt = rt.clone();
        let thread =
            CanisterThread::start(THREAD_NAME, move || open_canister(&dir, thread_rt, chain))
                .map_err(|e| match e {
                    StartError::Thread(e) => NativeCreditsError::Thread(e),
                    StartError::Open(e) => e,
                    StartError::Stopped => NativeCreditsError::Stopped,
                })?;
        Ok(Self { thread, rt })
    }

    fn now_ns(&self) -> u64 {
        self.rt.time_ns()
    }

    /// Runs `f` on the canister thread (where [`state::with`] sees the canister's state).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, NativeCreditsError> {
        Ok(self.thread.run(f).await?)
    }

    async fn call(&self, request: Request) -> Result<Response, NativeCreditsError> {
        match self.thread.call(request).await? {
            Response::Trapped => Err(NativeCreditsError::Panicked),
            response => Ok(response),
        }
    }

    /// A wallet's balance.
    pub async fn balance(&self, wallet: Wallet) -> Result<CreditBalance, NativeCreditsError> {
        self.run(move || grants::balance(&wallet)).await
    }

    /// The original's `ensureCredits`.
    pub async fn ensure_credits(
        &self,
        wallet: Wallet,
    ) -> Result<EnsureOutcome, NativeCreditsError> {
        match self.call(Request::EnsureCredits(wallet)).await? {
            Response::Ensure(outcome) => Ok(outcome),
            _ => Err(NativeCreditsError::Stopped),
        }
    }

    /// `POST /credits/verify-celo`.
    pub async fn verify_celo(&self, wallet: Wallet) -> Result<CeloOutcome, NativeCreditsError> {
        match self.call(Request::VerifyCelo(wallet)).await? {
            Response::Celo(outcome) => Ok(outcome),
            _ => Err(NativeCreditsError::Stopped),
        }
    }

    /// Starts metering a connection.
    pub async fn open_connection(
        &self,
        request: OpenConnection,
    ) -> Result<Result<(), MeterError>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || usage::open_connection(request, now)).await
    }

    /// Meters connections in one step.
    pub async fn meter(
        &self,
        requests: Vec<MeterRequest>,
    ) -> Result<Vec<Result<MeterOutcome, MeterError>>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || usage::meter(requests, now)).await
    }

    /// The final metering of a connection.
    pub async fn close_connection(
        &self,
        connection_id: String,
        at: UnixSeconds,
    ) -> Result<Result<MeterOutcome, MeterError>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || usage::close_connection(&connection_id, at, now))
            .await
    }

    /// A booked-session join or leave.
    pub async fn record_presence(
        &self,
        report: PresenceReport,
    ) -> Result<Result<(), CallError>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || {
            sessions::record_presence(report, now).map_err(|e| CallError::Invalid(e.to_string()))
        })
        .await
    }

    /// `/session/:id/attest`.
    pub async fn attest_booking(
        &self,
        booking_id: String,
        force_outcome: Option<String>,
    ) -> Result<AttestOutcome, NativeCreditsError> {
        match self
            .call(Request::Attest(booking_id, force_outcome))
            .await?
        {
            Response::Attest(outcome) => Ok(outcome),
            _ => Err(NativeCreditsError::Stopped),
        }
    }

    /// Claims a payment signature.
    pub async fn claim_settlement(
        &self,
        request: ClaimSettlement,
    ) -> Result<ClaimOutcome, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || payments::claim(request, now)).await
    }

    /// Commits a claimed settlement.
    pub async fn commit_settlement(
        &self,
        request: CommitSettlement,
    ) -> Result<CommitOutcome, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || payments::commit(request, now)).await
    }

    /// Extends an entitlement without a payment.
    pub async fn extend_entitlement(
        &self,
        request: ExtendEntitlement,
    ) -> Result<UnixSeconds, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || payments::extend(request, now)).await
    }

    /// A viewer's entitlements.
    pub async fn entitlement(
        &self,
        room: RoomId,
        wallet: Wallet,
    ) -> Result<EntitlementView, NativeCreditsError> {
        self.run(move || payments::entitlement(&room, &wallet))
            .await
    }

    /// Records a replay token.
    pub async fn issue_replay_token(
        &self,
        request: IssueReplayToken,
    ) -> Result<UnixSeconds, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || payments::issue_replay_token(request, now))
            .await
    }

    /// Redeems a replay token.
    pub async fn redeem_replay_token(
        &self,
        token_hash: Sha256Hex,
    ) -> Result<Option<ReplayAccess>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || payments::redeem_replay_token(token_hash, now))
            .await
    }

    /// Operator: adds base credit.
    pub async fn grant(
        &self,
        wallet: Wallet,
        seconds: Seconds,
    ) -> Result<CreditBalance, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || grants::grant(&wallet, seconds, now)).await
    }

    /// Operator: sets an account's totals.
    pub async fn adjust(
        &self,
        wallet: Wallet,
        adjustment: Adjustment,
    ) -> Result<Result<CreditBalance, AdjustmentError>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || grants::adjust(&wallet, &adjustment, now))
            .await
    }

    /// Operator: a wallet's `credit_events`.
    pub async fn credit_events(
        &self,
        wallet: Wallet,
        kind: Option<CreditEventKind>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<CreditEvent>, NativeCreditsError> {
        self.run(move || admin::credit_events(&wallet, kind, after, limit))
            .await
    }

    /// Operator: imports the original's credit tables.
    pub async fn import(
        &self,
        accounts: Vec<ImportedAccount>,
        events: Vec<CreditEvent>,
    ) -> Result<Result<ImportReport, CallError>, NativeCreditsError> {
        let now = self.now_ns();
        self.run(move || admin::import(accounts, events, now)).await
    }

    /// Counters.
    pub async fn stats(&self) -> Result<Stats, NativeCreditsError> {
        self.run(admin::stats).await
    }

    /// The latest sweep summaries.
    pub async fn sweeps(&self, limit: usize) -> Result<Vec<SweepSummary>, NativeCreditsError> {
        self.run(move || sessions::sweeps(limit)).await
    }

    /// The state compared with its log.
    pub async fn audit(&self) -> Result<AuditReport, NativeCreditsError> {
        self.run(admin::audit).await
    }

    /// The oracle's address (fetching its key).
    pub async fn oracle_address(&self) -> Result<Result<String, String>, NativeCreditsError> {
        match self.call(Request::OracleAddress).await? {
            Response::Address(address) => Ok(address),
            _ => Err(NativeCreditsError::Stopped),
        }
    }

    /// Runs one attestation sweep now (operators, tests); `None` when one is running or the
    /// attestation is off.
    pub async fn sweep_now(&self) -> Result<Option<SweepSummary>, NativeCreditsError> {
        match self.call(Request::Sweep).await? {
            Response::Sweep(summary) => Ok(summary),
            _ => Err(NativeCreditsError::Stopped),
        }
    }

    /// How long until the next sweep fires at most (for operators' messages).
    pub fn sweep_interval(&self) -> Duration {
        SWEEP_INTERVAL
    }
}

/// Opens the memory file, installs or upgrades, applies the chain settings and registers the
/// outcall transform. Runs on the canister thread.
fn open_canister(
    data_dir: &Path,
    rt: NativeRuntime,
    chain: ChainConfig,
) -> Result<CreditsCanister, NativeCreditsError> {
    let path = data_dir.join(STABLE_MEMORY_FILE);
    let memory = HostMemory::open_file(&path, CANISTER_NAME).map_err(|source| {
        NativeCreditsError::Memory {
            path: path.clone(),
            source,
        }
    })?;
    run_segment(|| {
        state::install_memory(memory);
        state::with_config(|c| c.installs)
    })
    .map_err(|_| NativeCreditsError::Corrupt { path: path.clone() })
    .map(|installs| {
        let now = rt.time_ns();
        if installs == 0 {
            let arg = InitArg {
                ecdsa_key_name: NATIVE_ECDSA_KEY_NAME.into(),
            };
            lifecycle::init(arg, now);
        } else {
            lifecycle::post_upgrade(None, now);
        }
        state::mutate(|s| {
            if s.config().chain != chain {
                process_event(
                    s,
                    now,
                    state::event::EventType::ChainConfigured { config: chain },
                );
            }
        });
    })?;
    heaven_evm::chain::register_native_transform(&rt);
    Ok(CreditsCanister { rt })
}

#[cfg(test)]
mod tests;
