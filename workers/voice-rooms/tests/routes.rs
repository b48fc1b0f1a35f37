//! The rest of the surface: `/health`, the 501 fallbacks of the prefixes not built yet, the
//! plain-text 404 elsewhere and the original's CORS headers.

mod common;

use common::{Service, assert_body, assert_error};

#[tokio::test]
async fn health_is_the_originals_body() {
    let service = Service::start(&[]).await;
    let response = service.call("GET", "/health", None).await;
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "PAYMENT-REQUIRED,PAYMENT-RESPONSE"
    );
    assert_body(response, 200, r#"{"ok":true}"#).await;
}

#[tokio::test]
async fn routes_not_built_yet_answer_501_json_under_every_prefix() {
    let service = Service::start(&[]).await;
    for (method, path) in [
        ("POST", "/rooms/create"),
        ("GET", "/rooms/active"),
        ("POST", "/rooms"),
        ("POST", "/session/join"),
        ("POST", "/session/17/leave"),
        ("GET", "/duet/discover"),
        ("DELETE", "/duet/abc/watch"),
    ] {
        let response = service.call(method, path, None).await;
        assert_eq!(response.status(), 501, "{method} {path}");
        assert_error(response, 501, "not implemented").await;
    }
}

#[tokio::test]
async fn anything_else_is_honos_plain_text_404() {
    let service = Service::start(&[]).await;
    for (method, path) in [
        ("GET", "/nope"),
        ("POST", "/health"),
        ("GET", "/auth/nonce"),
        ("GET", "/roomsx"),
        ("DELETE", "/songs"),
        ("GET", "/songs/a/b"),
    ] {
        let response = service.call(method, path, None).await;
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.text().await.unwrap(), "404 Not Found");
    }
}
