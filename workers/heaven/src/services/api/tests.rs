use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

async fn call(method: &str, uri: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response = router().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn health_answers_like_the_original() {
    assert_eq!(
        call("GET", "/health").await,
        (StatusCode::OK, r#"{"ok":true}"#.into())
    );
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_trailing_slashes_are_not_found() {
    let not_found = (StatusCode::NOT_FOUND, r#"{"error":"Not found"}"#.to_owned());
    assert_eq!(call("GET", "/nope").await, not_found);
    assert_eq!(call("POST", "/health").await, not_found);
    assert_eq!(call("GET", "/health/").await, not_found);
    assert_eq!(call("GET", "/api/namesake").await, not_found);
}

#[tokio::test]
async fn every_original_group_answers_not_implemented() {
    for group in PENDING_GROUPS {
        for uri in [group.to_owned(), format!("{group}/some/path")] {
            let (status, body) = call("POST", &uri).await;
            assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{uri}");
            assert_eq!(body, r#"{"error":"Not implemented"}"#);
        }
    }
}
