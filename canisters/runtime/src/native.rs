//! [`Runtime`] on the host, for the local stack (`cargo run`) and unit tests: the system clock,
//! a secp256k1 development key persisted under the data dir (per-path keys derived from it),
//! reqwest for outcalls (with named transforms registered in-process) and tokio timers.
//!
//! The development key signs nothing of value: it exists so that a local stack behaves like
//! the canister without a replica. It is created on first use with mode 0600.
//!
//! Native canisters run on a [`CanisterThread`] over a [`HostMemory`] ([`memory`]): the
//! pieces every canister crate's local service shares.

// A panicking message is rolled back by catching the unwind (memory::run_segment); with
// `panic = "abort"` the process would die instead, taking the local stack with it.
#[cfg(panic = "abort")]
compile_error!(
    "canister_runtime's `native` feature needs panic = \"unwind\": build the local stack with a \
     profile that unwinds (the canister wasm profile aborts, the native service must not)"
);

pub mod canister_thread;
pub mod memory;

pub use canister_thread::{CanisterThread, NativeCanister, Periodic, StartError, ThreadError};
pub use memory::{HostMemory, Segmented, after_undo, create_private_dir, run_segment};

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::Principal;
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};
use k256::elliptic_curve::ops::Reduce;
use k256::{FieldBytes, NonZeroScalar, Scalar, U256};
use sha2::{Digest, Sha256};
use tokio::task::AbortHandle;

use crate::{
    EcdsaKey, IntervalJob, OutcallHeader, OutcallMethod, OutcallRequest, OutcallResponse, Runtime,
    RuntimeError, TimerHandle, TimerJob,
};

/// File name of the development key inside the data dir.
pub const DEV_KEY_FILE: &str = "dev-ecdsa-secp256k1.key";

/// The canister id the native runtime reports unless told otherwise (the first id a local
/// replica hands out).
pub const DEFAULT_DEV_CANISTER_ID: &str = "rrkah-fqaaa-aaaaa-aaaaq-cai";

/// Maximum time an outcall may take, as on the IC.
const OUTCALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The controller a native canister has unless told otherwise: the local stack's operator
/// (a fixed self-authenticating principal; nothing signs with it).
pub fn dev_controller() -> Principal {
    Principal::self_authenticating(b"heaven local stack controller")
}

/// A native stand-in for a canister query used as an outcall transform.
pub type NativeTransform = Arc<dyn Fn(OutcallResponse, &[u8]) -> OutcallResponse + Send + Sync>;

struct Inner {
    master_key: SigningKey,
    key_path: PathBuf,
    canister_id: Principal,
    http: reqwest::Client,
    transforms: Mutex<HashMap<String, NativeTransform>>,
    timers: Mutex<HashMap<TimerHandle, AbortHandle>>,
    next_timer: AtomicU64,
    controllers: BTreeSet<Principal>,
    certified_data: Mutex<[u8; 32]>,
}

/// The host runtime. Cheap to clone; clones share key, client, transforms and timers.
#[derive(Clone)]
pub struct NativeRuntime {
    inner: Arc<Inner>,
    caller: Principal,
}

impl std::fmt::Debug for NativeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeRuntime")
            .field("key_path", &self.inner.key_path)
            .field("canister_id", &self.inner.canister_id)
            .field("caller", &self.caller)
            .finish()
    }
}

/// Errors opening the native runtime.
#[derive(Debug, thiserror::Error)]
pub enum NativeRuntimeError {
    /// The data dir or key file could not be read or written.
    #[error("dev key {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The key file exists but does not hold a valid secp256k1 secret.
    #[error("dev key {path} is not a 32-byte hex secp256k1 secret")]
    BadKey {
        /// The file involved.
        path: PathBuf,
    },
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
}

impl NativeRuntime {
    /// Opens the runtime with its development key under `data_dir` (created if missing; the key
    /// is generated on first use and reused afterwards) and the default dev canister id.
    pub fn open(data_dir: &Path) -> Result<Self, NativeRuntimeError> {
        let canister_id = Principal::from_text(DEFAULT_DEV_CANISTER_ID).expect("valid principal");
        Self::open_as(data_dir, canister_id)
    }

    /// Like [`NativeRuntime::open`] with an explicit canister id (one per native canister, so
    /// that derived keys differ between canisters as they do on the IC), controlled by
    /// [`dev_controller`].
    pub fn open_as(data_dir: &Path, canister_id: Principal) -> Result<Self, NativeRuntimeError> {
        Self::open_with_controllers(data_dir, canister_id, [dev_controller()])
    }

    /// Like [`NativeRuntime::open_as`] with the canister's controllers.
    pub fn open_with_controllers(
        data_dir: &Path,
        canister_id: Principal,
        controllers: impl IntoIterator<Item = Principal>,
    ) -> Result<Self, NativeRuntimeError> {
        let key_path = data_dir.join(DEV_KEY_FILE);
        let master_key = load_or_create_key(&key_path)?;
        let http = reqwest::Client::builder()
            .timeout(OUTCALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NativeRuntimeError::Http(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                master_key,
                key_path,
                canister_id,
                http,
                transforms: Mutex::new(HashMap::new()),
                timers: Mutex::new(HashMap::new()),
                next_timer: AtomicU64::new(1),
                controllers: controllers.into_iter().collect(),
                certified_data: Mutex::new([0; 32]),
            }),
            caller: Principal::anonymous(),
        })
    }

    /// A view of this runtime answering `caller()` with `caller` (one per incoming request).
    pub fn with_caller(&self, caller: Principal) -> Self {
        Self {
            inner: self.inner.clone(),
            caller,
        }
    }

    /// Path of the persisted development key.
    pub fn key_path(&self) -> &Path {
        &self.inner.key_path
    }

    /// Registers the native counterpart of a canister transform query under `name`.
    pub fn register_transform(&self, name: impl Into<String>, transform: NativeTransform) {
        self.inner
            .transforms
            .lock()
            .expect("transforms lock")
            .insert(name.into(), transform);
    }

    /// The certified data last set (all zeros before the first [`Runtime::set_certified_data`]).
    pub fn certified_data(&self) -> [u8; 32] {
        *self
            .inner
            .certified_data
            .lock()
            .expect("certified data lock")
    }

    /// Number of timers currently armed (finished one-shot timers are not counted).
    pub fn active_timers(&self) -> usize {
        self.inner.timers.lock().expect("timers lock").len()
    }

    fn derived_key(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
    ) -> Result<SigningKey, RuntimeError> {
        let mut h = Sha256::new();
        h.update(b"heaven-native-ecdsa-derivation-v1");
        h.update(self.inner.canister_id.as_slice());
        for part in
            std::iter::once(key.name.as_bytes()).chain(derivation_path.iter().map(|p| p.as_slice()))
        {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        let tweak_bytes: FieldBytes = h.finalize();
        let tweak = <Scalar as Reduce<U256>>::reduce_bytes(&tweak_bytes);
        let master: Scalar = *self.inner.master_key.as_nonzero_scalar().as_ref();
        let child = Option::<NonZeroScalar>::from(NonZeroScalar::new(master + tweak))
            .ok_or_else(|| RuntimeError::Signing("derived a zero key".into()))?;
        Ok(SigningKey::from(child))
    }

    /// Spawns `task` and records its abort handle under one lock, so a task that finishes at
    /// once cannot remove its entry before it was inserted.
    fn arm(
        &self,
        handle: TimerHandle,
        task: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let mut timers = self.inner.timers.lock().expect("timers lock");
        let abort = tokio::spawn(task).abort_handle();
        timers.insert(handle, abort);
    }

    fn next_handle(&self) -> TimerHandle {
        TimerHandle(self.inner.next_timer.fetch_add(1, Ordering::Relaxed))
    }
}

fn load_or_create_key(path: &Path) -> Result<SigningKey, NativeRuntimeError> {
    let io = |source| NativeRuntimeError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .map_err(|_| NativeRuntimeError::BadKey { path: path.into() })?;
            SigningKey::from_slice(&bytes)
                .map_err(|_| NativeRuntimeError::BadKey { path: path.into() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let key = SigningKey::random(&mut rand::rngs::OsRng);
            let tmp = path.with_extension("tmp");
            write_private(&tmp, hex::encode(key.to_bytes()).as_bytes()).map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl Runtime for NativeRuntime {
    fn time_ns(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }

    fn caller(&self) -> Principal {
        self.caller
    }

    fn canister_id(&self) -> Principal {
        self.inner.canister_id
    }

    fn is_controller(&self, principal: &Principal) -> bool {
        self.inner.controllers.contains(principal)
    }

    fn set_certified_data(&self, data: &[u8; 32]) {
        *self
            .inner
            .certified_data
            .lock()
            .expect("certified data lock") = *data;
    }

    fn data_certificate(&self) -> Option<Vec<u8>> {
        None
    }

    async fn ecdsa_public_key(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
    ) -> Result<Vec<u8>, RuntimeError> {
        let signing = self.derived_key(key, derivation_path)?;
        Ok(signing
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec())
    }

    async fn sign_with_ecdsa(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
        message_hash: [u8; 32],
    ) -> Result<[u8; 64], RuntimeError> {
        let signing = self.derived_key(key, derivation_path)?;
        let signature: Signature = signing
            .sign_prehash(&message_hash)
            .map_err(|e| RuntimeError::Signing(e.to_string()))?;
        let signature = signature.normalize_s().unwrap_or(signature);
        Ok(signature.to_bytes().into())
    }

    async fn random_bytes(&self) -> Result<[u8; 32], RuntimeError> {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| RuntimeError::Randomness(e.to_string()))?;
        Ok(bytes)
    }

    async fn http_outcall(&self, request: OutcallRequest) -> Result<OutcallResponse, RuntimeError> {
        let transform = match &request.transform {
            Some(t) => Some(
                self.inner
                    .transforms
                    .lock()
                    .expect("transforms lock")
                    .get(&t.function)
                    .cloned()
                    .ok_or_else(|| {
                        RuntimeError::Invalid(format!("unknown transform {:?}", t.function))
                    })?,
            ),
            None => None,
        };
        let method = match request.method {
            OutcallMethod::Get => reqwest::Method::GET,
            OutcallMethod::Head => reqwest::Method::HEAD,
            OutcallMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self.inner.http.request(method, &request.url);
        for h in &request.headers {
            builder = builder.header(&h.name, &h.value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| RuntimeError::Outcall(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| OutcallHeader {
                name: name.as_str().to_string(),
                value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| RuntimeError::Outcall(e.to_string()))?
        {
            if (body.len() + chunk.len()) as u64 > request.max_response_bytes {
                return Err(RuntimeError::Outcall(format!(
                    "response exceeds max_response_bytes ({})",
                    request.max_response_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let response = OutcallResponse {
            status,
            headers,
            body,
        };
        Ok(match (transform, request.transform) {
            (Some(f), Some(t)) => f(response, &t.context),
            _ => response,
        })
    }

    fn set_timer(&self, delay: Duration, job: TimerJob) -> TimerHandle {
        let handle = self.next_handle();
        let this = self.clone();
        self.arm(handle, async move {
            tokio::time::sleep(delay).await;
            this.inner
                .timers
                .lock()
                .expect("timers lock")
                .remove(&handle);
            job();
        });
        handle
    }

    fn set_timer_interval(&self, interval: Duration, job: IntervalJob) -> TimerHandle {
        let handle = self.next_handle();
        self.arm(handle, async move {
            let start = tokio::time::Instant::now() + interval;
            let mut ticks = tokio::time::interval_at(start, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                ticks.tick().await;
                job();
            }
        });
        handle
    }

    fn clear_timer(&self, handle: TimerHandle) {
        if let Some(abort) = self
            .inner
            .timers
            .lock()
            .expect("timers lock")
            .remove(&handle)
        {
            abort.abort();
        }
    }
}

#[cfg(test)]
mod tests;
