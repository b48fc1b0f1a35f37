//! Wallet login over real HTTP: nonce, EIP-191 verification, JWT, and every refusal with the
//! original's status and body; plus the edge (404 text, CORS preflight).

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Service, User, assert_error, config, text};
use portability::StateStoreJsonExt;
use serde_json::{Value, json};
use voice_agent::auth::SessionToken;
use voice_agent::sessions::NonceRecord;

fn now_ms() -> i64 {
    voice_agent::state::now_ms()
}

#[tokio::test]
async fn good_signature_gives_a_one_hour_jwt_for_the_checksummed_wallet() {
    let service = Service::start(config(&[])).await;
    let user = User::new(1);
    let lower = user.wallet.to_lowercase();
    let response = service
        .post("/auth/nonce", None, json!({ "wallet": lower }))
        .await;
    assert_eq!(response.status(), 200);
    let issued: Value = response.json().await.unwrap();
    assert_eq!(issued["wallet"], user.wallet.as_str());
    let nonce = issued["nonce"].as_str().unwrap();
    assert!(nonce.starts_with("neo:") && nonce.len() == 36);
    let expires = issued["expiresAt"].as_i64().unwrap();
    assert!((expires - now_ms() - 600_000).abs() < 5_000);

    let response = service
        .post(
            "/auth/verify",
            None,
            json!({"wallet": lower, "signature": user.sign(nonce), "nonce": nonce}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["wallet"], user.wallet.as_str());
    let token = body["token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(parts[0]).unwrap(),
        br#"{"alg":"HS256"}"#
    );
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["sub"], user.wallet.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}

#[tokio::test]
async fn wrong_wallet_expired_malformed_and_reused_are_the_same_401() {
    let service = Service::start(config(&[])).await;
    let (user, other) = (User::new(1), User::new(2));
    let wallet = user.wallet.to_string();
    let verify = |signature: String, nonce: String| {
        let wallet = wallet.clone();
        let service = &service;
        async move {
            service
                .post(
                    "/auth/verify",
                    None,
                    json!({"wallet": wallet, "signature": signature, "nonce": nonce}),
                )
                .await
        }
    };
    const REFUSED: &str = "signature verification failed";

    // Signed by another wallet.
    let nonce = service.nonce(&wallet).await;
    assert_error(
        verify(other.sign(&nonce), nonce.clone()).await,
        401,
        REFUSED,
    )
    .await;
    // Malformed signatures: 401, not the original's 500.
    for bad in [
        "0x1234",
        "not-hex",
        "0x".to_owned().as_str(),
        &format!("0x{}", "ab".repeat(65)),
    ] {
        assert_error(verify(bad.to_owned(), nonce.clone()).await, 401, REFUSED).await;
    }
    // Another nonce than the outstanding one.
    assert_error(
        verify(user.sign("neo:other"), "neo:other".into()).await,
        401,
        REFUSED,
    )
    .await;
    // The right one works once, then is consumed: a replay is refused.
    let good = user.sign(&nonce);
    assert_eq!(verify(good.clone(), nonce.clone()).await.status(), 200);
    assert_error(verify(good, nonce).await, 401, REFUSED).await;

    // Expired: the stored record says so.
    let nonce = service.nonce(&wallet).await;
    let key = format!("voice-agent/nonces/{wallet}");
    let (mut record, _) = service
        .store
        .get_json::<NonceRecord>(&key)
        .await
        .unwrap()
        .unwrap();
    record.expires_at = now_ms() - 1;
    service.store.put_json(&key, &record, None).await.unwrap();
    assert_error(verify(user.sign(&nonce), nonce).await, 401, REFUSED).await;

    // A second nonce replaces the first.
    let first = service.nonce(&wallet).await;
    let _second = service.nonce(&wallet).await;
    assert_error(verify(user.sign(&first), first).await, 401, REFUSED).await;

    // A wallet that never asked.
    let response = service
        .post("/auth/verify", None, json!({"wallet": other.wallet.as_str(), "signature": other.sign("neo:x"), "nonce": "neo:x"}))
        .await;
    assert_error(response, 401, REFUSED).await;
}

#[tokio::test]
async fn concurrent_verifications_of_one_nonce_succeed_once() {
    let service = Service::start(config(&[])).await;
    let user = User::new(3);
    let nonce = service.nonce(user.wallet.as_str()).await;
    let body =
        json!({"wallet": user.wallet.as_str(), "signature": user.sign(&nonce), "nonce": nonce});
    let attempts = (0..8).map(|_| service.post("/auth/verify", None, body.clone()));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 401).count(),
        7,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn missing_fields_and_invalid_wallets() {
    let service = Service::start(config(&[])).await;
    assert_error(
        service.post("/auth/nonce", None, json!({})).await,
        400,
        "wallet required",
    )
    .await;
    assert_error(
        service
            .post("/auth/nonce", None, json!({"wallet": ""}))
            .await,
        400,
        "wallet required",
    )
    .await;
    let raw = service
        .http
        .post(format!("{}/auth/nonce", service.base))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_error(raw, 400, "wallet required").await;
    assert_error(
        service
            .post("/auth/verify", None, json!({"wallet": "0x1", "nonce": "n"}))
            .await,
        400,
        "wallet, signature, nonce required",
    )
    .await;
    // An invalid address, a non-string and a huge string are a JSON 400 on both routes (the
    // original crashed into Hono's plain-text 500).
    let huge = "a".repeat(900 * 1024);
    for wallet in [json!("0x1234"), json!(12345), json!({"x": 1}), json!(huge)] {
        assert_error(
            service
                .post("/auth/nonce", None, json!({ "wallet": wallet }))
                .await,
            400,
            "invalid wallet",
        )
        .await;
        assert_error(
            service
                .post(
                    "/auth/verify",
                    None,
                    json!({ "wallet": wallet, "signature": "0x00", "nonce": "n" }),
                )
                .await,
            400,
            "invalid wallet",
        )
        .await;
    }
    // Unprefixed and uppercase forms are accepted.
    let user = User::new(4);
    let upper = format!("0x{}", user.wallet.as_str()[2..].to_ascii_uppercase());
    let response = service
        .post("/auth/nonce", None, json!({"wallet": upper}))
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["wallet"],
        user.wallet.as_str()
    );
    let response = service
        .post(
            "/auth/nonce",
            None,
            json!({"wallet": &user.wallet.as_str()[2..]}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn jwt_refusals() {
    let service = Service::start(config(&[])).await;
    let user = User::new(5);
    let expired = SessionToken::new(common::JWT_SECRET).issue(&user.wallet, now_ms() / 1000 - 3600);
    let foreign = SessionToken::new("another-secret").issue(&user.wallet, now_ms() / 1000);
    let stop = "/agent/00000000-0000-4000-8000-000000000000/stop";
    for path in ["/agent/start", stop, "/chat/send", "/chat/stream"] {
        assert_error(
            service.post(path, None, json!({})).await,
            401,
            "Missing Authorization: Bearer <jwt>",
        )
        .await;
        let basic = service
            .http
            .post(format!("{}{path}", service.base))
            .header("authorization", "Basic abc")
            .send()
            .await
            .unwrap();
        assert_error(basic, 401, "Missing Authorization: Bearer <jwt>").await;
        for token in [expired.as_str(), foreign.as_str(), "garbage"] {
            assert_error(
                service.post(path, Some(token), json!({})).await,
                401,
                "Invalid token",
            )
            .await;
        }
    }
    // A good token gets past auth (the session does not exist).
    let token = service.login(&user).await;
    assert_error(
        service.post(stop, Some(&token), json!({})).await,
        404,
        "session not found",
    )
    .await;
}

#[tokio::test]
async fn edge_behaves_like_hono() {
    let service = Service::start(config(&[])).await;
    for (method, path) in [
        ("POST", "/health"),
        ("GET", "/auth/nonce"),
        ("POST", "/agent/start/"),
        ("POST", "/nope"),
    ] {
        let response = service
            .http
            .request(method.parse().unwrap(), format!("{}{path}", service.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert_eq!(text(response).await, "404 Not Found");
    }
    // New: a health route like the other services'.
    let health = service
        .http
        .get(format!("{}/health", service.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(text(health).await, r#"{"ok":true,"service":"voice-agent"}"#);
    let preflight = service
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/chat/stream", service.base),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-methods"],
        "GET,POST,OPTIONS"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "content-type,authorization"
    );
}

#[tokio::test]
async fn nonces_are_limited_per_client_address_and_per_wallet() {
    let service = Service::start(config(&[
        ("NONCE_LIMIT_PER_IP_10M", "5"),
        ("NONCE_LIMIT_PER_WALLET_10M", "3"),
    ]))
    .await;
    let wallet = User::new(7).wallet.to_string();
    for _ in 0..3 {
        service.nonce(&wallet).await;
    }
    let refused = service
        .post("/auth/nonce", None, json!({ "wallet": wallet }))
        .await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry_after), "{retry_after}");
    assert_error(refused, 429, "rate limited").await;
    // Other wallets from the same address until the address's budget (5, the refused one
    // included) is spent.
    service.nonce(&User::new(8).wallet.to_string()).await;
    let refused = service
        .post(
            "/auth/nonce",
            None,
            json!({ "wallet": User::new(9).wallet.to_string() }),
        )
        .await;
    assert_error(refused, 429, "rate limited").await;
}

#[tokio::test]
async fn expired_nonces_are_swept_without_a_verify() {
    let service = Service::start(config(&[])).await;
    let book = voice_agent::sessions::SessionBook::new(service.store.clone());
    for (i, expires_at) in [(1u8, 1_000), (2, 2_000), (3, i64::MAX)] {
        book.put_nonce(&voice_agent::sessions::NonceRecord {
            wallet: User::new(i).wallet.to_string(),
            nonce_hash: "00".repeat(32),
            expires_at,
            created_at: 0,
        })
        .await
        .unwrap();
    }
    assert_eq!(book.sweep_expired_nonces(1_500).await.unwrap(), 1);
    assert_eq!(book.sweep_expired_nonces(5_000).await.unwrap(), 1);
    let left = service
        .store
        .list("voice-agent/nonces/", None, 10)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].0.ends_with(&User::new(3).wallet.to_string()));
    // The job the binary schedules does the same.
    let jobs = voice_agent::scheduled_jobs(service.store.clone());
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0, "voice-agent/nonce-sweep");
    (jobs[0].2)().await.unwrap();
}
