//! `POST /session/:id/attest` over HTTP with a credits double: the service-token checks come
//! first and never reach the canister, `force_outcome` is passed through, and each canister
//! answer becomes the original's status and body. `/session/join` and `/session/:id/leave`
//! still answer 501.

mod common;

use common::{Service, assert_body, assert_error};
use voice_rooms::{AttestOutcome, CreditsError};

const TOKEN: &str = "oracle-service-token";

async fn attest(service: &Service, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = service.http.post(format!("{}{path}", service.base));
    if let Some(token) = token {
        request = request.header("x-service-token", token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_service_token_is_required_before_the_canister_is_asked() {
    let service = Service::start(&[]).await;
    let response = attest(&service, "/session/17/attest", Some(TOKEN)).await;
    assert_error(response, 503, "oracle not configured").await;

    let service = Service::start(&[("ORACLE_SERVICE_TOKEN", TOKEN)]).await;
    for token in [None, Some(""), Some("wrong"), Some("oracle-service-toke")] {
        let response = attest(&service, "/session/17/attest", token).await;
        assert_error(response, 403, "forbidden").await;
    }
    assert!(service.credits.attest_calls.lock().unwrap().is_empty());
    // Other methods on the path are Hono's 404.
    let response = service.call("GET", "/session/17/attest", None).await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "404 Not Found");
}

#[tokio::test]
async fn the_canisters_answers_become_the_originals_responses() {
    let service = Service::start(&[("ORACLE_SERVICE_TOKEN", TOKEN)]).await;
    *service.credits.attest_answer.lock().unwrap() = Some(AttestOutcome::Submitted {
        outcome: "no-show-guest".into(),
        tx_hash: "0xabc".into(),
    });
    let response = attest(
        &service,
        "/session/17/attest?force_outcome=no-show-guest",
        Some(TOKEN),
    )
    .await;
    assert_body(
        response,
        200,
        r#"{"outcome":"no-show-guest","tx_hash":"0xabc"}"#,
    )
    .await;

    for (status, error) in [
        (400, "booking status is Cancelled, expected Booked"),
        (400, "grace_not_over"),
        (404, "booking not found"),
        (503, "oracle key not configured"),
        (500, "execution reverted"),
    ] {
        *service.credits.attest_answer.lock().unwrap() = Some(AttestOutcome::Refused {
            status,
            error: error.into(),
        });
        let response = attest(
            &service,
            "/session/%2017%20/attest?force_outcome=",
            Some(TOKEN),
        )
        .await;
        assert_error(response, status, error).await;
    }
    assert_eq!(
        *service.credits.attest_calls.lock().unwrap(),
        [("17".to_owned(), Some("no-show-guest".to_owned()))]
            .into_iter()
            .chain(std::iter::repeat_n((" 17 ".to_owned(), None), 5))
            .collect::<Vec<_>>()
    );

    *service.credits.down.lock().unwrap() = Some(CreditsError::Unreachable("down".into()));
    let response = attest(&service, "/session/17/attest", Some(TOKEN)).await;
    assert_error(response, 503, "service unavailable").await;
}

#[tokio::test]
async fn join_and_leave_still_answer_501() {
    let service = Service::start(&[]).await;
    for (method, path) in [("POST", "/session/join"), ("POST", "/session/17/leave")] {
        let response = service.call(method, path, None).await;
        assert_error(response, 501, "not implemented").await;
    }
    for (method, path) in [("POST", "/session"), ("POST", "/session/17/other")] {
        let response = service.call(method, path, None).await;
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.text().await.unwrap(), "404 Not Found");
    }
}
