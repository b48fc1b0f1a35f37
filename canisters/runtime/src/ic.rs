//! [`Runtime`] on the Internet Computer: ic-cdk system API, the management canister's
//! threshold ECDSA and HTTP outcalls, and ic-cdk-timers. Only meaningful inside canister wasm.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

use candid::{Nat, Principal};
use ic_cdk_management_canister::{
    EcdsaCurve, EcdsaKeyId, EcdsaPublicKeyArgs, HttpHeader, HttpMethod, HttpRequest,
    HttpRequestResult, SignWithEcdsaArgs, transform_context_from_query,
};
use ic_cdk_timers::TimerId;

use crate::{
    EcdsaKey, IntervalJob, OutcallHeader, OutcallMethod, OutcallRequest, OutcallResponse, Runtime,
    RuntimeError, TimerHandle, TimerJob,
};

thread_local! {
    static TIMERS: RefCell<BTreeMap<TimerHandle, TimerId>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT_TIMER: Cell<u64> = const { Cell::new(1) };
}

/// The runtime of a canister on the IC. Zero-sized: every call goes to the system API.
#[derive(Clone, Copy, Debug, Default)]
pub struct IcRuntime;

fn key_id(key: &EcdsaKey) -> EcdsaKeyId {
    EcdsaKeyId {
        curve: EcdsaCurve::Secp256k1,
        name: key.name.clone(),
    }
}

fn remember(id: TimerId) -> TimerHandle {
    let handle = TimerHandle(NEXT_TIMER.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    }));
    TIMERS.with_borrow_mut(|t| t.insert(handle, id));
    handle
}

fn status_code(status: &Nat) -> u16 {
    u16::try_from(status.0.clone()).unwrap_or(u16::MAX)
}

/// The management canister's outcall result as the logic sees it (also the input of a
/// canister's transform query).
pub fn outcall_response(result: HttpRequestResult) -> OutcallResponse {
    OutcallResponse {
        status: status_code(&result.status),
        headers: result
            .headers
            .into_iter()
            .map(|h| OutcallHeader {
                name: h.name,
                value: h.value,
            })
            .collect(),
        body: result.body,
    }
}

/// The other way round: what a transform query returns to the management canister.
pub fn http_request_result(response: OutcallResponse) -> HttpRequestResult {
    HttpRequestResult {
        status: response.status.into(),
        headers: response
            .headers
            .into_iter()
            .map(|h| HttpHeader {
                name: h.name,
                value: h.value,
            })
            .collect(),
        body: response.body,
    }
}

impl Runtime for IcRuntime {
    fn time_ns(&self) -> u64 {
        ic_cdk::api::time()
    }

    fn caller(&self) -> Principal {
        ic_cdk::api::msg_caller()
    }

    fn canister_id(&self) -> Principal {
        ic_cdk::api::canister_self()
    }

    fn is_controller(&self, principal: &Principal) -> bool {
        ic_cdk::api::is_controller(principal)
    }

    fn set_certified_data(&self, data: &[u8; 32]) {
        ic_cdk::api::certified_data_set(data);
    }

    fn data_certificate(&self) -> Option<Vec<u8>> {
        ic_cdk::api::data_certificate()
    }

    async fn ecdsa_public_key(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
    ) -> Result<Vec<u8>, RuntimeError> {
        let args = EcdsaPublicKeyArgs {
            canister_id: None,
            derivation_path: derivation_path.to_vec(),
            key_id: key_id(key),
        };
        ic_cdk_management_canister::ecdsa_public_key(&args)
            .await
            .map(|r| r.public_key)
            .map_err(|e| RuntimeError::Signing(e.to_string()))
    }

    async fn sign_with_ecdsa(
        &self,
        key: &EcdsaKey,
        derivation_path: &[Vec<u8>],
        message_hash: [u8; 32],
    ) -> Result<[u8; 64], RuntimeError> {
        let args = SignWithEcdsaArgs {
            message_hash: message_hash.to_vec(),
            derivation_path: derivation_path.to_vec(),
            key_id: key_id(key),
        };
        let signature = ic_cdk_management_canister::sign_with_ecdsa(&args)
            .await
            .map_err(|e| RuntimeError::Signing(e.to_string()))?
            .signature;
        signature.try_into().map_err(|s: Vec<u8>| {
            RuntimeError::Signing(format!("expected a 64-byte signature, got {}", s.len()))
        })
    }

    async fn random_bytes(&self) -> Result<[u8; 32], RuntimeError> {
        let bytes = ic_cdk_management_canister::raw_rand()
            .await
            .map_err(|e| RuntimeError::Randomness(e.to_string()))?;
        bytes.try_into().map_err(|b: Vec<u8>| {
            RuntimeError::Randomness(format!("raw_rand returned {} bytes, expected 32", b.len()))
        })
    }

    async fn http_outcall(&self, request: OutcallRequest) -> Result<OutcallResponse, RuntimeError> {
        let method = match request.method {
            OutcallMethod::Get => HttpMethod::GET,
            OutcallMethod::Head => HttpMethod::HEAD,
            OutcallMethod::Post => HttpMethod::POST,
        };
        let mut builder = HttpRequest::new(request.url)
            .with_method(method)
            .with_headers(
                request
                    .headers
                    .into_iter()
                    .map(|h| HttpHeader {
                        name: h.name,
                        value: h.value,
                    })
                    .collect(),
            )
            .with_max_response_bytes(request.max_response_bytes);
        if let Some(body) = request.body {
            builder = builder.with_body(body);
        }
        if let Some(t) = request.transform {
            builder = builder.with_transform(transform_context_from_query(t.function, t.context));
        }
        let result = builder
            .send()
            .await
            .map_err(|e| RuntimeError::Outcall(e.to_string()))?;
        Ok(outcall_response(result))
    }

    fn set_timer(&self, delay: Duration, job: TimerJob) -> TimerHandle {
        remember(ic_cdk_timers::set_timer(delay, async move { job() }))
    }

    fn set_timer_interval(&self, interval: Duration, job: IntervalJob) -> TimerHandle {
        remember(ic_cdk_timers::set_timer_interval(interval, move || {
            let job = job.clone();
            async move { job() }
        }))
    }

    fn clear_timer(&self, handle: TimerHandle) {
        if let Some(id) = TIMERS.with_borrow_mut(|t| t.remove(&handle)) {
            ic_cdk_timers::clear_timer(id);
        }
    }
}

/// Runs `job` every `interval`, skipping a tick while the previous run is still going
/// (`ic_cdk_timers::set_timer_interval_serial`): for jobs that await outcalls, such as a
/// sweep, which must never run twice at once.
pub fn set_serial_timer_interval<F, Fut>(interval: Duration, mut job: F) -> TimerHandle
where
    F: FnMut() -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    remember(ic_cdk_timers::set_timer_interval_serial(
        interval,
        async move || job().await,
    ))
}

/// The ingress message's caller and method, for `canister_inspect_message`.
pub fn ingress_message() -> (Principal, String) {
    (ic_cdk::api::msg_caller(), ic_cdk::api::msg_method_name())
}

/// Accepts the ingress message being inspected (`canister_inspect_message`).
pub fn accept_ingress_message() {
    ic_cdk::api::accept_message();
}
