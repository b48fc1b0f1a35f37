//! `/api/load/upload`, `/api/load/health` and `/api/arweave/cover` over real HTTP: the
//! success shapes and every error row of §1.9–§1.10.

mod common;

use common::Media;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn err(text: &str) -> Value {
    json!({ "error": text })
}

fn file(bytes: Vec<u8>, name: &str, ct: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(ct)
        .unwrap()
}

async fn post(media: &Media, path: &str, form: Form) -> (u16, Value) {
    media
        .send(media.http.post(media.url(path)).multipart(form))
        .await
}

#[tokio::test]
async fn load_upload_stores_through_the_blob_store() {
    let media = Media::start().await;
    let form = Form::new()
        .part("file", file(b"hello".to_vec(), "h.txt", "text/plain"))
        .text("contentType", "text/markdown")
        .text("tags", r#"[{"name":"App-Name","value":"Heaven"}]"#);
    let (status, body) = post(&media, "/api/load/upload", form).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        body["gatewayUrl"],
        format!("{}/resolve/{id}", media.load.server.uri())
    );
    assert_eq!(body["payload"]["id"], id);
    let sent = media.load.requests.lock().unwrap()[0].clone();
    let part = |name: &str| sent.iter().find(|p| p.0 == name).unwrap().clone();
    assert_eq!(part("file").1.as_deref(), Some("h.txt"));
    assert_eq!(part("file").3, b"hello");
    assert_eq!(part("content_type").3, b"text/markdown");
    assert_eq!(part("tags").3, br#"[{"name":"App-Name","value":"Heaven"}]"#);
}

#[tokio::test]
async fn load_upload_errors() {
    let media = Media::start().await;
    assert_eq!(
        post(&media, "/api/load/upload", Form::new()).await,
        (400, err("Missing file form field"))
    );
    assert_eq!(
        post(
            &media,
            "/api/load/upload",
            Form::new().part("file", file(vec![], "e", "a/b"))
        )
        .await,
        (400, err("File is empty"))
    );
    media.load.server.reset().await;
    let (status, body) = post(
        &media,
        "/api/load/upload",
        Form::new().part("file", file(vec![1], "e", "a/b")),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "Load agent upload failed");
    assert!(body["details"].is_string());
}

/// `GET /api/load/health`'s handler against an agent at `url`.
async fn probe(
    media: &Media,
    url: String,
) -> Result<media::error::Fields, (axum::http::StatusCode, media::error::Fields)> {
    let config = media::MediaConfig::for_tests(&url, std::env::temp_dir());
    let state = media::MediaState::new(
        config,
        media::MediaResources {
            state: media.store.clone(),
            blobs: media.state.blobs().clone(),
            identity: media.identity.clone(),
            publishing: None,
            scrobble_lookups: None,
            clock: media::Clock::system(),
        },
    );
    media::routes::load_health::handle(axum::extract::State(state)).await
}

#[tokio::test]
async fn load_health_probes_root_then_legacy() {
    let media = Media::start().await;
    let (status, body) = media
        .send(media.http.get(media.url("/api/load/health")))
        .await;
    assert_eq!((status, body), (200, json!({"ok": true})));

    // An agent answering only the legacy path, then one answering neither.
    let legacy = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&legacy)
        .await;
    let ok = probe(&media, legacy.uri()).await;
    assert!(ok.is_ok());
    let dead = MockServer::start().await;
    let (status, body) = probe(&media, dead.uri()).await.err().unwrap();
    assert_eq!(status, 502);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"ok": false, "status": 404, "legacyStatus": 404})
    );
    let (status, body) = probe(&media, "http://127.0.0.1:9".into())
        .await
        .err()
        .unwrap();
    assert_eq!(status, 500);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        err("Internal server error")
    );
}

#[tokio::test]
async fn arweave_cover_stores_and_anchors() {
    let media = Media::start().await;
    let form = Form::new().part("file", file(b"PNGDATA".to_vec(), "c.png", "image/png"));
    let (status, body) = post(&media, "/api/arweave/cover", form).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(body["ref"], format!("ar://{id}"));
    assert_eq!(
        body["ls3GatewayUrl"],
        format!("{}/resolve/{id}", media.load.server.uri())
    );
    assert_eq!(
        body["arweaveUrl"],
        format!("{}/{id}", media.load.server.uri())
    );
    assert_eq!(body["arweaveAvailable"], false);
    assert_eq!(body["uploadPayload"]["id"], id);
    assert_eq!(body["postPayload"]["available"], false);
    assert_eq!(media.load.post_count().await, 1);
    let sent = media.load.requests.lock().unwrap()[0].clone();
    assert_eq!(
        sent.iter().find(|p| p.0 == "file").unwrap().1.as_deref(),
        Some("c.png")
    );
}

#[tokio::test]
async fn arweave_cover_errors() {
    let media = Media::start().await;
    let cover = "/api/arweave/cover";
    assert_eq!(
        post(&media, cover, Form::new()).await,
        (400, err("Missing file form field"))
    );
    assert_eq!(
        post(
            &media,
            cover,
            Form::new().part("file", file(vec![], "c", "image/png"))
        )
        .await,
        (400, err("File is empty"))
    );
    assert_eq!(
        post(
            &media,
            cover,
            Form::new().part("file", file(vec![0; 102_401], "c", "image/png"))
        )
        .await,
        (400, err("Cover too large: 102401 > 102400"))
    );
    assert_eq!(
        post(
            &media,
            cover,
            Form::new().part("file", file(vec![1], "c", "text/plain"))
        )
        .await,
        (400, err("Unsupported content type: text/plain"))
    );
    // Anchoring refused: 502 with the staged id.
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex("^/post/"))
        .respond_with(ResponseTemplate::new(402).set_body_string("payment required"))
        .with_priority(1)
        .mount(&media.load.server)
        .await;
    let (status, body) = post(
        &media,
        cover,
        Form::new().part("file", file(vec![2], "c", "image/png")),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "LS3 agent post-to-arweave failed");
    assert!(body["id"].is_string());
    assert!(body["details"].as_str().unwrap().contains("402"), "{body}");
    // Upload refused: 502.
    media.load.server.reset().await;
    let (status, body) = post(
        &media,
        cover,
        Form::new().part("file", file(vec![3], "c", "image/png")),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "LS3 agent upload failed");
}
