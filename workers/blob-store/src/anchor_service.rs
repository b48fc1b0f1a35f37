//! `POST /internal/anchor`: the endpoint the credits canister's HTTP outcall reaches to have a
//! batch of its receipts (settlements, attestations) stored and anchored on Arweave
//! (docs/adr/0025-canister-to-worker-outcalls.md).
//!
//! - **Who may call**: the body is signed by the canister's threshold-ECDSA key
//!   (`X-Canister-Signature`: r‖s hex over [`message_hash`]); the worker holds only the
//!   canister's public key ([`AnchorSettings::canister_key`]), no secret.
//! - **Once per key**: a replicated outcall reaches the worker from every node of the subnet,
//!   all with the same `Idempotency-Key` and bytes. The first claims the key in the
//!   [`StateStore`] (create-only insert), uploads through the [`ContentAddressedBlobStore`] and
//!   stores its answer; the others wait for that answer. Every request of a key gets the same
//!   body bytes, so the canister's transform (headers dropped) makes them identical.
//! - A claimant that died leaves a claim older than [`AnchorSettings::claim_ttl`], which the
//!   next request takes over (compare-and-swap on the claim's version).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, VerifyingKey};
use portability::{BlobTag, ContentAddressedBlobStore, PortabilityError, StateStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The route.
pub const ANCHOR_PATH: &str = "/internal/anchor";
/// Header carrying the canister's signature (hex r‖s, 64 bytes). Not `X-Heaven-*`: the edge
/// strips those.
pub const SIGNATURE_HEADER: &str = "x-canister-signature";
/// Header naming the batch; the same key always names the same bytes.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Domain separator of the signed message (shared with `credits_canister::anchor`).
pub const SIGNING_DOMAIN: &[u8] = b"heaven-anchor-v1\n";
/// Longest accepted `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 128;
/// Largest accepted batch.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The 32-byte digest the canister signs: `sha256(domain ‖ key ‖ "\n" ‖ body)`.
pub fn message_hash(key: &str, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SIGNING_DOMAIN);
    hasher.update(key.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().into()
}

/// How the endpoint is set up.
#[derive(Clone, Debug)]
pub struct AnchorSettings {
    /// The canister's public key (`ANCHOR_CANISTER_PUBLIC_KEY`: SEC1 hex, as the credits
    /// canister's `anchor_public_key` shows it).
    pub canister_key: VerifyingKey,
    /// A claim older than this is taken over (its holder is presumed dead).
    pub claim_ttl: Duration,
    /// How long a duplicate waits for the claimant's answer before answering 503.
    pub wait: Duration,
}

impl AnchorSettings {
    /// Settings for `canister_key` (SEC1 hex, compressed or not) with the default timings
    /// (claims expire after 120 s, duplicates wait up to 50 s: within the IC's 60 s outcall
    /// limit).
    pub fn from_hex(canister_key: &str) -> Result<Self, String> {
        let bytes = hex::decode(canister_key.trim().trim_start_matches("0x"))
            .map_err(|e| format!("not hex: {e}"))?;
        let canister_key = VerifyingKey::from_sec1_bytes(&bytes)
            .map_err(|_| "not a SEC1 secp256k1 public key".to_owned())?;
        Ok(Self {
            canister_key,
            claim_ttl: Duration::from_secs(120),
            wait: Duration::from_secs(50),
        })
    }
}

/// What the endpoint needs.
#[derive(Clone)]
pub struct AnchorService {
    settings: AnchorSettings,
    blobs: Arc<dyn ContentAddressedBlobStore>,
    state: Arc<dyn StateStore>,
}

impl AnchorService {
    /// The service over `blobs`, deduplicating in `state`.
    pub fn new(
        settings: AnchorSettings,
        blobs: Arc<dyn ContentAddressedBlobStore>,
        state: Arc<dyn StateStore>,
    ) -> Self {
        Self {
            settings,
            blobs,
            state,
        }
    }
}

/// `POST /internal/anchor` over `service`; `None` answers 500 `Anchor not configured
/// (ANCHOR_CANISTER_PUBLIC_KEY)` (the original's wording for a missing setting).
pub fn router(service: Option<AnchorService>) -> Router {
    Router::new()
        .route(ANCHOR_PATH, post(anchor))
        .with_state(service.map(Arc::new))
}

/// The answer every request of one key gets, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorAnswer {
    /// The `Idempotency-Key`.
    pub key: String,
    /// The blob id (the Load / Arweave data item id).
    pub id: String,
    /// Where Arweave serves it, when the blob store anchors (`null` on local disk).
    pub arweave_url: Option<String>,
}

/// The record kept per key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum KeyRecord {
    /// A request is uploading (since `claimed_at`, Unix ms).
    Claimed {
        body_sha256: String,
        claimed_at: u64,
    },
    /// Uploaded: the exact answer bytes.
    Done { body_sha256: String, answer: String },
}

fn state_key(key: &str) -> String {
    format!("anchors/{key}")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    json(status, body.into_bytes())
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Checks the canister's signature over `key` and `body`.
pub fn verify(key_of_canister: &VerifyingKey, key: &str, body: &[u8], signature_hex: &str) -> bool {
    let Ok(bytes) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    // The IC's signatures are low-s in practice; normalising costs nothing and keeps a high-s
    // encoding of the same signature valid.
    let signature = signature.normalize_s().unwrap_or(signature);
    key_of_canister
        .verify_prehash(&message_hash(key, body), &signature)
        .is_ok()
}

async fn anchor(
    State(service): State<Option<Arc<AnchorService>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(service) = service else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Anchor not configured (ANCHOR_CANISTER_PUBLIC_KEY)",
        );
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(key) = header(IDEMPOTENCY_HEADER).filter(|k| valid_key(k)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key is required (1-128 of A-Z a-z 0-9 . _ -)",
        );
    };
    if body.is_empty() || body.len() > MAX_BODY_BYTES {
        return error(StatusCode::BAD_REQUEST, "Body must be 1 to 262144 bytes");
    }
    let signed = header(SIGNATURE_HEADER)
        .is_some_and(|sig| verify(&service.settings.canister_key, key, &body, sig));
    if !signed {
        tracing::warn!(
            key,
            "anchor request with a missing or bad canister signature"
        );
        return error(StatusCode::UNAUTHORIZED, "Bad canister signature");
    }
    match service.anchor_once(key, body).await {
        Ok(answer) => json(StatusCode::OK, answer),
        Err((status, message)) => error(status, message),
    }
}

type Failure = (StatusCode, &'static str);

const STORE_DOWN: Failure = (StatusCode::SERVICE_UNAVAILABLE, "State store unavailable");

impl AnchorService {
    /// Uploads `body` once per `key` and answers the stored answer bytes.
    async fn anchor_once(&self, key: &str, body: Bytes) -> Result<Vec<u8>, Failure> {
        let record_key = state_key(key);
        let body_sha256 = hex::encode(Sha256::digest(&body));
        let started = tokio::time::Instant::now();
        loop {
            let current = self.state.get(&record_key).await.map_err(|e| {
                tracing::error!(key, error = %e, "anchor: reading the key's record failed");
                STORE_DOWN
            })?;
            let claim = KeyRecord::Claimed {
                body_sha256: body_sha256.clone(),
                claimed_at: now_ms(),
            };
            let claim_bytes = serde_json::to_vec(&claim).expect("a record serialises");
            let claimed_version = match current {
                None => match self.state.insert(&record_key, claim_bytes).await {
                    Ok(version) => Some(version),
                    Err(PortabilityError::Conflict { .. }) => None,
                    Err(e) => {
                        tracing::error!(key, error = %e, "anchor: claiming the key failed");
                        return Err(STORE_DOWN);
                    }
                },
                Some(stored) => match serde_json::from_slice::<KeyRecord>(&stored.value) {
                    Ok(KeyRecord::Done {
                        body_sha256: done_sha,
                        answer,
                    }) => {
                        return if done_sha == body_sha256 {
                            Ok(answer.into_bytes())
                        } else {
                            Err((
                                StatusCode::CONFLICT,
                                "Idempotency-Key was used with another body",
                            ))
                        };
                    }
                    Ok(KeyRecord::Claimed { claimed_at, .. })
                        if now_ms().saturating_sub(claimed_at)
                            > self.settings.claim_ttl.as_millis() as u64 =>
                    {
                        // The claimant is presumed dead: take the claim over.
                        match self
                            .state
                            .put(&record_key, claim_bytes, Some(stored.version))
                            .await
                        {
                            Ok(version) => Some(version),
                            Err(PortabilityError::Conflict { .. }) => None,
                            Err(_) => return Err(STORE_DOWN),
                        }
                    }
                    Ok(KeyRecord::Claimed { .. }) => None,
                    Err(_) => {
                        return Err((StatusCode::INTERNAL_SERVER_ERROR, "Corrupt anchor record"));
                    }
                },
            };
            if let Some(version) = claimed_version {
                return self
                    .upload(key, &record_key, version, body, body_sha256)
                    .await;
            }
            if started.elapsed() >= self.settings.wait {
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Anchor in progress, retry later",
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The claimant's part: upload, anchor, store the answer (or release the claim).
    async fn upload(
        &self,
        key: &str,
        record_key: &str,
        version: u64,
        body: Bytes,
        body_sha256: String,
    ) -> Result<Vec<u8>, Failure> {
        match self.store(key, body).await {
            Ok(answer) => {
                let bytes = serde_json::to_vec(&answer).expect("an answer serialises");
                let done = KeyRecord::Done {
                    body_sha256,
                    answer: String::from_utf8(bytes.clone()).expect("JSON is UTF-8"),
                };
                let done = serde_json::to_vec(&done).expect("a record serialises");
                if let Err(e) = self.state.put(record_key, done, Some(version)).await {
                    // Someone took the claim over (this one was too slow) or the store is
                    // down: the blob store dedupes the bytes, so a retry answers the same id.
                    tracing::warn!(key, error = %e, "anchor: storing the answer failed");
                    return Err(STORE_DOWN);
                }
                tracing::info!(key, id = %answer.id, "anchored a canister receipt batch");
                Ok(bytes)
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "anchor: upload failed; claim released");
                let _ = self.state.delete(record_key, Some(version)).await;
                Err((StatusCode::BAD_GATEWAY, "Anchor upload failed"))
            }
        }
    }

    async fn store(&self, key: &str, body: Bytes) -> Result<AnchorAnswer, PortabilityError> {
        let tags = [
            BlobTag {
                name: "App-Name".into(),
                value: "heaven-credits-receipts".into(),
            },
            BlobTag {
                name: "Idempotency-Key".into(),
                value: key.into(),
            },
        ];
        let stored = self.blobs.put(body, "application/json", &tags).await?;
        let arweave_url = match self.blobs.anchor(&stored.id).await {
            Ok(anchor) => Some(anchor.arweave_url),
            // Local disk cannot anchor (the local stack): the id is still the receipt's.
            Err(PortabilityError::InvalidInput(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(AnchorAnswer {
            key: key.to_owned(),
            id: stored.id,
            arweave_url,
        })
    }
}

#[cfg(test)]
mod tests;
