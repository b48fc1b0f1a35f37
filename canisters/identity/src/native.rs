//! The identity canister as a native service of the local stack (`heaven serve api`).
//!
//! The stable structures are `!Send`, so the whole state lives on one dedicated thread, exactly
//! as a canister is single-threaded: [`NativeIdentity::start`] opens the memory file on that
//! thread, installs or upgrades, applies the [`NativeSettings`] and then answers requests sent
//! to it. Queries are answered in order on the thread; updates run as local tasks, so a slow
//! outcall does not hold up other requests, as on the IC. Every start after the first behaves
//! like an upgrade (`installs` counts them).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use candid::Principal;
use canister_runtime::Runtime;
use canister_runtime::native::{NativeRuntime, NativeRuntimeError};
use tokio::sync::{mpsc, oneshot};

use crate::IdentityInitArgs;
use crate::api::{ApiError, ApiRequest, ApiResponse, Now};
use crate::events::EventKind;
use crate::names::policy;
use crate::state::host::{Segmented, run_segment};
use crate::state::{self, Cbor, NamesPolicyConfig, Secrets, WalletRelayConfig};
use crate::{chain, lifecycle, router};

/// File (inside the data dir) holding the canister's stable memory.
pub const STABLE_MEMORY_FILE: &str = "identity-canister.stable";
/// Threshold-ECDSA key name the native canister is installed with (a local replica's name).
pub const NATIVE_ECDSA_KEY_NAME: &str = "dfx_test_key";
/// How often the expiry sweep of the names policy runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Name of the thread the state lives on.
pub const THREAD_NAME: &str = "identity-canister";

/// Requests waiting for the canister thread before senders wait in turn.
const QUEUE_DEPTH: usize = 1024;

/// The canister id the native identity canister reports: the second id a local replica hands
/// out (the native runtime's default is the first), so its derived keys differ from other
/// native canisters' as they would on a replica.
pub fn dev_canister_id() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}

/// Why the native identity canister could not start or answer.
///
/// The crate's [`ApiError`] is an HTTP answer; these are operator-facing failures of the
/// service around it, hence a separate small type.
#[derive(Debug, thiserror::Error)]
pub enum NativeIdentityError {
    /// A names-policy setting is out of range or malformed.
    #[error("invalid names policy settings (TEMPO_* / NAMES_* variables): {0}")]
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
    #[error("cannot open the identity state file {path}: {source}")]
    Memory {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The stable-memory file holds something this build cannot lay its state out on.
    #[error("the identity state file {path} is not a state this build can read")]
    Corrupt {
        /// The file.
        path: PathBuf,
    },
    /// The development key or HTTP client of the native runtime could not be prepared.
    #[error(transparent)]
    Runtime(#[from] NativeRuntimeError),
    /// The canister thread or its tokio runtime could not be created.
    #[error("cannot start the identity canister thread: {0}")]
    Thread(std::io::Error),
    /// The canister thread is gone (it stopped or failed to start).
    #[error("the identity canister thread has stopped")]
    Stopped,
    /// A job run with [`NativeIdentity::run`] panicked.
    #[error("a job panicked on the identity canister thread")]
    Panicked,
}

/// What the local stack configures from its environment: the parts of the canister's
/// configuration and secrets a controller would set on the IC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeSettings {
    /// `ENVIRONMENT == "development"`: guarded routes are open while their secret is unset.
    pub development: bool,
    /// Names policy (Tempo) settings.
    pub names_policy: NamesPolicyConfig,
    /// Wallet relay (Base Sepolia) settings.
    pub wallet: WalletRelayConfig,
    /// Route secrets; `edge_key` is the key the local edge presents with the client IP.
    pub secrets: Secrets,
}

impl Default for NativeSettings {
    fn default() -> Self {
        Self {
            development: true,
            names_policy: NamesPolicyConfig::default(),
            wallet: WalletRelayConfig::default(),
            secrets: Secrets::default(),
        }
    }
}

impl NativeSettings {
    /// Reads the original api-core's variables through `get` with its parse rules: an empty
    /// variable is unset, text values are trimmed, integers out of range or not integers fall
    /// back to their defaults, `NAMES_PRIMARY_NODE` / `NAMES_SECONDARY_NODE` fall back to
    /// `TEMPO_HEAVEN_NODE` / `TEMPO_PIRATE_NODE`. No edge key is read: the caller sets it.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        let text = |name: &str, default: &str| {
            var(name)
                .unwrap_or_else(|| default.to_string())
                .trim()
                .to_string()
        };
        let optional_text = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let int = |name: &str, default: u64, min: u64, max: u64| {
            parse_int_env(var(name).as_deref(), default, min, max)
        };
        let node = |name: &str, fallback: &str, default: &str| {
            var(name)
                .or_else(|| var(fallback))
                .unwrap_or_else(|| default.to_string())
                .trim()
                .to_lowercase()
        };
        let d = NamesPolicyConfig::default();
        let names_policy = NamesPolicyConfig {
            rpc_url: text("TEMPO_RPC_URL", &d.rpc_url),
            chain_id: int("TEMPO_CHAIN_ID", d.chain_id, 1, 100_000_000),
            registry: text("TEMPO_NAME_REGISTRY_V2", &d.registry),
            store: optional_text("TEMPO_PREMIUM_NAME_STORE_V2"),
            primary_node: node("NAMES_PRIMARY_NODE", "TEMPO_HEAVEN_NODE", &d.primary_node),
            secondary_node: node(
                "NAMES_SECONDARY_NODE",
                "TEMPO_PIRATE_NODE",
                &d.secondary_node,
            ),
            expected_signer: optional_text("TEMPO_POLICY_SIGNER_ADDRESS"),
            pow_difficulty: small(int(
                "NAMES_POW_DIFFICULTY_HEX",
                d.pow_difficulty.into(),
                1,
                12,
            )),
            pow_ttl_seconds: int("NAMES_POW_TTL_SECONDS", d.pow_ttl_seconds, 30, 3600),
            permit_ttl_seconds: int("NAMES_PERMIT_TTL_SECONDS", d.permit_ttl_seconds, 30, 3600),
            wallet_limit_10m: small(int(
                "NAMES_LONG_WALLET_LIMIT_10M",
                d.wallet_limit_10m.into(),
                1,
                300,
            )),
            ip_limit_10m: small(int(
                "NAMES_LONG_IP_LIMIT_10M",
                d.ip_limit_10m.into(),
                1,
                1000,
            )),
            device_limit_10m: small(int(
                "NAMES_LONG_DEVICE_LIMIT_10M",
                d.device_limit_10m.into(),
                1,
                500,
            )),
        };
        let w = WalletRelayConfig::default();
        let wallet = WalletRelayConfig {
            rpc_url: text("BASE_SEPOLIA_RPC", &w.rpc_url),
            enabled: var("WALLET_RELAY_ENABLED").as_deref() == Some("true"),
            ..w
        };
        Self {
            development: var("ENVIRONMENT").as_deref().unwrap_or("development") == "development",
            names_policy,
            wallet,
            secrets: Secrets {
                claim_start: var("CLAIM_START_SECRET"),
                dns_shared: var("DNS_SHARED_SECRET"),
                edge_key: None,
            },
        }
    }
}

/// A value already range-checked to fit (the ranges above are all below `u32::MAX`).
fn small(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The original's `parseIntEnv`: `Number(raw)` must be an integer within `min..=max`, else
/// `fallback` (as is an unset variable).
fn parse_int_env(raw: Option<&str>, fallback: u64, min: u64, max: u64) -> u64 {
    match raw.and_then(js_integer) {
        Some(n) if n >= i128::from(min) && n <= i128::from(max) => n as u64,
        _ => fallback,
    }
}

/// JavaScript's `Number(text)` when it is an integer: surrounding whitespace ignored, blank is
/// 0, `0x`/`0o`/`0b` prefixes, decimals and exponents (`5.0`, `1e2`) accepted.
fn js_integer(text: &str) -> Option<i128> {
    let t = text.trim();
    if t.is_empty() {
        return Some(0);
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &t[2..];
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        return i128::from_str_radix(digits, radix).ok();
    }
    let looks_numeric = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
    let f: f64 = t.parse().ok().filter(|_| looks_numeric)?;
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
}

/// A message to the canister thread.
enum Message {
    /// An HTTP request to answer.
    Request {
        request: ApiRequest,
        reply: oneshot::Sender<ApiResponse>,
    },
    /// A closure to run on the thread (imports, tests).
    Run(Box<dyn FnOnce() + Send>),
}

/// Owns the thread: dropping the last handle closes the channel and joins it.
struct Shared {
    sender: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; in-flight updates are dropped with it.
        self.sender.take();
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
            && thread.join().is_err()
        {
            crate::log("the identity canister thread panicked");
        }
    }
}

/// Handle to the native identity canister. Cheap to clone; the canister thread stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct NativeIdentity {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for NativeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeIdentity").finish_non_exhaustive()
    }
}

impl NativeIdentity {
    /// Starts the canister thread on `<data_dir>/identity-canister.stable` (created on first
    /// start) and waits until it is installed (first start) or upgraded (later starts) and
    /// configured with `settings`.
    pub fn start(data_dir: &Path, settings: NativeSettings) -> Result<Self, NativeIdentityError> {
        policy::validate_config(&settings.names_policy)
            .map_err(NativeIdentityError::InvalidSettings)?;
        std::fs::create_dir_all(data_dir).map_err(|source| NativeIdentityError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let data_dir = data_dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || canister_thread(&data_dir, &settings, ready_tx, receiver))
            .map_err(NativeIdentityError::Thread)?;
        let shared = Arc::new(Shared {
            sender: Some(sender),
            thread: Some(thread),
        });
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self { shared }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(NativeIdentityError::Stopped),
        }
    }

    async fn send(&self, message: Message) -> Result<(), NativeIdentityError> {
        let sender = self
            .shared
            .sender
            .as_ref()
            .ok_or(NativeIdentityError::Stopped)?;
        sender
            .send(message)
            .await
            .map_err(|_| NativeIdentityError::Stopped)
    }

    /// Answers `request` as the canister's HTTP gateway would: read-only on the thread when
    /// the router can, else as an update task. 503 when the thread is gone, 500 when the
    /// handler panicked.
    pub async fn handle(&self, request: ApiRequest) -> ApiResponse {
        let (reply, answer) = oneshot::channel();
        if self
            .send(Message::Request { request, reply })
            .await
            .is_err()
        {
            return ApiError::error(503, "Identity service unavailable").into_response();
        }
        answer
            .await
            .unwrap_or_else(|_| ApiError::error(500, "Internal error").into_response())
    }

    /// Runs `f` on the canister thread (where [`state::with`] and friends see the canister's
    /// state) and returns what it returned.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, NativeIdentityError> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(move || {
            let _ = reply.send(run_segment(f).ok());
        });
        self.send(Message::Run(job)).await?;
        answer
            .await
            .map_err(|_| NativeIdentityError::Stopped)?
            .ok_or(NativeIdentityError::Panicked)
    }
}

/// The body of the canister thread: a current-thread runtime and a `LocalSet` (update futures
/// hold `!Send` state borrows between awaits only through the runtime, never across threads).
fn canister_thread(
    data_dir: &Path,
    settings: &NativeSettings,
    ready: std::sync::mpsc::SyncSender<Result<(), NativeIdentityError>>,
    receiver: mpsc::Receiver<Message>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(NativeIdentityError::Thread(e)));
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let rt = match open_canister(data_dir, settings) {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let sweeper = tokio::task::spawn_local(sweep_periodically(rt.clone()));
        serve(&rt, receiver).await;
        sweeper.abort();
    });
}

/// Opens the memory file, installs or upgrades, applies the settings and registers the
/// outcall transform. Runs on the canister thread.
fn open_canister(
    data_dir: &Path,
    settings: &NativeSettings,
) -> Result<NativeRuntime, NativeIdentityError> {
    let path = data_dir.join(STABLE_MEMORY_FILE);
    let memory = state::host::HostMemory::open_file(&path).map_err(|source| {
        NativeIdentityError::Memory {
            path: path.clone(),
            source,
        }
    })?;
    let rt = NativeRuntime::open_as(data_dir, dev_canister_id())?;
    // A state this build cannot read panics while it is laid out; the segment then puts back
    // whatever the attempt wrote, so the file is left as it was found.
    run_segment(|| {
        state::install_memory(memory);
        state::with_config(|c| c.installs)
    })
    .map_err(|_| NativeIdentityError::Corrupt { path: path.clone() })
    .map(|installs| {
        let now = rt.time_ns();
        if installs == 0 {
            let args = IdentityInitArgs {
                ecdsa_key_name: NATIVE_ECDSA_KEY_NAME.into(),
            };
            lifecycle::init(args, now);
        } else {
            lifecycle::post_upgrade(None, now);
        }
        apply_settings(settings, Now::from_ns(now));
    })?;
    chain::register_native_transform(&rt);
    Ok(rt)
}

/// Writes `settings` into the configuration and secrets, recording `ConfigChanged` and one
/// `SecretChanged` per secret only for what actually changed.
fn apply_settings(settings: &NativeSettings, now: Now) {
    state::with_mut(|s| {
        let current = s.config().clone();
        let wanted = state::Config {
            development: settings.development,
            names_policy: settings.names_policy.clone(),
            wallet: settings.wallet.clone(),
            ..current.clone()
        };
        if wanted != current {
            s.set_config(wanted);
            s.record(now.ns, EventKind::ConfigChanged);
        }
        let held = s.secrets().clone();
        let new = &settings.secrets;
        let changed: Vec<&str> = [
            ("claim_start", held.claim_start != new.claim_start),
            ("dns_shared", held.dns_shared != new.dns_shared),
            ("edge_key", held.edge_key != new.edge_key),
        ]
        .into_iter()
        .filter_map(|(which, differs)| differs.then_some(which))
        .collect();
        if !changed.is_empty() {
            let mut secrets = held;
            secrets.claim_start = new.claim_start.clone();
            secrets.dns_shared = new.dns_shared.clone();
            secrets.edge_key = new.edge_key.clone();
            s.secrets.set(Cbor(secrets));
            for which in changed {
                s.record(
                    now.ns,
                    EventKind::SecretChanged {
                        which: which.into(),
                    },
                );
            }
        }
    });
}

/// Answers messages until every handle is dropped.
async fn serve(rt: &NativeRuntime, mut receiver: mpsc::Receiver<Message>) {
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Request { request, reply } => {
                let now = Now::from_ns(rt.time_ns());
                match run_segment(|| router::query(&request, now)) {
                    Ok(Some(response)) => {
                        let _ = reply.send(response);
                    }
                    Ok(None) => {
                        let rt = rt.clone();
                        tokio::task::spawn_local(async move {
                            let (method, path) = (request.method.clone(), request.path.clone());
                            // Each stretch between awaits commits on its own; a panic undoes
                            // the stretch it happened in, as a trap does on the IC.
                            let update =
                                Segmented::new(
                                    async move { router::update(&rt, &request, now).await },
                                );
                            let response = update.await.unwrap_or_else(|_| {
                                crate::log(&format!("update {method} {path} panicked"));
                                ApiError::error(500, "Internal error").into_response()
                            });
                            let _ = reply.send(response);
                        });
                    }
                    Err(_) => {
                        crate::log(&format!(
                            "query {} {} panicked",
                            request.method, request.path
                        ));
                        let _ = reply.send(ApiError::error(500, "Internal error").into_response());
                    }
                }
            }
            Message::Run(job) => job(),
        }
    }
}

/// The names policy's expiry sweep every [`SWEEP_INTERVAL`], on the canister thread.
async fn sweep_periodically(rt: NativeRuntime) {
    let start = tokio::time::Instant::now() + SWEEP_INTERVAL;
    let mut ticks = tokio::time::interval_at(start, SWEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let now = Now::from_ns(rt.time_ns());
        match run_segment(|| policy::sweep(now)) {
            Ok((0, 0)) => {}
            Ok((challenges, windows)) => tracing::debug!(
                target: "identity",
                challenges,
                windows,
                "names policy sweep removed expired rows"
            ),
            Err(_) => crate::log("the names policy sweep panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::names::registry;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn from_env_defaults_are_the_originals() {
        let s = NativeSettings::from_env(env(&[]));
        assert_eq!(s, NativeSettings::default());
        assert!(s.development);
        assert_eq!(s.names_policy.store, None);
        assert!(!s.wallet.enabled);
        assert_eq!(s.secrets, Secrets::default());
    }

    #[test]
    fn from_env_reads_every_variable() {
        let s = NativeSettings::from_env(env(&[
            ("ENVIRONMENT", "production"),
            ("CLAIM_START_SECRET", "claim"),
            ("DNS_SHARED_SECRET", ""),
            ("TEMPO_RPC_URL", " http://127.0.0.1:9/ "),
            ("TEMPO_CHAIN_ID", "7"),
            (
                "TEMPO_NAME_REGISTRY_V2",
                "0x0000000000000000000000000000000000000001",
            ),
            (
                "TEMPO_PREMIUM_NAME_STORE_V2",
                "0x46Bcae2625157b562c974bb5a912dfcb811a234A",
            ),
            ("TEMPO_HEAVEN_NODE", "0xAA"),
            ("NAMES_SECONDARY_NODE", "0xBB"),
            ("TEMPO_PIRATE_NODE", "0xCC"),
            ("TEMPO_POLICY_SIGNER_ADDRESS", "  "),
            ("NAMES_POW_DIFFICULTY_HEX", "0x3"),
            ("NAMES_POW_TTL_SECONDS", "60.0"),
            ("NAMES_PERMIT_TTL_SECONDS", "1e2"),
            ("NAMES_LONG_WALLET_LIMIT_10M", "301"),
            ("NAMES_LONG_IP_LIMIT_10M", "abc"),
            ("NAMES_LONG_DEVICE_LIMIT_10M", " 5 "),
            ("BASE_SEPOLIA_RPC", "http://base.local"),
            ("WALLET_RELAY_ENABLED", "true"),
        ]));
        assert!(!s.development);
        assert_eq!(s.secrets.claim_start.as_deref(), Some("claim"));
        assert_eq!(s.secrets.dns_shared, None);
        let p = &s.names_policy;
        assert_eq!(p.rpc_url, "http://127.0.0.1:9/");
        assert_eq!(p.chain_id, 7);
        assert_eq!(p.registry, "0x0000000000000000000000000000000000000001");
        assert_eq!(
            p.store.as_deref(),
            Some("0x46Bcae2625157b562c974bb5a912dfcb811a234A")
        );
        assert_eq!(p.primary_node, "0xaa", "TEMPO_HEAVEN_NODE is the fallback");
        assert_eq!(p.secondary_node, "0xbb", "NAMES_SECONDARY_NODE wins");
        assert_eq!(p.expected_signer, None);
        assert_eq!(p.pow_difficulty, 3);
        assert_eq!(p.pow_ttl_seconds, 60);
        assert_eq!(p.permit_ttl_seconds, 100);
        assert_eq!(p.wallet_limit_10m, 8, "out of range falls back");
        assert_eq!(p.ip_limit_10m, 24, "not a number falls back");
        assert_eq!(p.device_limit_10m, 5);
        assert_eq!(s.wallet.rpc_url, "http://base.local");
        assert!(s.wallet.enabled);
        let relay_off = NativeSettings::from_env(env(&[("WALLET_RELAY_ENABLED", "TRUE")]));
        assert!(!relay_off.wallet.enabled, "only the exact text \"true\"");
    }

    #[test]
    fn integers_follow_javascript_number() {
        assert_eq!(js_integer(" 12 "), Some(12));
        assert_eq!(js_integer(""), Some(0));
        assert_eq!(js_integer("0x1f"), Some(31));
        assert_eq!(js_integer("1.5"), None);
        assert_eq!(js_integer("12px"), None);
        assert_eq!(js_integer("inf"), None);
        assert_eq!(parse_int_env(Some("0"), 4, 1, 12), 4);
        assert_eq!(parse_int_env(None, 4, 1, 12), 4);
        assert_eq!(parse_int_env(Some("12"), 4, 1, 12), 12);
    }

    #[tokio::test]
    async fn invalid_policy_settings_stop_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = NativeSettings::default();
        settings.names_policy.store = Some("0x1234".into());
        let err = NativeIdentity::start(dir.path(), settings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid names policy settings (TEMPO_* / NAMES_* variables): store must be a 0x address"
        );
        assert!(!dir.path().join(STABLE_MEMORY_FILE).exists());
    }

    #[tokio::test]
    async fn a_restart_is_an_upgrade_that_keeps_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let settings = NativeSettings {
            secrets: Secrets {
                edge_key: Some("edge-1".into()),
                ..Secrets::default()
            },
            ..NativeSettings::default()
        };
        let identity = NativeIdentity::start(dir.path(), settings.clone()).unwrap();
        let clone = identity.clone();
        clone
            .run(|| registry::set_reserved("alice", Some("team".into()), Now::from_secs(1)))
            .await
            .unwrap();
        let health = identity
            .handle(ApiRequest::new("GET", "/health", vec![], vec![]))
            .await;
        assert_eq!(
            (health.status, health.body),
            (200, br#"{"ok":true}"#.to_vec())
        );
        let available = identity
            .handle(ApiRequest::new(
                "GET",
                "/api/names/available/alice",
                vec![],
                vec![],
            ))
            .await;
        assert_eq!(available.body_json()["available"], false);
        drop(identity);
        drop(clone);

        let again = NativeIdentity::start(dir.path(), settings).unwrap();
        let (installs, reason, kinds) = again
            .run(|| {
                state::with(|s| {
                    let kinds: Vec<EventKind> = s.events.iter().map(|e| e.0.kind).collect();
                    (s.config().installs, s.reserved.get(&"alice".into()), kinds)
                })
            })
            .await
            .unwrap();
        assert_eq!(installs, 2);
        assert_eq!(reason.as_deref(), Some("team"));
        let changes = |kind: &EventKind| {
            matches!(
                kind,
                EventKind::ConfigChanged | EventKind::SecretChanged { .. }
            )
        };
        // First start: development on, edge key set; the restart with the same settings
        // records no change.
        assert_eq!(kinds.iter().filter(|k| changes(k)).count(), 2, "{kinds:?}");
        assert!(matches!(
            kinds.last(),
            Some(EventKind::Installed { installs: 2, .. })
        ));
    }

    #[tokio::test]
    async fn updates_run_on_the_thread_and_panicking_jobs_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let identity = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
        let signer = identity
            .handle(ApiRequest::new(
                "GET",
                "/api/names/policy/signer",
                vec![],
                vec![],
            ))
            .await;
        assert_eq!(signer.status, 200);
        assert_eq!(signer.body_json()["ecdsaKeyName"], NATIVE_ECDSA_KEY_NAME);
        let err = identity
            .run::<()>(|| panic!("job fails"))
            .await
            .unwrap_err();
        assert!(matches!(err, NativeIdentityError::Panicked));
        let name = identity
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
    }

    #[tokio::test]
    async fn a_panicking_job_leaves_no_trace_in_the_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let identity = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
        let events_before = identity
            .run(|| state::with(|s| s.events.len()))
            .await
            .unwrap();
        let err = identity
            .run::<()>(|| {
                registry::set_reserved("bob", Some("team".into()), Now::from_secs(1));
                panic!("fails after a write");
            })
            .await
            .unwrap_err();
        assert!(matches!(err, NativeIdentityError::Panicked));
        let (reserved, events) = identity
            .run(|| state::with(|s| (s.reserved.get(&"bob".into()), s.events.len())))
            .await
            .unwrap();
        assert_eq!(reserved, None);
        assert_eq!(events, events_before);
        drop(identity);

        // Nor in the file: a restart sees the same.
        let again = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
        let reserved = again
            .run(|| state::with(|s| s.reserved.get(&"bob".into())))
            .await
            .unwrap();
        assert_eq!(reserved, None);
    }

    #[tokio::test]
    async fn a_second_canister_on_the_same_data_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
        let err = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(STABLE_MEMORY_FILE)
                && message.contains("in use by another identity canister"),
            "{message}"
        );
        drop(first);
        NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
    }
}
