//! Tests of the `/api/self` routes, in the original's check order, plus the replay of their
//! events and what the names policy reads afterwards.

use canister_runtime::native::HostMemory;
use serde_json::{Value, json};

use super::*;
use crate::admin;
use crate::api::rng_from_seed;
use crate::state::User;

const NOW_SECS: u64 = 1_771_600_000; // 2026-02-20
const USER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

fn now() -> Now {
    Now::from_secs(NOW_SECS)
}

fn fresh(mock: bool) {
    state::install_memory(HostMemory::volatile());
    let config = SelfConfig {
        mock,
        ..SelfConfig::default()
    };
    admin::set_self_config(config, Now::from_secs(1)).unwrap();
}

fn post(path: &str, body: &Value) -> ApiRequest {
    ApiRequest::new(
        "POST",
        path,
        vec![("host".into(), "127.0.0.1:8787".into())],
        body.to_string().into_bytes(),
    )
}

fn answer(r: ApiResult) -> (u16, Value) {
    let r = r.unwrap_or_else(ApiError::into_response);
    (r.status, r.body_json())
}

fn open_session(seed: u8) -> Value {
    let mut rng = rng_from_seed([seed; 32]);
    let (status, body) = answer(create_session(
        &post(
            "/api/self/session",
            &json!({ "userAddress": USER.to_uppercase().replace("0X", "0x") }),
        ),
        now(),
        &mut rng,
    ));
    assert_eq!(status, 200, "{body}");
    body
}

fn webhook(context: &str, attestation: Value, at: Now) -> (u16, Value) {
    let body = json!({
        "attestationId": attestation,
        "proof": {"a": ["1", "2"], "b": [["3"]], "c": ["4"]},
        "publicSignals": [],
        "userContextData": context,
    });
    answer(run_verify(&post("/api/self/verify", &body), at))
}

/// Runs the webhook on a native runtime (mock mode and the refusals make no outcall).
pub(super) fn run_verify(req: &ApiRequest, at: Now) -> ApiResult {
    let dir = tempfile::tempdir().unwrap();
    let rt = canister_runtime::native::NativeRuntime::open(dir.path()).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(verify(&rt, req, at))
}

#[test]
fn session_is_created_then_reused_while_pending() {
    fresh(true);
    let first = open_session(1);
    let id = first["sessionId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(first["expiresAt"], json!(NOW_SECS + 600));
    let link = first["deeplinkUrl"].as_str().unwrap();
    assert_eq!(
        link,
        deeplink::deeplink_url(
            &state::with_config(|c| c.self_verification.clone()),
            &id,
            USER,
            "http://127.0.0.1:8787/api/self/verify"
        )
    );
    // A second request (another seed) gets the same pending session back.
    assert_eq!(open_session(2)["sessionId"], json!(id));
}

#[test]
fn session_input_errors() {
    fresh(true);
    let mut rng = rng_from_seed([0; 32]);
    for body in [
        json!({}),
        json!({"userAddress": "0x12"}),
        json!({"userAddress": 5}),
    ] {
        assert_eq!(
            answer(create_session(
                &post("/api/self/session", &body),
                now(),
                &mut rng
            )),
            (400, json!({"error": "Invalid address"}))
        );
    }
    let not_json = ApiRequest::new("POST", "/api/self/session", vec![], b"{".to_vec());
    assert_eq!(
        answer(create_session(&not_json, now(), &mut rng)),
        (400, json!({"error": "Invalid JSON body"}))
    );
}

#[test]
fn mock_webhook_verifies_and_the_identity_feeds_the_policy() {
    fresh(true);
    let user = User {
        address: USER.into(),
        created_at_ms: 1,
        last_active_at_ms: None,
        directory_tier: "claimed".into(),
    };
    let rows = crate::state::event::ImportRows {
        users: vec![user],
        ..Default::default()
    };
    admin::import_batch("seed".into(), 0, rows, now()).unwrap();
    let id = open_session(1)["sessionId"].as_str().unwrap().to_string();
    let context = format!("sessionId:{id}|dob:2000-02-21|nat:FRA");
    assert_eq!(
        webhook(&context, json!(1), now()),
        (200, json!({"status": "success", "result": true}))
    );
    assert_eq!(
        answer(session_status(&id, now())),
        (
            200,
            json!({"status": "verified", "age": 25, "nationality": "FRA", "verifiedAt": NOW_SECS})
        )
    );
    let (status, identity_body) = answer(identity(&USER.to_uppercase().replace("0X", "0x"), now()));
    assert_eq!(status, 200);
    assert_eq!(
        identity_body,
        json!({
            "address": USER, "dateOfBirth": "2000-02-21", "ageAtVerification": 25,
            "currentAge": 25, "nationality": "FRA", "verifiedAt": NOW_SECS,
            "hasShortNameCredential": true
        })
    );
    // Key order is the original's.
    let raw = identity(USER, now()).unwrap().body;
    assert!(
        String::from_utf8(raw)
            .unwrap()
            .starts_with(r#"{"address":"#)
    );
    // A day later the birthday has passed.
    let (_, later) = answer(identity(USER, Now::from_secs(NOW_SECS + 86_400)));
    assert_eq!(later["currentAge"], json!(26));
    // §7.5: the mock nullifier, namespaced and scoped.
    let raw_nullifier = format!(
        "0x{}",
        sha256_hex(&format!("self-mock-nullifier:v1:{USER}:1:{context}"))
    );
    let want = format!(
        "0x{}",
        sha256_hex(&format!("heaven-names:v1:heaven:{raw_nullifier}"))
    );
    let stored = state::with(|s| s.identities().get(&USER.to_string()))
        .unwrap()
        .0;
    assert_eq!(stored.nullifier_hash.as_deref(), Some(want.as_str()));
    // The directory user became verified.
    let tier = state::with(|s| s.users().get(&USER.to_string()))
        .unwrap()
        .0
        .directory_tier;
    assert_eq!(tier, "verified");
    // A new session is refused now.
    let mut rng = rng_from_seed([9; 32]);
    assert_eq!(
        answer(create_session(
            &post("/api/self/session", &json!({"userAddress": USER})),
            now(),
            &mut rng
        )),
        (
            400,
            json!({"error": "Already verified", "age": 25, "nationality": "FRA", "hasShortNameCredential": true})
        )
    );
    // The webhook again: the session is used.
    assert_eq!(
        webhook(&context, json!(1), now()).1["reason"],
        json!("Session already verified")
    );
    assert_eq!(
        crate::state::audit::check_against_log(),
        Ok(state::with(|s| s.event_count()))
    );
}

#[test]
fn webhook_errors_in_order() {
    fresh(true);
    let reason = |r: (u16, Value)| {
        assert_eq!(r.0, 200);
        assert_eq!(r.1["result"], json!(false));
        r.1["reason"].as_str().unwrap().to_string()
    };
    assert_eq!(
        reason(webhook("", json!(1), now())),
        "Missing session ID in userContextData"
    );
    assert_eq!(
        reason(webhook(&"a".repeat(32), json!(1), now())),
        "Session not found"
    );
    let id = open_session(1)["sessionId"].as_str().unwrap().to_string();
    // Under 18 fails the session.
    assert_eq!(
        reason(webhook(&format!("{id}|dob:2010-01-01"), json!(1), now())),
        "Must be 18 or older"
    );
    assert_eq!(
        answer(session_status(&id, now())),
        (
            200,
            json!({"status": "failed", "reason": "Must be 18 or older"})
        )
    );
    assert_eq!(
        reason(webhook(&id, json!(1), now())),
        "Session already failed"
    );
    // An unreadable date fails the session as "Verification failed".
    let id = open_session(2)["sessionId"].as_str().unwrap().to_string();
    assert_eq!(
        reason(webhook(&format!("{id}|dob:1990-02-30"), json!(1), now())),
        "Verification failed"
    );
    // Expiry: strictly after expires_at.
    let id = open_session(3)["sessionId"].as_str().unwrap().to_string();
    let expiry = Now::from_secs(NOW_SECS + 601);
    assert_eq!(reason(webhook(&id, json!(1), expiry)), "Session expired");
    assert_eq!(
        answer(session_status(&id, expiry)),
        (200, json!({"status": "expired"}))
    );
    // A missing attestation id cannot be stored: 400 (the original crashed).
    let id = open_session(4)["sessionId"].as_str().unwrap().to_string();
    assert_eq!(
        webhook(&id, Value::Null, now()),
        (
            400,
            json!({"status": "error", "result": false, "reason": "Invalid attestationId"})
        )
    );
    let not_json = ApiRequest::new("POST", "/api/self/verify", vec![], b"nope".to_vec());
    assert_eq!(answer(run_verify(&not_json, now())).0, 400);
}

#[test]
fn outside_mock_mode_without_a_verifier_the_webhook_fails_as_the_original() {
    fresh(false);
    let id = open_session(1)["sessionId"].as_str().unwrap().to_string();
    assert_eq!(
        webhook(&id, json!(1), now()).1,
        json!({"status": "error", "result": false, "reason": "Production verification not yet implemented"})
    );
    // The deeplink names production Self.
    let link = open_session(1)["deeplinkUrl"].as_str().unwrap().to_string();
    assert!(link.contains("%22endpointType%22%3A%22https%22"));
}

#[test]
fn polls_and_lookups() {
    fresh(true);
    assert_eq!(
        answer(session_status("nope", now())),
        (404, json!({"error": "Session not found"}))
    );
    let id = open_session(1)["sessionId"].as_str().unwrap().to_string();
    assert_eq!(
        session_status_query(&id, now()).map(answer),
        Some((200, json!({"status": "pending"})))
    );
    // Pending past expiry must be written: the read-only path declines.
    assert!(session_status_query(&id, Now::from_secs(NOW_SECS + 601)).is_none());
    assert_eq!(
        answer(identity("0x12", now())),
        (400, json!({"error": "Invalid address"}))
    );
    assert_eq!(
        answer(identity(USER, now())),
        (404, json!({"error": "No verified identity found"}))
    );
}
