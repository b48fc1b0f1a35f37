//! Tests of the HTTP gateway: certified reads, upgrades to update, CORS.

use canister_runtime::native::NativeRuntime;
use ic_http_certification::HttpRequest;

use super::*;
use crate::admin;
use crate::state::audit::process_event;
use crate::state::{IdentityRecord, NamesPolicyConfig};

/// A native runtime (for the certified data) over a temporary data dir.
fn runtime() -> (NativeRuntime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (NativeRuntime::open(dir.path()).unwrap(), dir)
}

/// Registers `label` at second 1, as a signed request would.
fn register(label: &str, expires_at: u64, grace_ends_at: u64) {
    state::mutate(|s| {
        process_event(
            s,
            Now::from_secs(1),
            EventType::NameRegistered {
                label: label.into(),
                label_display: label.into(),
                owner: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".into(),
                profile_cid: None,
                expires_at,
                grace_ends_at,
                nonce: format!("gateway-test-{label}"),
                ip_hash: None,
            },
        )
    });
}

#[test]
fn certified_names_are_served_from_the_query_until_grace_ends() {
    register("alice", 100, 200);
    rebuild(Now::from_secs(50));
    assert_eq!(certified_paths(), vec!["/api/names/alice", "/health"]);
    let root = root_hash();

    let req = HttpRequest::get("/api/names/alice")
        .with_headers(vec![("Origin".into(), "https://heaven.xyz".into())])
        .build();
    let resp = serve_query(&req, Now::from_secs(150), Some(vec![1, 2, 3]));
    assert_eq!(resp.upgrade(), None);
    assert_eq!(resp.status_code(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["label"], "alice");
    assert!(
        header(resp.headers(), "ic-certificate")
            .unwrap()
            .contains("version=2")
    );
    assert_eq!(
        header(resp.headers(), "access-control-allow-origin"),
        Some("https://heaven.xyz")
    );

    // Past grace: upgrade (the update answers 404) even before the sweep.
    let resp = serve_query(&req, Now::from_secs(201), Some(vec![1]));
    assert_eq!(resp.upgrade(), Some(true));
    let (rt, _dir) = runtime();
    sweep(&rt, Now::from_secs(201));
    assert_eq!(certified_paths(), vec!["/health"]);
    assert_ne!(root_hash(), root);
    assert_eq!(rt.certified_data(), root_hash());
}

#[test]
fn uncertified_reads_writes_and_missing_certificates_upgrade() {
    rebuild(Now::from_secs(1));
    let upgrade = |req: HttpRequest, cert: Option<Vec<u8>>| {
        serve_query(&req, Now::from_secs(1), cert).upgrade()
    };
    assert_eq!(
        upgrade(HttpRequest::get("/api/names/nobody").build(), Some(vec![1])),
        Some(true)
    );
    assert_eq!(
        upgrade(HttpRequest::get("/api/claim/abc").build(), Some(vec![1])),
        Some(true)
    );
    assert_eq!(
        upgrade(
            HttpRequest::post("/api/names/register").build(),
            Some(vec![1])
        ),
        Some(true)
    );
    assert_eq!(
        upgrade(HttpRequest::get("/health").build(), None),
        Some(true)
    );
    assert_eq!(
        upgrade(HttpRequest::get("/health?x=1").build(), Some(vec![1])),
        None
    );
}

#[test]
fn touched_names_are_recertified_from_the_audit_log() {
    let (rt, _dir) = runtime();
    rebuild(Now::from_secs(1));
    let recertify = Recertify::start();
    register("bobby", 100, 200);
    recertify.finish(&rt, Now::from_secs(2));
    assert!(certified_paths().contains(&"/api/names/bobby".to_string()));
    assert_eq!(rt.certified_data(), root_hash());
}

#[test]
fn controller_changes_recertify_what_they_touch_and_only_that() {
    let (rt, _dir) = runtime();
    rebuild(Now::from_secs(1));
    // The signer answer appears once the key is known, and carries the policy's chain.
    let key_fetched = EventType::SignerKeyFetched {
        key_name: String::new(),
        role: crate::signer::Role::PolicySigner.name().into(),
        public_key: hex::decode(
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        )
        .unwrap(),
        address: "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf".into(),
    };
    certified(&rt, |now| {
        state::mutate(|s| process_event(s, now, key_fetched))
    });
    assert!(certified_paths().contains(&SIGNER_PATH.to_string()));
    let signer = CERTIFIED.with_borrow(|c| c[SIGNER_PATH].response.body().to_vec());
    let config = NamesPolicyConfig {
        chain_id: 7,
        ..NamesPolicyConfig::default()
    };
    certified(&rt, |now| admin::set_names_policy_config(config, now)).unwrap();
    let changed = CERTIFIED.with_borrow(|c| c[SIGNER_PATH].response.body().to_vec());
    assert_ne!(signer, changed);
    assert!(
        String::from_utf8(changed)
            .unwrap()
            .contains(r#""chainId":7"#)
    );
    assert_eq!(rt.certified_data(), root_hash());

    // Reserving a label changes no certified answer; importing an identity certifies its
    // `GET /api/self/identity/<address>`.
    let root = root_hash();
    certified(&rt, |now| {
        admin::set_reserved("alice", Some("team".into()), now)
    });
    assert_eq!(root_hash(), root);
    let record = IdentityRecord {
        address: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".into(),
        nullifier_hash: None,
        verified_at: 1,
        ..Default::default()
    };
    certified(&rt, |now| admin::import_identities(vec![record], now)).unwrap();
    assert_ne!(root_hash(), root);
    let path = "/api/self/identity/0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    assert!(certified_paths().contains(&path.to_string()));
    assert_eq!(rt.certified_data(), root_hash());
}

#[tokio::test]
async fn options_preflight_and_cors_on_updates() {
    let dir = tempfile::tempdir().unwrap();
    let rt = canister_runtime::native::NativeRuntime::open(dir.path()).unwrap();
    let req: HttpUpdateRequest = HttpRequest::builder()
        .with_method(ic_http_certification::Method::OPTIONS)
        .with_url("/api/names/permit")
        .with_headers(vec![("Origin".into(), "http://evil.example".into())])
        .build()
        .into();
    let resp = serve_update(&rt, &req, Now::from_secs(1)).await;
    assert_eq!(resp.status_code(), StatusCode::NO_CONTENT);
    assert_eq!(header(resp.headers(), "access-control-allow-origin"), None);
    assert_eq!(
        header(resp.headers(), "access-control-allow-methods"),
        Some(ALLOW_METHODS)
    );
    let req: HttpUpdateRequest = HttpRequest::get("/nowhere")
        .with_headers(vec![("origin".into(), "http://localhost:5173".into())])
        .build()
        .into();
    let resp = serve_update(&rt, &req, Now::from_secs(1)).await;
    assert_eq!(resp.status_code(), StatusCode::NOT_FOUND);
    assert_eq!(resp.body(), br#"{"error":"Not found"}"#);
    assert_eq!(
        header(resp.headers(), "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
}

#[tokio::test]
async fn self_answers_are_certified_after_the_webhook_and_served_while_they_hold() {
    let (rt, _dir) = runtime();
    let t0 = 1_771_600_000; // 2026-02-20
    rebuild(Now::from_secs(t0));
    let config = crate::state::SelfConfig {
        mock: true,
        ..Default::default()
    };
    certified(&rt, |now| admin::set_self_config(config, now)).unwrap();
    let user = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    let post = |path: &str, body: serde_json::Value| -> HttpUpdateRequest<'static> {
        HttpRequest::post(path.to_string())
            .with_headers(vec![("host".into(), "x.icp0.io".into())])
            .with_body(body.to_string().into_bytes())
            .build()
            .into()
    };
    let created = serve_update(
        &rt,
        &post(
            "/api/self/session",
            serde_json::json!({"userAddress": user}),
        ),
        Now::from_secs(t0),
    )
    .await;
    let created: serde_json::Value = serde_json::from_slice(created.body()).unwrap();
    let id = created["sessionId"].as_str().unwrap().to_string();
    // The deeplink names this host over https.
    assert!(
        created["deeplinkUrl"]
            .as_str()
            .unwrap()
            .contains("https%3A%2F%2Fx.icp0.io%2Fapi%2Fself%2Fverify")
    );
    let session_path = format!("/api/self/session/{id}");
    let poll = HttpRequest::get(session_path.clone()).build();
    let pending = serve_query(&poll, Now::from_secs(t0 + 1), Some(vec![1]));
    assert_eq!(
        resp_json(&pending),
        serde_json::json!({"status": "pending"})
    );
    assert!(header(pending.headers(), "ic-certificate").is_some());
    // Past expiry the query declines: an update marks the session expired.
    assert_eq!(
        serve_query(&poll, Now::from_secs(t0 + 601), Some(vec![1])).upgrade(),
        Some(true)
    );

    let webhook = post(
        "/api/self/verify",
        serde_json::json!({"attestationId": 1, "proof": {}, "publicSignals": [],
                           "userContextData": format!("{id}|dob:2000-02-21|nat:FRA")}),
    );
    let answer = serve_update(&rt, &webhook, Now::from_secs(t0 + 2)).await;
    assert_eq!(answer.body(), br#"{"status":"success","result":true}"#);
    assert_eq!(rt.certified_data(), root_hash());

    let verified = serve_query(&poll, Now::from_secs(t0 + 3), Some(vec![1]));
    assert_eq!(resp_json(&verified)["status"], "verified");
    let lookup = HttpRequest::get(format!("/api/self/identity/{user}")).build();
    let identity = serve_query(&lookup, Now::from_secs(t0 + 3), Some(vec![1]));
    assert_eq!(identity.upgrade(), None);
    assert_eq!(resp_json(&identity)["currentAge"], 25);
    assert!(header(identity.headers(), "ic-certificate").is_some());
    // On the birthday the certified `currentAge` is stale: answered by update instead.
    assert_eq!(
        serve_query(&lookup, Now::from_secs(t0 + 86_400), Some(vec![1])).upgrade(),
        Some(true)
    );
    // A mixed-case address is not a certified path.
    let mixed = HttpRequest::get(format!(
        "/api/self/identity/{}",
        user.to_uppercase().replace("0X", "0x")
    ))
    .build();
    assert_eq!(
        serve_query(&mixed, Now::from_secs(t0 + 3), Some(vec![1])).upgrade(),
        Some(true)
    );
    // An upgrade rebuilds the same certifications.
    let root = root_hash();
    rebuild(Now::from_secs(t0 + 3));
    assert_eq!(root_hash(), root);
}

fn resp_json(resp: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(resp.body()).unwrap()
}
