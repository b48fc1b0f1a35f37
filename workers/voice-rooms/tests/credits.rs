//! `/credits` and `/credits/verify-celo` through the credits double: the original's bodies,
//! the JWT check (including tokens minted elsewhere with the shared secret), and 503 when the
//! canister does not answer.

mod common;

use common::{JWT_SECRET, START, Service, User, assert_body, assert_error};
use voice_rooms::auth::SessionToken;
use voice_rooms::{CreditBalance, CreditsError};

#[tokio::test]
async fn balance_is_the_originals_body_zero_without_an_account() {
    let service = Service::start(&[]).await;
    let user = User::new(1);
    let token = service.login(&user).await;
    assert_body(
        service.call("GET", "/credits", Some(&token)).await,
        200,
        r#"{"remaining_seconds":0,"base_granted_seconds":0,"bonus_granted_seconds":0,"consumed_seconds":0}"#,
    )
    .await;
    service.credits.balances.lock().unwrap().insert(
        user.lower(),
        CreditBalance {
            remaining_seconds: 1500,
            base_granted_seconds: 1800,
            bonus_granted_seconds: 0,
            consumed_seconds: 300,
        },
    );
    assert_body(
        service.call("GET", "/credits", Some(&token)).await,
        200,
        r#"{"remaining_seconds":1500,"base_granted_seconds":1800,"bonus_granted_seconds":0,"consumed_seconds":300}"#,
    )
    .await;
}

#[tokio::test]
async fn tokens_are_checked_as_the_original_does() {
    let service = Service::start(&[]).await;
    let user = User::new(2);
    for bearer in [None, Some("garbage"), Some("a.b.c")] {
        assert_error(
            service.call("GET", "/credits", bearer).await,
            401,
            "unauthorized",
        )
        .await;
    }
    // "Bearer " exactly.
    let minted = SessionToken::new(JWT_SECRET).issue(&user.wallet, START);
    let response = service
        .http
        .get(format!("{}/credits", service.base))
        .header("authorization", format!("bearer {minted}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
    // A token minted by someone else with the shared secret is accepted, through its exp second.
    assert_eq!(
        service
            .call("GET", "/credits", Some(&minted))
            .await
            .status(),
        200
    );
    service.clock.advance(3600);
    assert_eq!(
        service
            .call("GET", "/credits", Some(&minted))
            .await
            .status(),
        200
    );
    service.clock.advance(1);
    assert_error(
        service.call("GET", "/credits", Some(&minted)).await,
        401,
        "unauthorized",
    )
    .await;
    // Another secret.
    let foreign = SessionToken::new("other").issue(&user.wallet, START + 3601);
    assert_error(
        service.call("GET", "/credits", Some(&foreign)).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        service.call("POST", "/credits/verify-celo", None).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_subject_that_is_not_an_address_has_no_account_and_no_verification() {
    let service = Service::start(&[]).await;
    let token = SessionToken::new(JWT_SECRET).issue("alice", START);
    assert_body(
        service.call("GET", "/credits", Some(&token)).await,
        200,
        r#"{"remaining_seconds":0,"base_granted_seconds":0,"bonus_granted_seconds":0,"consumed_seconds":0}"#,
    )
    .await;
    assert_body(
        service
            .call("POST", "/credits/verify-celo", Some(&token))
            .await,
        403,
        r#"{"error":"not_verified","granted":false}"#,
    )
    .await;
    assert!(service.credits.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn verify_celo_answers_as_the_original() {
    let service = Service::start(&[]).await;
    let user = User::new(3);
    let token = service.login(&user).await;
    assert_body(
        service
            .call("POST", "/credits/verify-celo", Some(&token))
            .await,
        403,
        r#"{"error":"not_verified","granted":false}"#,
    )
    .await;
    service.credits.verified.lock().unwrap().push(user.lower());
    assert_body(
        service
            .call("POST", "/credits/verify-celo", Some(&token))
            .await,
        200,
        r#"{"granted":true,"remaining_seconds":1800}"#,
    )
    .await;
    assert_body(
        service
            .call("POST", "/credits/verify-celo", Some(&token))
            .await,
        200,
        r#"{"granted":false,"remaining_seconds":1800}"#,
    )
    .await;
}

#[tokio::test]
async fn a_canister_that_does_not_answer_is_503() {
    let service = Service::start(&[]).await;
    let token = service.login(&User::new(4)).await;
    for err in [
        CreditsError::Unreachable("stopped".into()),
        CreditsError::Rejected("trapped".into()),
    ] {
        *service.credits.down.lock().unwrap() = Some(err);
        let response = service.call("GET", "/credits", Some(&token)).await;
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            Some("5"),
            "a 503 tells when to retry"
        );
        assert_error(response, 503, "service unavailable").await;
        assert_error(
            service
                .call("POST", "/credits/verify-celo", Some(&token))
                .await,
            503,
            "service unavailable",
        )
        .await;
    }
}

#[tokio::test]
async fn other_credits_paths_check_the_token_before_answering_404() {
    let service = Service::start(&[]).await;
    let token = service.login(&User::new(5)).await;
    for (method, path) in [
        ("GET", "/credits/balance"),
        ("POST", "/credits"),
        ("GET", "/credits/verify-celo"),
    ] {
        assert_error(service.call(method, path, None).await, 401, "unauthorized").await;
        let response = service.call(method, path, Some(&token)).await;
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.text().await.unwrap(), "404 Not Found");
    }
}
