//! Anchoring the settlement and attestation receipts on Arweave through the worker
//! (docs/adr/0025-canister-to-worker-outcalls.md).
//!
//! Every `SettlementCommitted` and `AttestationSent` entry of the audit log is a receipt,
//! pending until anchored. A timer (and the controller's `anchor_receipts`) takes the oldest
//! pending receipts (at most [`MAX_RECEIPTS`]) as a [`Batch`]: a JSON document holding each
//! entry's log index, time, kind and CBOR bytes; signs `sha256(domain ‖ key ‖ "\n" ‖ body)`
//! with the canister's threshold-ECDSA key; and POSTs it to the worker's `/internal/anchor`
//! with the batch's `Idempotency-Key` in a **replicated** outcall. The transform keeps the
//! status and body only; the worker answers every node of the subnet the same bytes. On 200 the
//! answer's blob id is recorded (`ReceiptsAnchored`); anything else leaves the receipts
//! pending for the next run, which sends the same key again if no receipt arrived meanwhile.

use std::cell::Cell;

use candid::{CandidType, Principal};
use canister_runtime::{
    EcdsaKey, OutcallHeader, OutcallMethod, OutcallRequest, OutcallResponse, OutcallTransform,
    Runtime,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::state::{
    self, AnchorRecord, ReceiptKind, State, audit::process_event, event::EventType,
};

/// Domain separator of the signed message (the worker's `anchor_service::SIGNING_DOMAIN`).
pub const SIGNING_DOMAIN: &[u8] = b"heaven-anchor-v1\n";
/// The derivation path of the anchoring key (its own key: not the oracle's).
pub const DERIVATION_PATH: &[u8] = b"anchor-v1";
/// Receipts per batch at most.
pub const MAX_RECEIPTS: usize = 50;
/// The raw answer's limit (headers included): the worker's JSON answer is about 200 bytes.
pub const MAX_RESPONSE_BYTES: u64 = 2048;
/// The transform query.
pub const TRANSFORM: &str = "transform_anchor";
/// Header of the signature (hex r‖s).
pub const SIGNATURE_HEADER: &str = "X-Canister-Signature";

/// The digest the canister signs and the worker verifies.
pub fn message_hash(key: &str, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SIGNING_DOMAIN);
    hasher.update(key.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().into()
}

/// One receipt in a batch document.
#[derive(Serialize)]
struct ReceiptEntry {
    index: u64,
    timestamp: u64,
    kind: &'static str,
    /// The log entry's CBOR, hex: the exact bytes the canister's audit log holds.
    event: String,
}

/// The batch document (field order fixed: the bytes are what is signed and deduplicated).
#[derive(Serialize)]
struct BatchDocument<'a> {
    canister: &'a str,
    first: u64,
    last: u64,
    receipts: Vec<ReceiptEntry>,
}

/// The next batch to anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// `credits-<canister>-<first>-<last>`.
    pub key: String,
    /// Log index of the first receipt.
    pub first: u64,
    /// Log index of the last receipt.
    pub last: u64,
    /// Receipts in it.
    pub receipts: u64,
    /// The JSON document.
    pub body: Vec<u8>,
}

/// The oldest pending receipts, at most [`MAX_RECEIPTS`], as a batch; `None` when none is
/// pending.
pub fn next_batch<M: ic_stable_structures::Memory + Clone>(
    state: &State<M>,
    canister: &Principal,
) -> Option<Batch> {
    let canister = canister.to_text();
    let mut receipts = Vec::new();
    for entry in state.pending_receipts().iter().take(MAX_RECEIPTS) {
        let index = *entry.key();
        let event = state.event(index)?;
        let kind = match entry.value().0 {
            ReceiptKind::Settlement => "settlement",
            ReceiptKind::Attestation => "attestation",
        };
        receipts.push(ReceiptEntry {
            index,
            timestamp: event.timestamp,
            kind,
            event: hex::encode(minicbor::to_vec(&event).expect("encoding to a Vec cannot fail")),
        });
    }
    let first = receipts.first()?.index;
    let last = receipts.last()?.index;
    let count = receipts.len() as u64;
    let document = BatchDocument {
        canister: &canister,
        first,
        last,
        receipts,
    };
    Some(Batch {
        key: format!("credits-{canister}-{first}-{last}"),
        first,
        last,
        receipts: count,
        body: serde_json::to_vec(&document).expect("a batch serialises"),
    })
}

/// The worker's answer (`anchor_service::AnchorAnswer`).
#[derive(Debug, Deserialize)]
struct WorkerAnswer {
    key: String,
    id: String,
    arweave_url: Option<String>,
}

/// Why a run anchored nothing.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize, thiserror::Error)]
pub enum AnchorError {
    /// No worker endpoint is configured (`set_anchor_url`).
    #[error("anchoring is not configured")]
    NotConfigured,
    /// Another run is in flight.
    #[error("an anchoring run is in progress")]
    Busy,
    /// The threshold signature failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The outcall failed (unreachable worker, no consensus, out of cycles).
    #[error("outcall failed: {0}")]
    Outcall(String),
    /// The worker answered something other than the batch's id.
    #[error("worker answered {status}: {body}")]
    Worker {
        /// HTTP status.
        status: u16,
        /// The body (truncated).
        body: String,
    },
}

thread_local! {
    static IN_FLIGHT: Cell<bool> = const { Cell::new(false) };
}

/// Clears the in-flight flag when a run ends, however it ends.
struct RunGuard;

impl RunGuard {
    fn take() -> Result<Self, AnchorError> {
        if IN_FLIGHT.with(|f| f.replace(true)) {
            return Err(AnchorError::Busy);
        }
        Ok(Self)
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        IN_FLIGHT.with(|f| f.set(false));
    }
}

/// The anchoring public key (SEC1 compressed): the worker's `ANCHOR_CANISTER_PUBLIC_KEY`.
pub async fn public_key<R: Runtime>(rt: &R) -> Result<Vec<u8>, AnchorError> {
    let key = EcdsaKey::new(state::with_config(|c| c.ecdsa_key_name.clone()));
    rt.ecdsa_public_key(&key, &[DERIVATION_PATH.to_vec()])
        .await
        .map_err(|e| AnchorError::Signing(e.to_string()))
}

/// The transform: status and body only (dates, request ids and connection headers differ from
/// node to node; the worker's body does not).
pub fn transform(response: OutcallResponse) -> OutcallResponse {
    OutcallResponse {
        status: response.status,
        headers: Vec::new(),
        body: response.body,
    }
}

/// Anchors the next batch: `Ok(None)` when nothing is pending, the record on success.
pub async fn run<R: Runtime>(rt: &R) -> Result<Option<AnchorRecord>, AnchorError> {
    let url = state::with_config(|c| c.anchor_url.clone()).ok_or(AnchorError::NotConfigured)?;
    let _guard = RunGuard::take()?;
    let canister = rt.canister_id();
    let Some(batch) = state::with(|s| next_batch(s, &canister)) else {
        return Ok(None);
    };
    let key = EcdsaKey::new(state::with_config(|c| c.ecdsa_key_name.clone()));
    let signature = rt
        .sign_with_ecdsa(
            &key,
            &[DERIVATION_PATH.to_vec()],
            message_hash(&batch.key, &batch.body),
        )
        .await
        .map_err(|e| AnchorError::Signing(e.to_string()))?;
    let header = |name: &str, value: String| OutcallHeader {
        name: name.into(),
        value,
    };
    let request = OutcallRequest {
        url,
        method: OutcallMethod::Post,
        headers: vec![
            header("Content-Type", "application/json".into()),
            header("Idempotency-Key", batch.key.clone()),
            header(SIGNATURE_HEADER, hex::encode(signature)),
        ],
        body: Some(batch.body.clone()),
        max_response_bytes: MAX_RESPONSE_BYTES,
        transform: Some(OutcallTransform {
            function: TRANSFORM.into(),
            context: Vec::new(),
        }),
    };
    let response = rt
        .http_outcall(request)
        .await
        .map_err(|e| AnchorError::Outcall(e.to_string()))?;
    let answer = (response.status == 200)
        .then(|| serde_json::from_slice::<WorkerAnswer>(&response.body).ok())
        .flatten()
        .filter(|a| a.key == batch.key && !a.id.is_empty() && a.id.len() <= 128)
        .ok_or_else(|| AnchorError::Worker {
            status: response.status,
            body: String::from_utf8_lossy(&response.body)
                .chars()
                .take(200)
                .collect(),
        })?;
    let now_ns = rt.time_ns();
    Ok(Some(state::mutate(|s| {
        process_event(
            s,
            now_ns,
            EventType::ReceiptsAnchored {
                key: batch.key.clone(),
                first: batch.first,
                last: batch.last,
                receipts: batch.receipts,
                id: answer.id.clone(),
                arweave_url: answer.arweave_url.clone(),
            },
        );
        s.anchors()
            .get(&batch.last)
            .map(|r| r.0)
            .expect("just recorded")
    })))
}

/// A run from the timer: errors other than "nothing configured" are logged.
pub async fn run_from_timer<R: Runtime>(rt: &R) {
    match run(rt).await {
        Ok(_) | Err(AnchorError::NotConfigured) | Err(AnchorError::Busy) => {}
        Err(e) => rt.print(&format!("anchoring receipts: {e}")),
    }
}

/// Operators' view: the endpoint, receipts pending, the latest anchored batches.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct AnchorStatus {
    /// The worker endpoint, if set.
    pub url: Option<String>,
    /// Receipts not anchored yet.
    pub pending: u64,
    /// The latest batches, newest first.
    pub recent: Vec<AnchorRecord>,
}

/// The status with at most `limit` recent batches.
pub fn status(limit: usize) -> AnchorStatus {
    state::with(|s| AnchorStatus {
        url: s.config().anchor_url.clone(),
        pending: s.pending_receipts().len(),
        recent: s
            .anchors()
            .iter()
            .rev()
            .take(limit)
            .map(|e| e.value().0)
            .collect(),
    })
}

/// Sets (or clears) the worker endpoint: an `http(s)://` URL.
pub fn set_url(url: Option<String>, now_ns: u64) -> Result<(), crate::endpoints::CallError> {
    let url = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    if let Some(u) = &url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(crate::endpoints::CallError::Invalid(
            "the anchor URL must be an http(s) URL".into(),
        ));
    }
    state::mutate(|s| process_event(s, now_ns, EventType::AnchorConfigured { url }));
    Ok(())
}

#[cfg(test)]
mod tests;
