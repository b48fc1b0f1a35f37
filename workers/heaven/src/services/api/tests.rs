use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use identity_canister::native::{NativeIdentity, NativeSettings};
use tower::ServiceExt;

use crate::resources::LocalIdentity;

use super::*;

/// The api router over a fresh identity canister in a temporary data dir.
struct TestApi {
    router: Router,
    _dir: tempfile::TempDir,
}

fn test_api() -> TestApi {
    let dir = tempfile::tempdir().unwrap();
    TestApi {
        router: router(
            identity::IdentityBackend::Native(local_identity(dir.path())),
            Router::new(),
            None,
        ),
        _dir: dir,
    }
}

fn local_identity(dir: &std::path::Path) -> LocalIdentity {
    let canister = NativeIdentity::start(dir, NativeSettings::default()).unwrap();
    LocalIdentity {
        canister,
        edge_key: "edge-key".into(),
    }
}

/// The api router with the media worker mounted (local blobs, in-memory state).
async fn test_api_with_media() -> TestApi {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let identity = local_identity(dir.path());
    let state: Arc<dyn portability::StateStore> = Arc::new(
        portability::SqliteStateStore::open_in_memory()
            .await
            .unwrap(),
    );
    let blobs = crate::resources::open_blob_store(&dir.path().join("blobs"), state.clone())
        .await
        .unwrap();
    let media = media::MediaState::new(
        media::MediaConfig::for_tests("http://127.0.0.1:9", dir.path().join("spool")),
        media::MediaResources {
            state,
            blobs,
            identity: Arc::new(crate::services::identity_client::InProcessIdentity(
                identity.clone(),
            )),
            publishing: Some(Arc::new(
                crate::services::publishing_client::InProcessPublishing(identity.canister.clone()),
            )),
            scrobble_lookups: None,
            clock: media::Clock::system(),
        },
    );
    TestApi {
        router: router(
            identity::IdentityBackend::Native(identity),
            media::router(media),
            None,
        ),
        _dir: dir,
    }
}

impl TestApi {
    async fn send(&self, request: Request<Body>) -> (StatusCode, Option<String>, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    async fn call(&self, method: &str, uri: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.send(request).await;
        (status, body)
    }
}

#[tokio::test]
async fn health_answers_like_the_original() {
    assert_eq!(
        test_api().call("GET", "/health").await,
        (StatusCode::OK, r#"{"ok":true}"#.into())
    );
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_trailing_slashes_are_not_found() {
    let api = test_api();
    let not_found = (StatusCode::NOT_FOUND, r#"{"error":"Not found"}"#.to_owned());
    assert_eq!(api.call("GET", "/nope").await, not_found);
    assert_eq!(api.call("POST", "/health").await, not_found);
    assert_eq!(api.call("GET", "/health/").await, not_found);
    assert_eq!(api.call("GET", "/api/namesake").await, not_found);
    // Inside the identity groups the canister's router says the same.
    assert_eq!(api.call("GET", "/api/names/").await, not_found);
    assert_eq!(api.call("GET", "/api/claim").await, not_found);
    assert_eq!(api.call("PUT", "/api/names/register").await, not_found);
}

#[tokio::test]
async fn study_sets_are_answered_by_the_media_router() {
    let api = test_api_with_media().await;
    let not_implemented = (
        StatusCode::NOT_IMPLEMENTED,
        r#"{"error":"Not implemented"}"#.to_owned(),
    );
    assert_eq!(
        api.call("POST", "/api/study-sets/generate").await,
        not_implemented
    );
    assert_eq!(
        api.call("POST", "/api/study-sets/debug-generate").await,
        not_implemented
    );
    // The registry read is served; without TEMPO_STUDY_SET_REGISTRY it is the original's 500.
    assert_eq!(
        api.call("GET", &format!("/api/study-sets/0x{}?lang=es", "ab".repeat(32)))
            .await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"success":false,"error":"Server misconfiguration (TEMPO_STUDY_SET_REGISTRY missing)"}"#
                .to_owned()
        )
    );
    // Paths the original does not have are 404 there as here.
    let not_found = (StatusCode::NOT_FOUND, r#"{"error":"Not found"}"#.to_owned());
    assert_eq!(api.call("POST", "/api/study-sets/a/b").await, not_found);
    assert_eq!(api.call("GET", "/api/scrobble/nope").await, not_found);
}

#[tokio::test]
async fn scrobble_batches_is_behind_the_scrobble_auth_middleware() {
    let api = test_api_with_media().await;
    // The test configuration is a development stack: no header, no token.
    let (status, body) = api.call("GET", "/api/scrobble/batches").await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"success":false,"error":"Missing authorization"}"#
        )
    );
    let request = Request::get("/api/scrobble/batches")
        .header("x-user-address", format!("0x{}", "ab".repeat(20)))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = api.send(request).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"batches":[]}"#)
    );
}

#[tokio::test]
async fn media_groups_are_answered_by_the_media_router() {
    let api = test_api_with_media().await;
    assert_eq!(
        api.call("GET", "/api/music/health").await,
        (StatusCode::OK, r#"{"ok":true}"#.into())
    );
    let (status, body) = api.call("GET", "/api/music/publish/music_00").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body,
        r#"{"error":"Missing or invalid X-User-Address header"}"#
    );
    let request = Request::get("/api/music/publish/music_00")
        .header("x-user-address", format!("0x{}", "ab".repeat(20)))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = api.send(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body,
        r#"{"error":"Self.xyz verification required for music upload/publish"}"#
    );
    let not_found = (StatusCode::NOT_FOUND, r#"{"error":"Not found"}"#.to_owned());
    assert_eq!(api.call("GET", "/api/music/nope").await, not_found);
    assert_eq!(api.call("PUT", "/api/load/upload").await, not_found);
    assert_eq!(api.call("GET", "/api/arweave").await, not_found);
}

#[tokio::test]
async fn identity_groups_are_answered_by_the_canister_as_json() {
    let api = test_api();
    let request = Request::get("/api/names/available/Alice?x=1")
        .body(Body::empty())
        .unwrap();
    let (status, content_type, body) = api.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["available"], true, "{body}");
    let (status, body) = api.call("GET", "/api/claim/no-such-token").await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::NOT_FOUND,
            r#"{"error":"Invalid or expired link"}"#
        )
    );
    let (status, _) = api.call("GET", "/api/wallet/nonce").await;
    assert_ne!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn oversized_identity_bodies_are_refused() {
    let api = test_api();
    let request = Request::post("/api/names/register")
        .body(Body::from(vec![
            b' ';
            identity_canister::api::MAX_BODY_BYTES + 1
        ]))
        .unwrap();
    let (status, content_type, body) = api.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(body, r#"{"error":"Request body too large"}"#);
}

#[test]
fn the_edge_replaces_client_sent_edge_headers() {
    let request = Request::post("/api/names/permit?a=b")
        .header("X-Heaven-Edge-Key", "forged")
        .header("X-Heaven-Client-Ip", "198.51.100.1")
        .header("X-Forwarded-For", "203.0.113.7, 10.0.0.1")
        .header("X-Device-Id", "d1")
        .body(())
        .unwrap();
    let (mut parts, ()) = request.into_parts();
    // What the shared edge determined (the forwarding header is not believed without a
    // trusted proxy; this is the peer).
    parts
        .extensions
        .insert(http_common::ClientIp(Some("192.0.2.1".parse().unwrap())));
    let req = identity::api_request(&parts, b"{}".to_vec(), "edge-key");
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/api/names/permit");
    assert_eq!(req.query_param("a"), Some("b"));
    assert_eq!(req.header("x-device-id"), Some("d1"));
    let edge: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-heaven-"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        edge,
        [
            ("x-heaven-edge-key", "edge-key"),
            ("x-heaven-client-ip", "192.0.2.1")
        ]
    );
    // Without a client IP (a router called directly) no edge headers are added.
    let (parts, ()) = Request::get("/api/names/x").body(()).unwrap().into_parts();
    let req = identity::api_request(&parts, vec![], "edge-key");
    assert!(req.headers.iter().all(|(k, _)| !k.starts_with("x-heaven-")));
}
