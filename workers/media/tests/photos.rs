//! `/api/photos/*` over real HTTP on 127.0.0.1 behind the api edge: fal faked at its queue API
//! shape (wiremock: submit, status, result, the image on its CDN), the hot store in memory,
//! tiles on a local-disk blob store, records in in-memory SQLite.

use std::sync::Arc;
use std::time::Duration;

use blob_store::{BlobIndex, BlobStore, HotStore, LocalDisk};
use bytes::Bytes;
use http_common::{ConnectionLimits, CorsPolicy, ServiceEdge};
use image::{ImageEncoder, Rgb, RgbImage};
use media::photos::config::FAL_MODEL;
use media::photos::fingerprint::{DEV_WATERMARK_SECRET, photo_fingerprint};
use media::photos::model::{JobStatus, JobStep, PhotoJob, RunLease, objects};
use media::photos::{PhotoResources, PhotoService, PhotosConfig, pipeline};
use media::{Clock, MediaConfig, MediaResources, MediaState};
use portability::{RasterImageTransformer, SqliteStateStore, StateStore};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OWNER: &str = "0x1111111111111111111111111111111111111111";
const VIEWER: &str = "0x2222222222222222222222222222222222222222";
const VIEWER_WALLET: &str = "0x8ba1f109551bd432803012645ac136ddd64dba72";

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [30, 60, 220];
const YELLOW: [u8; 3] = [230, 210, 40];

fn png(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn jpeg(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// What fal draws: a 2×2 grid of solid panels.
fn grid() -> Vec<u8> {
    png(&RgbImage::from_fn(1024, 1024, |x, y| {
        Rgb(match (x < 512, y < 512) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => YELLOW,
        })
    }))
}

fn photo(colour: [u8; 3]) -> Vec<u8> {
    jpeg(&RgbImage::from_pixel(640, 480, Rgb(colour)))
}

fn four_photos() -> Form {
    let mut form = Form::new();
    for (slot, colour) in [RED, GREEN, BLUE, YELLOW].into_iter().enumerate() {
        form = form.part(
            format!("photo{}", slot + 1),
            Part::bytes(photo(colour))
                .file_name(format!("p{slot}.jpg"))
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    form
}

/// fal's queue: the submission answers its request id and URLs; the status is `IN_QUEUE`
/// once, then `COMPLETED`; the result names the grid on fal's CDN.
async fn fake_fal(server: &MockServer) {
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path(format!("/{FAL_MODEL}")))
        .and(header("authorization", "Key test-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "req-1",
            "status_url": format!("{base}/fal-ai/bytedance/requests/req-1/status"),
            "response_url": format!("{base}/fal-ai/bytedance/requests/req-1"),
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fal-ai/bytedance/requests/req-1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "IN_QUEUE"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fal-ai/bytedance/requests/req-1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "COMPLETED"})))
        .with_priority(2)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fal-ai/bytedance/requests/req-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "images": [{"url": format!("{base}/cdn/grid.png"), "width": 1024, "height": 1024}],
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/cdn/grid.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(grid()),
        )
        .mount(server)
        .await;
}

struct App {
    base: String,
    http: reqwest::Client,
    photos: PhotoService,
    fal: MockServer,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl App {
    async fn start(configure: impl FnOnce(&mut PhotosConfig)) -> Self {
        let fal = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let state: Arc<dyn StateStore> =
            Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
        let disk = LocalDisk::open(dir.path().join("blobs"), u64::MAX)
            .await
            .unwrap();
        let spool = disk.spool_dir();
        let blobs = Arc::new(BlobStore::new(disk, BlobIndex::new(state.clone()), spool));
        let mut config = PhotosConfig::for_tests(&fal.uri());
        configure(&mut config);
        let photos = PhotoService::new(
            config,
            PhotoResources {
                hot: HotStore::open("memory://").unwrap(),
                images: Arc::new(RasterImageTransformer::default()),
            },
            state.clone(),
            blobs.clone(),
            Clock::system(),
        )
        .unwrap();
        let media = MediaState::with_photos(
            MediaConfig::for_tests("http://127.0.0.1:9", dir.path().join("spool")),
            MediaResources {
                state,
                blobs,
                identity: Arc::new(NoIdentity),
                publishing: None,
                scrobble_lookups: None,
                clock: Clock::system(),
            },
            photos.clone(),
        );
        let mut edge = ServiceEdge::new("api", CorsPolicy::api_core());
        edge.internal_error = "Internal server error";
        let router = edge.wrap(media::router(media));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(http_common::serve(
            listener,
            router,
            ConnectionLimits::default(),
            std::future::pending(),
            Duration::from_secs(1),
        ));
        Self {
            base,
            http: reqwest::Client::new(),
            photos,
            fal,
            _dir: dir,
            server,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
        )
    }

    async fn get(&self, path: &str, user: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(user) = user {
            request = request.header("x-user-address", user);
        }
        request.send().await.unwrap()
    }

    /// Polls the job until it is final.
    async fn finished(&self, job_id: &str) -> Value {
        for _ in 0..600 {
            let (status, body) = self
                .json(
                    self.http
                        .get(self.url(&format!("/api/photos/pipeline/{job_id}")))
                        .header("x-user-address", OWNER),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            if matches!(body["status"].as_str(), Some("completed" | "failed")) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job {job_id} did not finish");
    }
}

struct NoIdentity;

#[async_trait::async_trait]
impl canister_bridge::IdentityClient for NoIdentity {
    async fn edge_request(
        &self,
        _: identity_canister::endpoints::EdgeRequest,
    ) -> Result<identity_canister::endpoints::EdgeResponse, canister_bridge::BridgeError> {
        Err(canister_bridge::BridgeError::Protocol("unused".into()))
    }
    async fn identity_of(
        &self,
        _: &str,
    ) -> Result<Option<identity_canister::endpoints::IdentityView>, canister_bridge::BridgeError>
    {
        Ok(None)
    }
}

fn pixel(bytes: &[u8], x: u32, y: u32) -> [u8; 3] {
    image::load_from_memory(bytes)
        .unwrap()
        .to_rgb8()
        .get_pixel(x, y)
        .0
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 24)
}

#[tokio::test]
async fn pipeline_job_tiles_sources_access_and_reveal() {
    let app = App::start(|_| {}).await;
    fake_fal(&app.fal).await;

    let (status, accepted) = app
        .json(
            app.http
                .post(app.url("/api/photos/pipeline"))
                .header("x-user-address", OWNER.to_uppercase().replace("0X", "0x"))
                .multipart(four_photos()),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["success"], true);
    let job_id = accepted["jobId"].as_str().unwrap().to_owned();
    let photo_ids: Vec<String> = serde_json::from_value(accepted["photoIds"].clone()).unwrap();
    assert_eq!(photo_ids.len(), 4);

    let done = app.finished(&job_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["step"], "done");
    assert_eq!(done["photoIds"], json!(photo_ids));
    let tiles: Vec<String> = serde_json::from_value(done["animeTiles"].clone()).unwrap();
    assert_eq!(
        tiles,
        (1..=4)
            .map(|slot| app.url(&format!("/api/photos/anime/{OWNER}/{slot}")))
            .collect::<Vec<_>>()
    );

    // The tiles: 500² WebP, one quadrant each, public and cacheable.
    for (slot, colour) in [RED, GREEN, BLUE, YELLOW].into_iter().enumerate() {
        let response = app
            .get(&format!("/api/photos/anime/{OWNER}/{}", slot + 1), None)
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/webp");
        assert_eq!(response.headers()["cache-control"], "public, max-age=86400");
        let bytes = response.bytes().await.unwrap();
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (500, 500));
        for (x, y) in [(0, 0), (499, 499), (250, 250)] {
            assert!(close(pixel(&bytes, x, y), colour), "slot {}", slot + 1);
        }
    }

    // fal was asked as the original asked, with one-time source URLs on this origin.
    let submissions: Vec<Value> = app
        .fal
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(submissions.len(), 1);
    let submitted = &submissions[0];
    assert_eq!(
        submitted["image_size"],
        json!({"width": 2048, "height": 2048})
    );
    assert_eq!(submitted["num_images"], 1);
    assert_eq!(submitted["enable_safety_checker"], false);
    assert!(
        submitted["prompt"]
            .as_str()
            .unwrap()
            .contains("top-left=photo1")
    );
    let urls: Vec<String> = serde_json::from_value(submitted["image_urls"].clone()).unwrap();
    for (url, photo_id) in urls.iter().zip(&photo_ids) {
        let prefix = app.url(&format!("/api/photos/internal/source/{photo_id}?t="));
        assert!(url.starts_with(&prefix), "{url}");
        let first = app.http.get(url).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["content-type"], "image/jpeg");
        assert_eq!(first.headers()["cache-control"], "no-store");
        let sanitized = first.bytes().await.unwrap();
        assert_eq!(&sanitized[..2], &[0xFF, 0xD8]);
        // One-time: a second fetch is refused.
        let (status, body) = app.json(app.http.get(url)).await;
        assert_eq!((status, body), (401, json!({"error": "Invalid token"})));
    }

    // Access for a viewer (development), then the watermarked reveal.
    let (status, granted) = app
        .json(app.http.post(app.url("/api/photos/access")).json(&json!({
            "matchId": "m-42",
            "ownerUserId": OWNER,
            "viewerUserId": VIEWER,
            "viewerWallet": VIEWER_WALLET,
        })))
        .await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["success"], true);
    assert_eq!(granted["accessIds"].as_array().unwrap().len(), 4);
    assert_eq!(granted["wmTileKey"], format!("wm/tiles/{VIEWER}/m-42.png"));
    assert_eq!(
        granted["wmStampKey"],
        format!("wm/stamps/{VIEWER}/m-42.png")
    );
    let stored_overlay = app
        .photos
        .read_hot(&objects::wm_tile(VIEWER, "m-42"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&stored_overlay[1..4], b"PNG");

    let photo_id = &photo_ids[2];
    let revealed = app
        .get(&format!("/api/photos/reveal/{photo_id}"), Some(VIEWER))
        .await;
    assert_eq!(revealed.status(), 200);
    let expected_code =
        photo_fingerprint(DEV_WATERMARK_SECRET, "m-42", photo_id, VIEWER_WALLET).to_string();
    assert_eq!(revealed.headers()["x-revealed-to"], VIEWER_WALLET);
    assert_eq!(revealed.headers()["x-fingerprint"], expected_code.as_str());
    assert_eq!(revealed.headers()["cache-control"], "private, max-age=3600");
    assert_eq!(revealed.headers()["content-type"], "image/webp");
    let first = revealed.bytes().await.unwrap();
    let decoded = image::load_from_memory(&first).unwrap().to_rgb8();
    assert_eq!(decoded.dimensions(), (500, 500));
    // Slot 3 was blue; the watermark rows lighten it where they run, not between them.
    assert!(close(decoded.get_pixel(250, 20).0, BLUE));
    let row: Vec<[u8; 3]> = (60..440).map(|x| decoded.get_pixel(x, 39).0).collect();
    assert!(
        row.iter().any(|p| !close(*p, BLUE)),
        "no watermark on row 1"
    );
    let sidecar: Value = serde_json::from_slice(
        &app.photos
            .read_hot(&objects::reveal_meta(photo_id, VIEWER))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["fingerprint"], expected_code.as_str());
    assert_eq!(sidecar["variantKey"], objects::reveal(photo_id, VIEWER));

    // Cached per viewer: the same bytes, the same headers.
    let again = app
        .get(&format!("/api/photos/reveal/{photo_id}"), Some(VIEWER))
        .await;
    assert_eq!(again.headers()["x-fingerprint"], expected_code.as_str());
    assert_eq!(again.bytes().await.unwrap(), first);

    // Someone else gets nothing.
    let (status, body) = app
        .json(
            app.http
                .get(app.url(&format!("/api/photos/reveal/{photo_id}")))
                .header("x-user-address", OWNER),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"success": false, "error": "Not authorized to view this photo"})
        )
    );
}

#[tokio::test]
async fn pipeline_requests_are_checked_in_the_original_order() {
    let app = App::start(|_| {}).await;
    let post = |form: Form| {
        app.http
            .post(app.url("/api/photos/pipeline"))
            .header("x-user-address", OWNER)
            .multipart(form)
    };
    let error = |message: &str| json!({"success": false, "error": message});

    let (status, body) = app
        .json(
            app.http
                .post(app.url("/api/photos/pipeline"))
                .multipart(four_photos()),
        )
        .await;
    assert_eq!((status, body), (401, error("Missing authorization")));

    let (status, body) = app
        .json(
            app.http
                .post(app.url("/api/photos/pipeline"))
                .header("x-user-address", OWNER)
                .body("not a form"),
        )
        .await;
    assert_eq!((status, body), (400, error("Invalid multipart form data")));

    let three = Form::new()
        .part(
            "photo1",
            Part::bytes(photo(RED))
                .file_name("a.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .part(
            "photo2",
            Part::bytes(photo(RED))
                .file_name("b.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .part(
            "photo4",
            Part::bytes(photo(RED))
                .file_name("d.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let (status, body) = app.json(post(three)).await;
    assert_eq!(
        (status, body),
        (400, error("Missing photo3. Must upload exactly 4 photos."))
    );

    let mut gif = Form::new();
    for slot in 1..=4 {
        let mime = if slot == 2 { "image/gif" } else { "image/png" };
        gif = gif.part(
            format!("photo{slot}"),
            Part::bytes(photo(RED))
                .file_name("x")
                .mime_str(mime)
                .unwrap(),
        );
    }
    let (status, body) = app.json(post(gif)).await;
    assert_eq!(
        (status, body),
        (400, error("photo2 must be JPEG, PNG, or WebP"))
    );

    let mut large = Form::new();
    for slot in 1..=4 {
        let bytes = if slot == 1 {
            vec![0u8; 10 * 1024 * 1024 + 1]
        } else {
            photo(RED)
        };
        large = large.part(
            format!("photo{slot}"),
            Part::bytes(bytes)
                .file_name("x.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    let (status, body) = app.json(post(large)).await;
    assert_eq!((status, body), (400, error("photo1 exceeds 10MB limit")));

    let (status, body) = app
        .json(
            app.http
                .get(app.url("/api/photos/pipeline/nope"))
                .header("x-user-address", OWNER),
        )
        .await;
    assert_eq!((status, body), (404, json!({"error": "Job not found"})));

    let (status, body) = app
        .json(app.http.get(app.url("/api/photos/anime/x/5")))
        .await;
    assert_eq!((status, body), (400, json!({"error": "Slot must be 1-4"})));
    let (status, body) = app
        .json(
            app.http
                .get(app.url(&format!("/api/photos/anime/{OWNER}/1"))),
        )
        .await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "Anime tiles not found"}))
    );

    let (status, body) = app
        .json(app.http.get(app.url("/api/photos/internal/source/p")))
        .await;
    assert_eq!((status, body), (401, json!({"error": "Missing token"})));
    let (status, body) = app
        .json(app.http.get(app.url("/api/photos/internal/source/p?t=abc")))
        .await;
    assert_eq!((status, body), (401, json!({"error": "Invalid token"})));

    let (status, body) = app
        .json(
            app.http
                .post(app.url("/api/photos/access"))
                .json(&json!({"matchId": "m"})),
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "Missing required fields"}))
    );
    let (status, body) = app
        .json(app.http.post(app.url("/api/photos/access")).json(&json!({
            "matchId": "m", "ownerUserId": "nobody", "viewerUserId": VIEWER, "viewerWallet": VIEWER_WALLET,
        })))
        .await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "No photos found for owner"}))
    );

    let (status, body) = app
        .json(app.http.get(app.url("/api/photos/debug/overlay")))
        .await;
    assert_eq!((status, body), (501, json!({"error": "Not implemented"})));
}

#[tokio::test]
async fn production_needs_a_verified_token_and_has_no_access_route() {
    let app = App::start(|config| {
        config.development = false;
        config.jwt_secret = Some("s3cret".into());
    })
    .await;
    let (status, body) = app
        .json(
            app.http
                .get(app.url("/api/photos/pipeline/x"))
                .header("x-user-address", OWNER),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"success": false, "error": "Missing authorization"})
        )
    );
    let unsigned = "eyJhbGciOiJIUzI1NiJ9.eyJhZGRyZXNzIjoiMHgxMSJ9.c2lnbmF0dXJl";
    let (status, body) = app
        .json(
            app.http
                .get(app.url("/api/photos/pipeline/x"))
                .bearer_auth(unsigned),
        )
        .await;
    assert_eq!(
        (status, body),
        (401, json!({"success": false, "error": "Invalid token"}))
    );
    let (status, body) = app
        .json(
            app.http
                .post(app.url("/api/photos/access"))
                .json(&json!({})),
        )
        .await;
    assert_eq!(
        (status, body),
        (403, json!({"error": "Not available in production"}))
    );
}

#[tokio::test]
async fn fal_failures_fail_the_job_and_sync_answers_like_the_original() {
    let app = App::start(|_| {}).await;
    Mock::given(method("POST"))
        .and(path(format!("/{FAL_MODEL}")))
        .respond_with(ResponseTemplate::new(500).set_body_string("model overloaded"))
        .mount(&app.fal)
        .await;
    let (status, body) = app
        .json(
            app.http
                .post(app.url("/api/photos/pipeline?sync=true"))
                .header("x-user-address", OWNER)
                .multipart(four_photos()),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"success": false, "error": "Anime generation failed"})
        )
    );
    let (_, accepted) = app
        .json(
            app.http
                .post(app.url("/api/photos/pipeline"))
                .header("x-user-address", OWNER)
                .multipart(four_photos()),
        )
        .await;
    let done = app.finished(accepted["jobId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["error"],
        "fal.ai error: fal.ai seedream error: 500 model overloaded"
    );
    assert!(done.get("animeTiles").is_none());

    let no_key = App::start(|config| config.fal_key = None).await;
    let (status, body) = no_key
        .json(
            no_key
                .http
                .post(no_key.url("/api/photos/pipeline"))
                .header("x-user-address", OWNER)
                .multipart(four_photos()),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"success": false, "error": "Server misconfiguration"})
        )
    );
}

#[tokio::test]
async fn a_job_left_by_a_dead_worker_is_resumed_by_the_sweep() {
    let app = App::start(|_| {}).await;
    fake_fal(&app.fal).await;
    let now = app.photos.now();
    let job = |id: &str, lease_until: i64| PhotoJob {
        job_id: id.to_owned(),
        user_id: OWNER.to_owned(),
        status: JobStatus::Processing,
        step: JobStep::Upload,
        error_message: None,
        photo_ids: (1..=4).map(|i| format!("{id}-photo{i}")).collect(),
        anime_tiles: None,
        fal_request_id: None,
        fal_status_url: None,
        fal_response_url: None,
        origin: app.base.clone(),
        created_at: now,
        updated_at: now,
        lease: Some(RunLease {
            owner: "dead-worker".into(),
            until: lease_until,
        }),
    };
    // The uploads were stored and the job recorded; then the worker died mid-step.
    for (id, until) in [("expired", now - 1), ("live", now + 600)] {
        for slot in 1..=4u8 {
            app.photos
                .hot()
                .put(&objects::raw(OWNER, id, slot), Bytes::from(photo(GREEN)))
                .await
                .unwrap();
        }
        app.photos
            .store()
            .create_job(&job(id, until))
            .await
            .unwrap();
    }
    // Only the job whose lease expired is taken up; the live one is someone else's.
    assert_eq!(pipeline::sweep(&app.photos).await.unwrap(), 1);
    let done = app.finished("expired").await;
    assert_eq!(done["status"], "completed", "{done}");
    let (live, _) = app.photos.store().job("live").await.unwrap().unwrap();
    assert_eq!(live.step, JobStep::Upload);
    assert_eq!(live.lease.unwrap().owner, "dead-worker");
    // A finished job is no longer swept.
    assert_eq!(pipeline::sweep(&app.photos).await.unwrap(), 0);
}
