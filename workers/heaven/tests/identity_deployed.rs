//! `heaven serve api` against a deployed identity canister (issue 16, ADR 0024): the real
//! identity wasm behind the harness's IC HTTP interface, reached through ic-agent as a
//! deployment reaches the IC.
//!
//! - The identity routes (a signed name registration and its lookups, claim and likes error
//!   paths, a like and the received list, candidates) answer what the native mode answers for
//!   the same requests, with `HEAVEN_ENV=production` (no dev key anywhere).
//! - An unreachable canister is 503 `{"error":"Service unavailable"}` with `Retry-After`,
//!   counted in `/metrics`; a canister the IC does not have (a reject) is a 502 with the
//!   service's JSON error, within the call timeout.
//! - `HEAVEN_ENV=production` without a deployed canister refuses to start the api service
//!   (exit 2) unless `HEAVEN_ALLOW_DEV_KEY=true`.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use candid::{Encode, Principal};
use common::{Heaven, free_port, run_to_end};
use ic_wasm_harness::ic_http::IcHttpServer;
use ic_wasm_harness::{Harness, canister_wasm};
use identity_canister::endpoints::AdminError;
use identity_canister::lifecycle::InitArg;
use identity_canister::testing::{address_hex as address, key_from_seed as key, personal_sign};
use k256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// The api worker's ic-agent identity.
fn worker_key() -> k256::SecretKey {
    k256::SecretKey::from_slice(&[9; 32]).unwrap()
}

fn worker_pem() -> String {
    worker_key()
        .to_sec1_pem(LineEnding::LF)
        .unwrap()
        .to_string()
}

/// The identity wasm, development routes open as in the native default, the worker a trusted
/// edge.
async fn identity_canister() -> (IcHttpServer, Principal) {
    let mut harness = Harness::at_wall_clock();
    let wasm = canister_wasm("identity").unwrap_or_else(|e| panic!("{e}"));
    let init = Encode!(&InitArg {
        ecdsa_key_name: "dfx_test_key".into()
    })
    .unwrap();
    let c = harness.create_and_install(&wasm, init).unwrap();
    let der = worker_key().public_key().to_public_key_der().unwrap();
    let worker = Principal::self_authenticating(der.as_bytes()).to_text();
    let reply = harness
        .update_call(
            c,
            Harness::controller(),
            "set_access",
            Encode!(&true, &vec![worker]).unwrap(),
        )
        .unwrap();
    assert_eq!(
        candid::decode_one::<Result<(), AdminError>>(&reply).unwrap(),
        Ok(())
    );
    (IcHttpServer::start(harness).await.unwrap(), c)
}

/// `heaven serve api` in production mode against `canister` at `ic_url`.
fn serve_deployed(
    data: &std::path::Path,
    ic_url: &str,
    network: &str,
    canister: &str,
    pem: &str,
) -> Heaven {
    Heaven::start(
        &["serve", "api"],
        data,
        &[
            ("HEAVEN_ENV", "production"),
            ("ICP_URL", ic_url),
            ("ICP_NETWORK", network),
            ("ICP_IDENTITY_PEM", pem),
            ("ICP_IDENTITY_CANISTER_ID", canister),
            ("ICP_CALL_TIMEOUT_MS", "3000"),
        ],
        false,
    )
}

/// An answer: status and JSON body.
type Answer = (u16, Value);

async fn send(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Answer {
    let url = format!("{base}{path}");
    let mut request = match method {
        "GET" => http.get(url),
        _ => http.post(url),
    };
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The same request to the native and the deployed api; both answers.
async fn both(
    http: &reqwest::Client,
    native: &str,
    deployed: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (Answer, Answer) {
    (
        send(http, native, method, path, body).await,
        send(http, deployed, method, path, body).await,
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn register_body(label: &str, owner_seed: u8) -> String {
    let owner_key = key(owner_seed);
    let owner = address(&owner_key);
    let nonce = "deployed-nonce-00000001";
    let now = unix_now();
    let message = [
        "heaven-registry:v1".to_owned(),
        "action=register".to_owned(),
        "tld=heaven".to_owned(),
        format!("label={label}"),
        format!("pkp={owner}"),
        format!("nonce={nonce}"),
        format!("issued_at={now}"),
        format!("expires_at={}", now + 120),
        "profile_cid=".to_owned(),
    ]
    .join("\n");
    json!({
        "label": label,
        "pkpAddress": owner,
        "signature": personal_sign(&owner_key, &message),
        "nonce": nonce,
        "timestamp": now,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_routes_through_ic_agent_answer_as_the_native_canister_does() {
    let (ic, canister) = identity_canister().await;
    let (native_dir, deployed_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let native_stack = Heaven::start(&["serve", "api"], native_dir.path(), &[], false);
    let deployed_stack = serve_deployed(
        deployed_dir.path(),
        &ic.url(),
        "local",
        &canister.to_text(),
        &worker_pem(),
    );
    let (native, deployed) = (native_stack.url("api"), deployed_stack.url("api"));
    let http = reqwest::Client::new();
    let viewer = address(&key(21));
    let target = address(&key(22));

    // Deterministic answers: identical status and body.
    let like =
        json!({ "viewerAddress": viewer, "targetType": "user", "targetId": target }).to_string();
    let like_back =
        json!({ "viewerAddress": target, "targetType": "user", "targetId": viewer }).to_string();
    let exact: Vec<(&str, String, Option<String>)> = vec![
        ("GET", "/api/names/available/skyline".into(), None),
        (
            "POST",
            "/api/names/register".into(),
            Some("{not json".into()),
        ),
        ("GET", "/api/names/nobody-here".into(), None),
        ("POST", "/api/claim/verify-bio".into(), Some("{}".into())),
        ("GET", "/api/claim/no-such-token".into(), None),
        (
            "POST",
            "/api/likes".into(),
            Some(r#"{"viewerAddress":"nope"}"#.into()),
        ),
        ("POST", "/api/likes".into(), Some(like)),
        ("POST", "/api/likes".into(), Some(like_back)),
        (
            "GET",
            format!("/api/likes/received?viewerAddress={target}"),
            None,
        ),
        ("GET", format!("/api/self/identity/{viewer}"), None),
        ("GET", "/api/wallet/no-such-action".into(), None),
    ];
    let mut statuses = Vec::new();
    for (method, path, body) in &exact {
        let (a, b) = both(&http, &native, &deployed, method, path, body.as_deref()).await;
        assert_eq!(a, b, "{method} {path}: native vs deployed");
        statuses.push(a.0);
    }
    assert_eq!(statuses[0], 200, "availability answered");
    assert!(
        statuses.iter().any(|s| (400..500).contains(s)),
        "error paths are part of the comparison: {statuses:?}"
    );

    // A signed registration, then its lookups (timestamps differ by the seconds between the
    // two calls, so the identity fields are compared).
    let body = register_body("skyline", 7);
    let (a, b) = both(
        &http,
        &native,
        &deployed,
        "POST",
        "/api/names/register",
        Some(body.as_str()),
    )
    .await;
    assert_eq!(a.0, 200, "{}", a.1);
    assert_eq!((b.0, &b.1["success"]), (200, &json!(true)), "{}", b.1);
    let (a, b) = both(&http, &native, &deployed, "GET", "/api/names/skyline", None).await;
    assert_eq!(b.0, 200, "{}", b.1);
    for field in ["label", "pkp_address", "status"] {
        assert_eq!(a.1[field], b.1[field], "{field}");
    }
    assert_eq!(b.1["pkp_address"], json!(address(&key(7))));
    let (a, b) = both(
        &http,
        &native,
        &deployed,
        "GET",
        "/api/names/available/skyline",
        None,
    )
    .await;
    assert_eq!(a, b);
    assert_eq!(b.1, json!({ "available": false, "reason": "taken" }));
    let candidates = format!("/api/candidates?viewerAddress={viewer}");
    let (a, b) = both(&http, &native, &deployed, "GET", &candidates, None).await;
    assert_eq!(a.0, b.0, "{} vs {}", a.1, b.1);

    // Nothing failed on the way: no bridge failure counted.
    let metrics = http
        .get(format!("{deployed}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("canister_bridge_failures_total{"),
        "{metrics}"
    );

    // A canister id the IC does not have: a reject, answered 502 with the JSON error.
    let missing = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x7f, 1, 1]);
    assert_ne!(missing, canister);
    let reject_dir = tempfile::tempdir().unwrap();
    let reject_stack = serve_deployed(
        reject_dir.path(),
        &ic.url(),
        "local",
        &missing.to_text(),
        &worker_pem(),
    );
    let started = Instant::now();
    let answer = send(
        &http,
        &reject_stack.url("api"),
        "GET",
        "/api/names/skyline",
        None,
    )
    .await;
    assert_eq!(answer, (502, json!({ "error": "Identity canister error" })));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_canister_is_503_with_retry_after_and_counted() {
    let data = tempfile::tempdir().unwrap();
    // Mainnet mode (no root key fetched at start) at an address nothing listens on.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let stack = serve_deployed(
        data.path(),
        &nowhere,
        "ic",
        "rrkah-fqaaa-aaaaa-aaaaq-cai",
        &worker_pem(),
    );
    let api = stack.url("api");
    let started = Instant::now();
    let response = reqwest::get(format!("{api}/api/names/skyline"))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "never a hang");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "error": "Service unavailable" })
    );
    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = metrics.lines().find(|line| {
        line.starts_with("canister_bridge_failures_total{")
            && line.contains(r#"canister="identity""#)
            && line.contains(r#"method="edge_request""#)
            && line.contains(r#"kind="unreachable""#)
    });
    assert!(
        counted.is_some_and(|line| line.ends_with(" 1")),
        "{metrics}"
    );
}

#[test]
fn production_refuses_the_native_dev_key_unless_opted_in() {
    let data = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_to_end(
        &["serve", "api"],
        data.path(),
        &[("HEAVEN_ENV", "production")],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ICP_IDENTITY_CANISTER_ID"), "{stderr}");
    assert!(stderr.contains("HEAVEN_ALLOW_DEV_KEY=true"), "{stderr}");
    assert!(
        !data.path().join("identity-canister.stable").exists(),
        "nothing was started"
    );

    let opted_in = Heaven::start(
        &["serve", "api"],
        data.path(),
        &[
            ("HEAVEN_ENV", "production"),
            ("HEAVEN_ALLOW_DEV_KEY", "true"),
        ],
        false,
    );
    assert_eq!(opted_in.rows[0].2, "running");
    let (exit, _) = opted_in.stop();
    assert!(exit.success());
    assert!(data.path().join("identity-canister.stable").is_file());
}
