//! Tests of the claim routes, in the original's check order: fixtures here, each route's
//! tests in a submodule.

use k256::ecdsa::SigningKey;
use serde_json::{Value, json};

use std::cell::Cell;

use canister_runtime::native::HostMemory;

use super::*;
use crate::admin;
use crate::api::rng_from_seed;
use crate::endpoints::SecretName;
use crate::state::User;

mod complete;
mod link;
mod start;
mod verify;

const NOW_SECS: u64 = 1_771_600_000;
const HARDHAT0_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const HARDHAT0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const VECTOR_CLAIM_ID: &str = "11111111-2222-3333-4444-555555555555";
const VECTOR_NONCE: &str = "abcdef0123456789";
const VECTOR_SIGNATURE: &str = "0x14ec874dcc9257331ea537a449751d8911926f703cb872f575fa69d139f85eca2c4654dd747c37f522f70495546426048f2f2f19ca9f0d374960f88bdc201fde1c";

fn now() -> Now {
    Now::from_secs(NOW_SECS)
}

thread_local! {
    /// Where the audit log stood once [`fresh`] set the state up.
    static FIRST_EVENT: Cell<u64> = const { Cell::new(0) };
}

/// A fresh, empty state on this thread, with the given environment and start secret.
fn fresh(development: bool, secret: Option<&str>) {
    state::install_memory(HostMemory::volatile());
    admin::set_access(development, vec![], Now::from_secs(1)).unwrap();
    admin::set_secret(
        SecretName::ClaimStart,
        secret.map(str::to_string),
        Now::from_secs(1),
    );
    FIRST_EVENT.with(|f| f.set(state::with(|s| s.event_count())));
}

fn profile(id: &str) -> ShadowProfile {
    ShadowProfile {
        id: id.to_string(),
        source: "dateme".to_string(),
        source_url: Some(format!("https://dateme.directory/{id}")),
        display_name: Some("Alex".to_string()),
        bio: Some("Likes hiking".to_string()),
        age_bucket: Some(2),
        gender_identity: Some(1),
        location: Some("San Francisco".to_string()),
        anime_cid: Some("bafyanime".to_string()),
        featured_rank: 1,
        created_at_ms: 1_000,
        updated_at_ms: 1_000,
        claimed_address: None,
        claimed_at_ms: None,
        likes_received: 3,
    }
}

fn add_profile(p: ShadowProfile) {
    upsert_shadow_profile(p, Now::from_secs(1));
}

/// Starts a claim issued a second ago, as `start` would, with the given link token and code.
fn add_claim(id: &str, profile_id: &str, token: &str, code: &str, method: &str) {
    add_claim_with_code_hash(id, profile_id, token, &sha256_hex(code), method);
}

fn add_claim_with_code_hash(
    id: &str,
    profile_id: &str,
    token: &str,
    code_hash: &str,
    method: &str,
) {
    let issued = Now::from_ns(now().ns - 1_000_000_000);
    state::mutate(|s| {
        process_event(
            s,
            issued,
            EventType::ClaimStarted {
                claim_id: id.to_string(),
                shadow_profile_id: profile_id.to_string(),
                method: method.to_string(),
                token_hash: sha256_hex(token),
                human_code_hash: code_hash.to_string(),
                expires_at_ms: now().millis() + CLAIM_TTL_MS,
            },
        )
    });
}

/// Uses up the claim `id` (completed by [`HARDHAT0`]).
fn use_claim(id: &str) {
    state::mutate(|s| {
        process_event(
            s,
            now(),
            EventType::ClaimCompleted {
                claim_id: id.to_string(),
                address: HARDHAT0.into(),
            },
        )
    });
}

fn claim(id: &str) -> ClaimToken {
    state::with(|s| s.claim_tokens().get(&id.to_string()).unwrap().0)
}

fn stored_profile(id: &str) -> ShadowProfile {
    state::with(|s| s.shadow_profiles().get(&id.to_string()).unwrap().0)
}

/// Counts events from here on (after a test's fixtures).
fn mark() {
    FIRST_EVENT.with(|f| f.set(state::with(|s| s.event_count())));
}

/// The events recorded since [`fresh`] (or [`mark`]).
fn events() -> Vec<EventType> {
    let first = FIRST_EVENT.with(Cell::get);
    state::with(|s| s.events_from(first).map(|e| e.payload).collect())
}

fn post(body: Value) -> ApiRequest {
    post_raw(body.to_string().as_bytes())
}

fn post_raw(body: &[u8]) -> ApiRequest {
    ApiRequest::new("POST", "/api/claim/x", vec![], body.to_vec())
}

fn with_secret(mut req: ApiRequest, secret: &str) -> ApiRequest {
    req.headers
        .push(("x-claim-start-secret".to_string(), secret.to_string()));
    req
}

fn rng() -> Rng {
    rng_from_seed([7; 32])
}

/// Status and compact JSON of a result.
fn answer(r: ApiResult) -> (u16, String) {
    let response = r.unwrap_or_else(ApiError::into_response);
    (response.status, String::from_utf8(response.body).unwrap())
}

fn error(status: u16, message: &str) -> (u16, String) {
    (status, json!({ "error": message }).to_string())
}

use crate::testing::{address_hex as address_of, key_from_hex as key, personal_sign as sign};

fn complete_body(claim_id: &str, address: &str, signature: &str, ts: u64, nonce: &str) -> Value {
    json!({
        "claimId": claim_id,
        "address": address,
        "signature": signature,
        "timestamp": ts,
        "nonce": nonce,
    })
}

/// A complete request for `claim_id` on `profile_id`, signed by `k` at `ts`.
fn signed_complete(k: &SigningKey, claim_id: &str, profile_id: &str, ts: u64) -> ApiRequest {
    let address = address_of(k);
    let message = claim_message(claim_id, profile_id, &address, VECTOR_NONCE, ts as i64);
    post(complete_body(
        claim_id,
        &address,
        &sign(k, &message),
        ts,
        VECTOR_NONCE,
    ))
}

// ---- import ----

#[test]
fn upsert_replaces_by_id_and_keeps_claim_fields() {
    fresh(false, None);
    add_profile(profile("p"));
    let claimed = ShadowProfile {
        display_name: Some("Alexandra".into()),
        claimed_address: Some(HARDHAT0.into()),
        claimed_at_ms: Some(9),
        ..profile("p")
    };
    upsert_shadow_profile(claimed.clone(), Now::from_secs(2));
    assert_eq!(stored_profile("p"), claimed);
    assert_eq!(state::with(|s| s.shadow_profiles().len()), 1);
    assert_eq!(
        events(),
        vec![
            EventType::ShadowProfileImported {
                profile: profile("p")
            },
            EventType::ShadowProfileImported { profile: claimed },
        ]
    );
}
