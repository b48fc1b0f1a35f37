//! The small runtime that canister logic runs over.
//!
//! Logic in the canister crates never calls `ic_cdk::api` directly: it receives a [`Runtime`]
//! and asks it for the time, the caller and whether it controls the canister, threshold-ECDSA
//! keys and signatures, HTTP outcalls, timers and the certified data; [`print`] writes a log
//! line. [`ic::IcRuntime`] answers from the Internet Computer (wasm); with the `native` feature,
//! [`native::NativeRuntime`] answers from the host (system clock, a local dev key, reqwest,
//! tokio) so the same logic serves the local stack and unit tests, and [`native`] also hosts
//! native canisters (a canister thread over a file-backed stable memory).

use std::time::Duration;

use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

pub mod ic;
#[cfg(feature = "native")]
pub mod native;

/// Threshold-ECDSA key (secp256k1) used by a canister, e.g. `dfx_test_key` locally,
/// `test_key_1` / `key_1` on mainnet. Comes from init args, never a constant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, CandidType, Serialize, Deserialize)]
pub struct EcdsaKey {
    /// The key name the management canister knows.
    pub name: String,
}

impl EcdsaKey {
    /// A key reference by name.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

/// HTTP method allowed for a replicated outcall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub enum OutcallMethod {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
}

/// A header of an outcall request or response.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct OutcallHeader {
    /// Header name as sent / received.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// Names a canister query that makes replica answers identical (strips dates, ids, ...),
/// plus an opaque context handed to it.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct OutcallTransform {
    /// Name of the query method (IC) or of the registered native transform.
    pub function: String,
    /// Context bytes passed to the transform unchanged.
    pub context: Vec<u8>,
}

/// An HTTP request made by the canister logic.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct OutcallRequest {
    /// Absolute URL (`https://` on mainnet; `http://127.0.0.1` allowed locally).
    pub url: String,
    /// Method.
    pub method: OutcallMethod,
    /// Request headers.
    pub headers: Vec<OutcallHeader>,
    /// Request body.
    pub body: Option<Vec<u8>>,
    /// Upper bound of the raw response size; larger answers fail the call.
    pub max_response_bytes: u64,
    /// Transform applied to the response before it reaches the logic.
    pub transform: Option<OutcallTransform>,
}

/// The response to an outcall, after the transform.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct OutcallResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (what the transform kept).
    pub headers: Vec<OutcallHeader>,
    /// Response body.
    pub body: Vec<u8>,
}

/// Writes one diagnostic line: the replica log (`debug_print`) in wasm, `tracing` (target
/// `canister`) natively with the `native` feature, nowhere otherwise (unit tests of crates that
/// do not enable it).
pub fn print(line: &str) {
    #[cfg(target_arch = "wasm32")]
    ic_cdk::api::debug_print(line);
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    tracing::warn!(target: "canister", "{line}");
    #[cfg(all(not(target_arch = "wasm32"), not(feature = "native")))]
    let _ = line;
}

/// Identifies a timer so it can be cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerHandle(pub u64);

/// A one-shot timer job.
pub type TimerJob = Box<dyn FnOnce() + Send + 'static>;
/// A repeating timer job.
pub type IntervalJob = std::sync::Arc<dyn Fn() + Send + Sync + 'static>;

/// What can go wrong when the runtime talks to the outside world.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The management canister (or the native signer) refused or failed the signing request.
    #[error("threshold signing failed: {0}")]
    Signing(String),
    /// The HTTP outcall failed before a response could be returned.
    #[error("http outcall failed: {0}")]
    Outcall(String),
    /// The randomness source failed.
    #[error("randomness unavailable: {0}")]
    Randomness(String),
    /// An argument was invalid (bad hash length, unknown transform, ...).
    #[error("invalid runtime request: {0}")]
    Invalid(String),
}

/// The system services canister logic may use. One implementation per environment.
///
/// Implementations are cheap to clone or borrow; async methods may suspend the current message
/// (IC) or task (native). Callers must not hold state borrows across an `.await`.
#[allow(async_fn_in_trait)]
pub trait Runtime {
    /// Current time in nanoseconds since the Unix epoch. On the IC it is constant within one
    /// message; natively it is the system clock.
    fn time_ns(&self) -> u64;

    /// The principal that sent the current message (anonymous when unauthenticated).
    fn caller(&self) -> Principal;

    /// The canister's own principal (a fixed development principal natively).
    fn canister_id(&self) -> Principal;

    /// Whether `principal` controls the canister (natively: the controllers the runtime was
    /// opened with).
    fn is_controller(&self, principal: &Principal) -> bool;

    /// Sets the canister's certified data (the root hash of its certified responses); only in
    /// updates, timers and lifecycle hooks on the IC.
    fn set_certified_data(&self, data: &[u8; 32]);

    /// The certificate over the certified data, present in non-replicated queries on the IC;
    /// `None` in updates and natively (there is no subnet to sign it).
    fn data_certificate(&self) -> Option<Vec<u8>>;

    /// Writes one diagnostic line ([`print`]).
    fn print(&self, line: &str) {
        print(line);
    }

    /// SEC1-compressed (33 bytes) secp256k1 public key for `key` and `derivation_path`.
    /// Deterministic: the same inputs always give the same key.
    async fn ecdsa_public_key(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
    ) -> Result<Vec<u8>, RuntimeError>;

    /// Signs a 32-byte prehashed message with the key for `derivation_path`; returns r‖s
    /// (64 bytes, big-endian). The signature verifies against [`Runtime::ecdsa_public_key`]
    /// for the same key and path. Callers normalise s and recover v themselves.
    async fn sign_with_ecdsa(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
        message_hash: [u8; 32],
    ) -> Result<[u8; 64], RuntimeError>;

    /// 32 bytes of cryptographically secure randomness (`raw_rand` on the IC, the OS generator
    /// natively). Not available in queries on the IC.
    async fn random_bytes(&self) -> Result<[u8; 32], RuntimeError>;

    /// Performs an HTTP request and returns the transformed response. Non-2xx statuses are
    /// returned as responses, not errors; only transport failures are errors.
    async fn http_outcall(&self, request: OutcallRequest) -> Result<OutcallResponse, RuntimeError>;

    /// Runs `job` once after `delay`. Timers do not survive an upgrade or restart: re-arm them
    /// from persisted schedule facts in `post_upgrade` / at start.
    fn set_timer(&self, delay: Duration, job: TimerJob) -> TimerHandle;

    /// Runs `job` every `interval` until cleared. Runs may be skipped under load but are never
    /// run concurrently with themselves natively; jobs must be idempotent.
    fn set_timer_interval(&self, interval: Duration, job: IntervalJob) -> TimerHandle;

    /// Cancels a timer; clearing an unknown or finished timer does nothing.
    fn clear_timer(&self, handle: TimerHandle);
}
