//! The identity canister as a native service of the local stack (`heaven serve api`).
//!
//! It runs on a [`CanisterThread`] (canister_runtime's host for native canisters): the state
//! lives on the `identity-canister` thread, over a file-backed stable memory, exactly as a
//! canister is single-threaded. [`NativeIdentity::start`] opens the memory file there,
//! installs or upgrades, applies the [`NativeSettings`] (as events, like a controller's calls)
//! and then answers requests: queries in order on the thread, updates as local tasks. Every
//! start after the first behaves like an upgrade (`installs` counts them).

mod settings;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use candid::Principal;
use canister_runtime::Runtime;
use canister_runtime::native::{
    CanisterThread, HostMemory, NativeCanister, NativeRuntime, NativeRuntimeError, Periodic,
    StartError, ThreadError, create_private_dir, run_segment,
};

pub use settings::{NativeSettings, RouteSecrets};

use crate::api::{ApiError, ApiRequest, ApiResponse, Now};
use crate::endpoints::publishing::{
    AttestScrobbleBatchReply, AttestScrobbleBatchRequest, FinalizeTrackReply, FinalizeTrackRequest,
    PublishError, PublisherAddresses, RegisterStoryIpReply, RegisterStoryIpRequest,
};
use crate::lifecycle::{self, InitArg};
use crate::names::policy;
use crate::secret::sha256_hex;
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, SecretKind};
use crate::{chain, publishing, router};

/// File (inside the data dir) holding the canister's stable memory.
pub const STABLE_MEMORY_FILE: &str = "identity-canister.stable";
/// Threshold-ECDSA key name the native canister is installed with (a local replica's name).
pub const NATIVE_ECDSA_KEY_NAME: &str = "dfx_test_key";
/// How often the expiry sweep of the names policy runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Name of the thread the state lives on.
pub const THREAD_NAME: &str = "identity-canister";
/// What the file lock's message calls the canister holding the state file.
const CANISTER_NAME: &str = "identity";

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

impl From<ThreadError> for NativeIdentityError {
    fn from(e: ThreadError) -> Self {
        match e {
            ThreadError::Stopped => Self::Stopped,
            ThreadError::Panicked => Self::Panicked,
        }
    }
}

/// The identity canister as its thread sees it: the runtime every request uses.
struct IdentityCanister {
    rt: NativeRuntime,
}

/// A message for the native canister: an HTTP request of the gateway, or a candid method
/// the workers call in process.
enum NativeCall {
    /// An api-core route.
    Http(ApiRequest),
    /// `finalize_track`.
    FinalizeTrack(FinalizeTrackRequest),
    /// `attest_scrobble_batch`.
    AttestScrobbleBatch(AttestScrobbleBatchRequest),
    /// `register_story_ip`.
    RegisterStoryIp(RegisterStoryIpRequest),
    /// `publisher_addresses`.
    PublisherAddresses,
}

/// The answer to a [`NativeCall`].
enum NativeReply {
    /// The route's answer.
    Http(ApiResponse),
    /// `finalize_track`'s.
    FinalizeTrack(Result<FinalizeTrackReply, PublishError>),
    /// `attest_scrobble_batch`'s.
    AttestScrobbleBatch(Result<AttestScrobbleBatchReply, PublishError>),
    /// `register_story_ip`'s.
    RegisterStoryIp(Result<RegisterStoryIpReply, PublishError>),
    /// `publisher_addresses`'.
    PublisherAddresses(Result<PublisherAddresses, String>),
    /// The message panicked (its writes undone).
    Trapped,
}

impl NativeCanister for IdentityCanister {
    type Request = NativeCall;
    type Response = NativeReply;

    fn query(&self, request: &NativeCall) -> Option<NativeReply> {
        match request {
            NativeCall::Http(request) => {
                router::query(request, Now::from_ns(self.rt.time_ns())).map(NativeReply::Http)
            }
            NativeCall::FinalizeTrack(_)
            | NativeCall::AttestScrobbleBatch(_)
            | NativeCall::RegisterStoryIp(_)
            | NativeCall::PublisherAddresses => None,
        }
    }

    fn update(&self, request: NativeCall) -> impl Future<Output = NativeReply> + 'static {
        let rt = self.rt.clone();
        async move {
            let now = Now::from_ns(rt.time_ns());
            // The workers of the local stack call the publishing methods in process, as the
            // canister's controller.
            let worker = rt.with_caller(canister_runtime::native::dev_controller());
            match request {
                NativeCall::Http(request) => {
                    NativeReply::Http(router::update(&rt, &request, now).await)
                }
                NativeCall::FinalizeTrack(request) => NativeReply::FinalizeTrack(
                    publishing::finalize_track(&worker, request, now).await,
                ),
                NativeCall::AttestScrobbleBatch(request) => NativeReply::AttestScrobbleBatch(
                    publishing::attest_scrobble_batch(&worker, request, now).await,
                ),
                NativeCall::RegisterStoryIp(request) => NativeReply::RegisterStoryIp(
                    publishing::register_story_ip(&worker, request, now).await,
                ),
                NativeCall::PublisherAddresses => {
                    NativeReply::PublisherAddresses(publishing::publisher_addresses(&worker).await)
                }
            }
        }
    }

    fn describe(request: &NativeCall) -> String {
        match request {
            NativeCall::Http(request) => format!("{} {}", request.method, request.path),
            NativeCall::FinalizeTrack(request) => {
                format!("finalize_track {}", request.request_id)
            }
            NativeCall::AttestScrobbleBatch(request) => {
                format!("attest_scrobble_batch {}", request.request_id)
            }
            NativeCall::RegisterStoryIp(request) => {
                format!("register_story_ip {}", request.request_id)
            }
            NativeCall::PublisherAddresses => "publisher_addresses".to_owned(),
        }
    }

    fn trapped(&self) -> NativeReply {
        NativeReply::Trapped
    }

    fn periodic(&self) -> Vec<Periodic> {
        let rt = self.rt.clone();
        vec![Periodic {
            name: "names policy sweep",
            interval: SWEEP_INTERVAL,
            job: Box::new(move || {
                let (challenges, windows) = crate::names::sweep(Now::from_ns(rt.time_ns()));
                if (challenges, windows) != (0, 0) {
                    tracing::debug!(
                        target: "identity",
                        challenges,
                        windows,
                        "names policy sweep removed expired rows"
                    );
                }
            }),
        }]
    }
}

/// Handle to the native identity canister. Cheap to clone; the canister thread stops when the
/// last clone is dropped.
#[derive(Clone, Debug)]
pub struct NativeIdentity {
    thread: CanisterThread<IdentityCanister>,
}

impl NativeIdentity {
    /// Starts the canister thread on `<data_dir>/identity-canister.stable` (created on first
    /// start, private to the user, like a data dir this creates) and waits until it is
    /// installed (first start) or upgraded (later starts) and configured with `settings`.
    pub fn start(data_dir: &Path, settings: NativeSettings) -> Result<Self, NativeIdentityError> {
        policy::validate_config(&settings.names_policy)
            .map_err(|e| NativeIdentityError::InvalidSettings(e.to_string()))?;
        crate::admin::validate_self_config(&settings.self_verification)
            .and_then(|()| crate::admin::validate_likes_config(&settings.likes))
            .and_then(|()| crate::admin::validate_publishing_config(&settings.publishing))
            .map_err(|e| NativeIdentityError::InvalidSettings(e.to_string()))?;
        create_private_dir(data_dir).map_err(|source| NativeIdentityError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let data_dir = data_dir.to_path_buf();
        let thread =
            CanisterThread::start(THREAD_NAME, move || open_canister(&data_dir, &settings))
                .map_err(|e| match e {
                    StartError::Thread(e) => NativeIdentityError::Thread(e),
                    StartError::Open(e) => e,
                    StartError::Stopped => NativeIdentityError::Stopped,
                })?;
        Ok(Self { thread })
    }

    /// Answers `request` as the canister's HTTP gateway would: read-only on the thread when
    /// the router can, else as an update task. 503 when the thread is gone, 500 when the
    /// handler panicked (its writes undone).
    pub async fn handle(&self, request: ApiRequest) -> ApiResponse {
        match self.thread.call(NativeCall::Http(request)).await {
            Ok(NativeReply::Http(response)) => response,
            Ok(NativeReply::Trapped) => ApiError::error(500, "Internal error").into_response(),
            Ok(_) | Err(_) => ApiError::error(503, "Identity service unavailable").into_response(),
        }
    }

    /// `finalize_track`, called in process as the dev controller (the local stack's media
    /// worker). Errors of the canister thread itself (stopped, panicked) are `Err`.
    pub async fn finalize_track(
        &self,
        request: FinalizeTrackRequest,
    ) -> Result<Result<FinalizeTrackReply, PublishError>, NativeIdentityError> {
        match self.thread.call(NativeCall::FinalizeTrack(request)).await? {
            NativeReply::FinalizeTrack(reply) => Ok(reply),
            NativeReply::Trapped => Err(NativeIdentityError::Panicked),
            _ => Err(NativeIdentityError::Stopped),
        }
    }

    /// `attest_scrobble_batch`, called in process as the dev controller.
    pub async fn attest_scrobble_batch(
        &self,
        request: AttestScrobbleBatchRequest,
    ) -> Result<Result<AttestScrobbleBatchReply, PublishError>, NativeIdentityError> {
        match self
            .thread
            .call(NativeCall::AttestScrobbleBatch(request))
            .await?
        {
            NativeReply::AttestScrobbleBatch(reply) => Ok(reply),
            NativeReply::Trapped => Err(NativeIdentityError::Panicked),
            _ => Err(NativeIdentityError::Stopped),
        }
    }

    /// `register_story_ip`, called in process as the dev controller.
    pub async fn register_story_ip(
        &self,
        request: RegisterStoryIpRequest,
    ) -> Result<Result<RegisterStoryIpReply, PublishError>, NativeIdentityError> {
        match self
            .thread
            .call(NativeCall::RegisterStoryIp(request))
            .await?
        {
            NativeReply::RegisterStoryIp(reply) => Ok(reply),
            NativeReply::Trapped => Err(NativeIdentityError::Panicked),
            _ => Err(NativeIdentityError::Stopped),
        }
    }

    /// `publisher_addresses`: the publishing roles' addresses (for funding them and, in
    /// tests, authorising them on a fake chain).
    pub async fn publisher_addresses(
        &self,
    ) -> Result<Result<PublisherAddresses, String>, NativeIdentityError> {
        match self.thread.call(NativeCall::PublisherAddresses).await? {
            NativeReply::PublisherAddresses(reply) => Ok(reply),
            NativeReply::Trapped => Err(NativeIdentityError::Panicked),
            _ => Err(NativeIdentityError::Stopped),
        }
    }

    /// Runs `f` on the canister thread (where [`state::with`] and friends see the canister's
    /// state) and returns what it returned.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, NativeIdentityError> {
        Ok(self.thread.run(f).await?)
    }
}

/// Opens the memory file, installs or upgrades, applies the settings and registers the
/// outcall transform. Runs on the canister thread.
fn open_canister(
    data_dir: &Path,
    settings: &NativeSettings,
) -> Result<IdentityCanister, NativeIdentityError> {
    let path = data_dir.join(STABLE_MEMORY_FILE);
    let memory = HostMemory::open_file(&path, CANISTER_NAME).map_err(|source| {
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
        let now = Now::from_ns(rt.time_ns());
        if installs == 0 {
            let arg = InitArg {
                ecdsa_key_name: NATIVE_ECDSA_KEY_NAME.into(),
            };
            lifecycle::init(arg, now);
        } else {
            lifecycle::post_upgrade(None, now);
        }
        apply_settings(settings, now);
    })?;
    chain::register_native_transform(&rt);
    Ok(IdentityCanister { rt })
}

/// Applies `settings` as a controller would, one event per part that actually changed.
fn apply_settings(settings: &NativeSettings, now: Now) {
    state::mutate(|s| {
        let current = s.config().clone();
        if current.names_policy != settings.names_policy {
            let config = settings.names_policy.clone();
            process_event(s, now, EventType::NamesPolicyConfigured { config });
        }
        if current.wallet != settings.wallet {
            let config = settings.wallet.clone();
            process_event(s, now, EventType::WalletRelayConfigured { config });
        }
        if current.self_verification != settings.self_verification {
            let config = settings.self_verification.clone();
            process_event(s, now, EventType::SelfConfigured { config });
        }
        if current.publishing != settings.publishing {
            let config = settings.publishing.clone();
            process_event(s, now, EventType::PublishingConfigured { config });
        }
        if current.likes != settings.likes {
            let config = settings.likes.clone();
            process_event(s, now, EventType::LikesConfigured { config });
        }
        if current.development != settings.development {
            let event = EventType::AccessConfigured {
                development: settings.development,
                trusted_edges: current.trusted_edges.clone(),
            };
            process_event(s, now, event);
        }
        for which in SecretKind::ALL {
            let sha256 = settings.secrets.value(which).map(sha256_hex);
            if s.secrets().sha256(which) != sha256.as_deref() {
                process_event(s, now, EventType::SecretSet { which, sha256 });
            }
        }
    });
}

#[cfg(test)]
mod tests;
