//! The axum routes of the IC HTTP interface and the execution of each request on the harness
//! (on a blocking thread, one request at a time, as a single-threaded replica).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use candid::Principal;
use ic_certification::Label;
use ic_transport_types::{
    EnvelopeContent, QueryResponse, ReadStateResponse, RejectCode, RejectResponse, ReplyResponse,
    TransportCallResponse,
};
use serde::Serialize;

use super::{
    Replica, Served,
    envelope::{AuthenticatedRequest, authenticate},
    state_tree::{CallOutcome, certificate},
};
use crate::HarnessError;

/// Larger than the IC's 2 MiB ingress limit plus the envelope.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub(super) fn router(served: Arc<Served>) -> Router {
    Router::new()
        .route("/api/v2/status", get(status))
        .route("/api/v2/canister/{id}/call", post(call_async))
        .route("/api/v3/canister/{id}/call", post(call_sync))
        .route("/api/v4/canister/{id}/call", post(call_sync))
        .route("/api/v2/canister/{id}/query", post(query))
        .route("/api/v3/canister/{id}/query", post(query))
        .route("/api/v2/canister/{id}/read_state", post(read_state))
        .route("/api/v3/canister/{id}/read_state", post(read_state))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(served)
}

/// Nanoseconds since the epoch, by the wall clock.
fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos() as u64
}

/// A refused or failed request: its status and plain-text body.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, message.into())
}

fn cbor<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    serializer.self_describe().expect("writing to a Vec");
    match value.serialize(&mut serializer) {
        Ok(()) => (
            status,
            [(header::CONTENT_TYPE, "application/cbor")],
            serializer.into_inner(),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The `/api/v2/status` body.
#[derive(Serialize)]
struct StatusBody {
    ic_api_version: &'static str,
    impl_version: &'static str,
    replica_health_status: &'static str,
    #[serde(with = "serde_bytes")]
    root_key: Vec<u8>,
}

async fn status(State(served): State<Arc<Served>>) -> Response {
    cbor(
        StatusCode::OK,
        &StatusBody {
            ic_api_version: "0.18.0",
            impl_version: "ic-wasm-harness",
            replica_health_status: "healthy",
            root_key: served.key.public_key_der(),
        },
    )
}

fn parse_canister(id: &str) -> Result<Principal, Failure> {
    Principal::from_text(id).map_err(|e| bad_request(format!("invalid canister id {id}: {e}")))
}

/// Moves the harness's clock up to the wall clock (never back), firing due timers.
fn sync_clock(replica: &mut Replica) {
    let now = now_nanos();
    let time = replica.harness.time_nanos();
    if now > time
        && let Err(e) = replica
            .harness
            .advance_time(Duration::from_nanos(now - time))
    {
        tracing::warn!(error = %e, "a round of the harness failed while following the clock");
    }
}

fn reject_of(error: HarnessError) -> RejectResponse {
    let (code, message) = match error {
        HarnessError::Rejected(reject) => (
            RejectCode::try_from(reject.code as u64).unwrap_or(RejectCode::CanisterError),
            reject.message,
        ),
        other => (RejectCode::CanisterError, other.to_string()),
    };
    RejectResponse {
        reject_code: code,
        reject_message: message,
        error_code: None,
    }
}

/// Runs `f` on the replica on a blocking thread (the harness executes wasm synchronously).
async fn on_replica<R: Send + 'static>(
    served: &Arc<Served>,
    f: impl FnOnce(&mut Replica, &Served) -> R + Send + 'static,
) -> Result<R, Failure> {
    let served = served.clone();
    tokio::task::spawn_blocking(move || {
        let mut replica = served.replica.lock().unwrap_or_else(|e| e.into_inner());
        sync_clock(&mut replica);
        f(&mut replica, &served)
    })
    .await
    .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// Checks the envelope is a `call` for `effective` and executes it, unless its request id was
/// executed already (the IC's replay protection: the stored outcome stands). Returns the
/// request id.
async fn execute_call(
    served: &Arc<Served>,
    effective: Principal,
    body: &[u8],
) -> Result<[u8; 32], Failure> {
    let AuthenticatedRequest {
        content,
        request_id,
    } = authenticate(body, now_nanos()).map_err(|e| bad_request(e.0))?;
    let EnvelopeContent::Call {
        canister_id,
        method_name,
        arg,
        sender,
        ..
    } = content
    else {
        return Err(bad_request("the call endpoint takes request_type \"call\""));
    };
    if canister_id != effective {
        return Err(bad_request(format!(
            "the effective canister id {effective} is not the target {canister_id}"
        )));
    }
    let id = *request_id;
    on_replica(served, move |replica, _| {
        if replica.statuses.get(&id).is_none() {
            let outcome = match replica
                .harness
                .update_call(canister_id, sender, &method_name, arg)
            {
                Ok(reply) => CallOutcome::Replied(reply),
                Err(e) => CallOutcome::Rejected(reject_of(e)),
            };
            replica.statuses.insert(id, outcome);
        }
    })
    .await?;
    Ok(id)
}

async fn call_sync(
    State(served): State<Arc<Served>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let effective = match parse_canister(&id) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let request_id = match execute_call(&served, effective, &body).await {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let certified = on_replica(&served, move |replica, served| {
        certificate(&served.key, now_nanos(), &replica.statuses, &[request_id])
    })
    .await;
    match certified {
        Ok(certificate) => cbor(
            StatusCode::OK,
            &TransportCallResponse::Replied { certificate },
        ),
        Err(r) => r.into_response(),
    }
}

async fn call_async(
    State(served): State<Arc<Served>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let effective = match parse_canister(&id) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match execute_call(&served, effective, &body).await {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(r) => r.into_response(),
    }
}

async fn query(State(served): State<Arc<Served>>, Path(id): Path<String>, body: Bytes) -> Response {
    let effective = match parse_canister(&id) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let request = match authenticate(&body, now_nanos()) {
        Ok(r) => r,
        Err(e) => return bad_request(e.0).into_response(),
    };
    let EnvelopeContent::Query {
        canister_id,
        method_name,
        arg,
        sender,
        ..
    } = request.content
    else {
        return bad_request("the query endpoint takes request_type \"query\"").into_response();
    };
    if canister_id != effective {
        return bad_request(format!(
            "the effective canister id {effective} is not the target {canister_id}"
        ))
        .into_response();
    }
    let answer = on_replica(&served, move |replica, _| {
        replica
            .harness
            .query_call(canister_id, sender, &method_name, arg)
    })
    .await;
    let response = match answer {
        Err(r) => return r.into_response(),
        Ok(Ok(reply)) => QueryResponse::Replied {
            reply: ReplyResponse { arg: reply },
            signatures: Vec::new(),
        },
        Ok(Err(e)) => QueryResponse::Rejected {
            reject: reject_of(e),
            signatures: Vec::new(),
        },
    };
    cbor(StatusCode::OK, &response)
}

/// The request ids a read_state asks about; refuses paths other than `time` and
/// `request_status/<id>[/...]`.
fn requested_statuses(paths: &[Vec<Label>]) -> Result<Vec<[u8; 32]>, String> {
    let mut ids = Vec::new();
    for path in paths {
        match path.first().map(|l| l.as_bytes()) {
            Some(b"time") if path.len() == 1 => {}
            Some(b"request_status") if path.len() >= 2 => {
                let id: [u8; 32] = path[1]
                    .as_bytes()
                    .try_into()
                    .map_err(|_| "a request id is 32 bytes".to_string())?;
                ids.push(id);
            }
            _ => {
                let shown: Vec<String> = path
                    .iter()
                    .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                    .collect();
                return Err(format!(
                    "the wasm harness certifies only `time` and `request_status/<id>`, not /{}",
                    shown.join("/")
                ));
            }
        }
    }
    Ok(ids)
}

async fn read_state(
    State(served): State<Arc<Served>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = parse_canister(&id) {
        return r.into_response();
    }
    let request = match authenticate(&body, now_nanos()) {
        Ok(r) => r,
        Err(e) => return bad_request(e.0).into_response(),
    };
    let EnvelopeContent::ReadState { paths, .. } = request.content else {
        return bad_request("the read_state endpoint takes request_type \"read_state\"")
            .into_response();
    };
    let ids = match requested_statuses(&paths) {
        Ok(ids) => ids,
        Err(message) => return bad_request(message).into_response(),
    };
    let certified = on_replica(&served, move |replica, served| {
        certificate(&served.key, now_nanos(), &replica.statuses, &ids)
    })
    .await;
    match certified {
        Ok(certificate) => cbor(StatusCode::OK, &ReadStateResponse { certificate }),
        Err(r) => r.into_response(),
    }
}
