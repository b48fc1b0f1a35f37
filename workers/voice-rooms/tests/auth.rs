//! `/auth/nonce` and `/auth/verify` over HTTP: the original's nonce, JWT and error strings,
//! single use, a bad signature that does not burn the nonce, expiry, the sweep and the new
//! rate limits.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{JWT_SECRET, START, Service, User, assert_error};
use serde_json::{Value, json};
use voice_rooms::auth::{NonceBook, SessionToken};

#[tokio::test]
async fn nonce_sign_verify_gives_the_originals_jwt_which_the_credits_routes_accept() {
    let service = Service::start(&[]).await;
    let user = User::new(1);
    let nonce = service.nonce(&user.wallet).await;
    assert_eq!(nonce.len(), 64);
    assert!(
        nonce
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    let response = service
        .post(
            "/auth/verify",
            json!({"wallet": user.wallet, "signature": user.sign(&nonce), "nonce": nonce}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let token = body["token"].as_str().unwrap();
    // Byte for byte what the original mints at this second: a token minted with the shared
    // secret is the same string.
    assert_eq!(
        token,
        SessionToken::new(JWT_SECRET).issue(&user.lower(), START)
    );
    let claims = token.split('.').nth(1).unwrap();
    assert_eq!(
        String::from_utf8(URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap(),
        format!(
            r#"{{"sub":"{}","iat":{START},"exp":{}}}"#,
            user.lower(),
            START + 3600
        )
    );
    let response = service.call("GET", "/credits", Some(token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(*service.credits.calls.lock().unwrap(), vec![user.lower()]);
}

#[tokio::test]
async fn replayed_nonce_and_bad_signature_are_401_and_a_bad_signature_does_not_burn_it() {
    let service = Service::start(&[]).await;
    let (user, other) = (User::new(1), User::new(2));
    let nonce = service.nonce(&user.wallet).await;
    let forged = json!({"wallet": user.wallet, "signature": other.sign(&nonce), "nonce": nonce});
    assert_error(
        service.post("/auth/verify", forged).await,
        401,
        "invalid signature",
    )
    .await;
    let garbage = json!({"wallet": user.wallet, "signature": "0x1234", "nonce": nonce});
    assert_error(
        service.post("/auth/verify", garbage).await,
        401,
        "invalid signature",
    )
    .await;
    let good = json!({"wallet": user.wallet, "signature": user.sign(&nonce), "nonce": nonce});
    assert_eq!(
        service.post("/auth/verify", good.clone()).await.status(),
        200
    );
    assert_error(
        service.post("/auth/verify", good).await,
        401,
        "invalid or expired nonce",
    )
    .await;
    // A correctly signed text that was never issued.
    let unknown = "ab".repeat(32);
    let made_up =
        json!({"wallet": user.wallet, "signature": user.sign(&unknown), "nonce": unknown});
    assert_error(
        service.post("/auth/verify", made_up).await,
        401,
        "invalid or expired nonce",
    )
    .await;
}

#[tokio::test]
async fn several_nonces_live_at_once_and_each_expires_after_300_seconds() {
    let service = Service::start(&[]).await;
    let user = User::new(3);
    let first = service.nonce(&user.wallet).await;
    service.clock.advance(200);
    let second = service.nonce(&user.wallet).await;
    service.clock.advance(100); // first is 300 s old: still valid
    let verify = |nonce: &str| json!({"wallet": user.wallet.to_lowercase(), "signature": user.sign(nonce), "nonce": nonce});
    assert_eq!(
        service.post("/auth/verify", verify(&first)).await.status(),
        200
    );
    service.clock.advance(201); // second is 301 s old
    assert_error(
        service.post("/auth/verify", verify(&second)).await,
        401,
        "invalid or expired nonce",
    )
    .await;
}

#[tokio::test]
async fn the_sweep_job_deletes_expired_nonces() {
    let service = Service::start(&[]).await;
    let user = User::new(4);
    service.nonce(&user.wallet).await;
    service.clock.advance(250);
    let fresh = service.nonce(&user.wallet).await;
    let book = NonceBook::new(service.store.clone());
    assert_eq!(book.stored().await.unwrap(), 2);
    service.clock.advance(51);
    let jobs = voice_rooms::scheduled_jobs(service.store.clone(), service.clock.clone());
    assert_eq!(jobs.len(), 1);
    let (name, schedule, job) = &jobs[0];
    assert_eq!(*name, "voice-rooms/nonce-sweep");
    assert_eq!(
        *schedule,
        portability::Schedule::Every(voice_rooms::NONCE_SWEEP_EVERY)
    );
    job().await.unwrap();
    assert_eq!(book.stored().await.unwrap(), 1, "the expired nonce is gone");
    let body = json!({"wallet": user.wallet, "signature": user.sign(&fresh), "nonce": fresh});
    assert_eq!(service.post("/auth/verify", body).await.status(), 200);
}

#[tokio::test]
async fn missing_fields_and_bad_bodies_are_400_json() {
    let service = Service::start(&[]).await;
    assert_error(
        service.post("/auth/nonce", json!({})).await,
        400,
        "missing wallet",
    )
    .await;
    assert_error(
        service.post("/auth/nonce", json!({"wallet": ""})).await,
        400,
        "missing wallet",
    )
    .await;
    assert_error(
        service
            .post("/auth/verify", json!({"wallet": "0x00", "nonce": "x"}))
            .await,
        400,
        "missing wallet, signature, or nonce",
    )
    .await;
    let response = service
        .http
        .post(format!("{}/auth/nonce", service.base))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid json").await;
    // Any string is a wallet to /auth/nonce, as the original; it can never verify.
    let response = service
        .post("/auth/nonce", json!({"wallet": "alice"}))
        .await;
    assert_eq!(response.status(), 200);
    let nonce = response.json::<Value>().await.unwrap()["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"wallet": "alice", "signature": User::new(1).sign(&nonce), "nonce": nonce});
    assert_error(
        service.post("/auth/verify", body).await,
        401,
        "invalid signature",
    )
    .await;
}

#[tokio::test]
async fn nonces_are_rate_limited_per_client_address_and_per_wallet() {
    let service = Service::start(&[
        ("NONCE_LIMIT_PER_IP_10M", "4"),
        ("NONCE_LIMIT_PER_WALLET_10M", "2"),
    ])
    .await;
    let (a, b) = (User::new(6), User::new(7));
    service.nonce(&a.wallet).await;
    service.nonce(&a.wallet.to_lowercase()).await;
    let response = service
        .post("/auth/nonce", json!({"wallet": a.wallet}))
        .await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_error(response, 429, "rate limited").await;
    // Another wallet still has its budget; the address has used 3 of 4.
    service.nonce(&b.wallet).await;
    let response = service
        .post("/auth/nonce", json!({"wallet": b.wallet}))
        .await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 429, "rate limited").await;
}

#[tokio::test]
async fn of_concurrent_verifications_of_one_nonce_exactly_one_gets_a_token() {
    let service = Service::start(&[]).await;
    let user = User::new(8);
    let nonce = service.nonce(&user.wallet).await;
    let body = json!({"wallet": user.wallet, "signature": user.sign(&nonce), "nonce": nonce});
    let attempts = (0..8).map(|_| service.post("/auth/verify", body.clone()));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        7,
        "{statuses:?}"
    );
}
