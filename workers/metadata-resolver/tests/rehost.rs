//! Rehosting to a fake Load agent: the upload exactly as the original sends it, the one-year
//! `rehost:` entry and its cache hit, failures reported per URL, the route's validation, and
//! the background job that swaps a release group's cover for the rehosted copy.

mod common;

use std::time::Duration;

use common::{Upstreams, json_fixture};
use http_common::tasks::Drained;
use metadata_resolver::cache::rehost_key;
use metadata_resolver::rehost::{RehostResult, rehost_one};
use wiremock::matchers::{body_string_contains, header, header_regex, method, path};
use wiremock::{Mock, ResponseTemplate};

const LOAD_ID: &str = "Xb3c9Q2f7kLm1nOp4qRs5tUv6wXy7zA8bC9dE0fG1hI";

async fn mount_image(up: &Upstreams, at: &str, content_type: &str, bytes: Vec<u8>, times: u64) {
    Mock::given(method("GET"))
        .and(path(at))
        .and(header("user-agent", "HeavenTest/1.0 ( test@example.com )"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(bytes, content_type))
        .expect(times)
        .mount(&up.images)
        .await;
}

#[tokio::test]
async fn uploads_once_like_the_original_then_answers_from_the_cache() {
    let up = Upstreams::start().await;
    mount_image(&up, "/covers/a.png", "image/png", b"PNG-bytes".to_vec(), 1).await;
    let url = format!("{}/covers/a.png", up.images.uri());
    let (_, hash) = rehost_key(&url);
    Mock::given(method("POST"))
        .and(path("/upload"))
        .and(header("authorization", "Bearer test-load-key"))
        .and(header_regex(
            "content-type",
            "^multipart/form-data; boundary=",
        ))
        .and(body_string_contains(format!(
            "name=\"file\"; filename=\"{}.png\"\r\nContent-Type: image/png\r\n\r\nPNG-bytes\r\n",
            &hash[..16]
        )))
        .and(body_string_contains(
            "name=\"content_type\"\r\n\r\nimage/png\r\n",
        ))
        .respond_with(json_fixture("load_upload_ok.json"))
        .expect(1)
        .mount(&up.load)
        .await;
    let resolver = up.rehosting_resolver().await;
    let first = rehost_one(&resolver.state, &url).await;
    let gateway = format!("https://gateway.test/resolve/{LOAD_ID}");
    assert_eq!(
        first,
        RehostResult {
            url: url.clone(),
            ipfs_url: Some(gateway.clone()),
            cid: Some(LOAD_ID.to_owned()),
            error: None,
            cached: false,
        }
    );
    let second = rehost_one(&resolver.state, &url).await;
    assert!(second.cached);
    assert_eq!(second.ipfs_url.as_deref(), Some(gateway.as_str()));
    let stored = resolver
        .state
        .cache()
        .get(&format!("rehost:{hash}"))
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some(LOAD_ID.as_bytes()));
    up.load.verify().await;
    up.images.verify().await;
}

#[tokio::test]
async fn concurrent_rehosts_of_one_url_download_once() {
    let up = Upstreams::start().await;
    mount_image(&up, "/same.jpg", "image/jpeg", vec![7; 1024], 1).await;
    Mock::given(path("/upload"))
        .respond_with(json_fixture("load_upload_ok.json").set_delay(Duration::from_millis(100)))
        .expect(1)
        .mount(&up.load)
        .await;
    let resolver = up.rehosting_resolver().await;
    let url = format!("{}/same.jpg", up.images.uri());
    let (a, b) = tokio::join!(
        rehost_one(&resolver.state, &url),
        rehost_one(&resolver.state, &url)
    );
    assert_eq!(a.cid, b.cid);
    assert!(
        a.cached != b.cached,
        "one uploads, the other reads the cache"
    );
    up.images.verify().await;
    up.load.verify().await;
}

#[tokio::test]
async fn failures_are_reported_per_url() {
    let up = Upstreams::start().await;
    Mock::given(path("/gone.jpg"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&up.images)
        .await;
    mount_image(
        &up,
        "/huge.jpg",
        "image/jpeg",
        vec![0; 10 * 1024 * 1024 + 1],
        1,
    )
    .await;
    mount_image(&up, "/no-id.jpg", "image/jpeg", b"jpg".to_vec(), 1).await;
    mount_image(&up, "/refused.jpg", "image/jpeg", b"jpg2".to_vec(), 1).await;
    mount_image(&up, "/overloaded.jpg", "image/jpeg", b"jpg3".to_vec(), 1).await;
    Mock::given(path("/busy.jpg"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&up.images)
        .await;
    Mock::given(path("/upload"))
        .and(body_string_contains("jpg3"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream busy"))
        .with_priority(1)
        .mount(&up.load)
        .await;
    Mock::given(path("/upload"))
        .and(body_string_contains("jpg2"))
        .respond_with(ResponseTemplate::new(401).set_body_string("invalid api key"))
        .with_priority(1)
        .mount(&up.load)
        .await;
    Mock::given(path("/upload"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":true}"#))
        .mount(&up.load)
        .await;
    let resolver = up.rehosting_resolver().await;
    let base = up.images.uri();
    let cases = [
        ("/gone.jpg", "Fetch failed: 404".to_owned()),
        ("/huge.jpg", "Image too large (max 10MB)".to_owned()),
        (
            "/no-id.jpg",
            r#"Load upload returned no id: {"ok":true}"#.to_owned(),
        ),
        (
            "/refused.jpg",
            "Load upload failed: 401 invalid api key".to_owned(),
        ),
        ("/busy.jpg", "Fetch failed: 503".to_owned()),
        (
            "/overloaded.jpg",
            "Load upload failed: 503 upstream busy".to_owned(),
        ),
    ];
    for (at, error) in cases {
        let url = format!("{base}{at}");
        let result = rehost_one(&resolver.state, &url).await;
        assert_eq!(
            result,
            RehostResult {
                url: url.clone(),
                ipfs_url: None,
                cid: None,
                error: Some(error),
                cached: false
            }
        );
        assert!(
            resolver
                .state
                .cache()
                .get(&rehost_key(&url).0)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn route_validates_and_reports_cache_hits_and_failures() {
    let up = Upstreams::start().await;
    let resolver = up.rehosting_resolver().await;
    let too_many = format!(
        r#"{{"urls":[{}]}}"#,
        vec![r#""https://a.test/x.jpg""#; 51].join(",")
    );
    for (body, error) in [
        ("{", "invalid JSON body"),
        (r#"{"urls":"https://a.test"}"#, "urls array required"),
        (r#"{"urls":[]}"#, "urls array required"),
        (too_many.as_str(), "max 50 URLs per batch"),
        (
            r#"{"urls":["http://a.test/x.jpg"]}"#,
            "all URLs must be HTTPS strings",
        ),
        (r#"{"urls":[42]}"#, "all URLs must be HTTPS strings"),
    ] {
        assert_eq!(
            resolver.post("/rehost/image", body).await,
            (400, format!(r#"{{"error":"{error}"}}"#))
        );
    }
    let cached_url = "https://upload.wikimedia.org/wikipedia/commons/a/a1/x.jpg";
    resolver
        .state
        .cache()
        .put(
            &rehost_key(cached_url).0,
            LOAD_ID.as_bytes().to_vec(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    // Nothing listens on port 1: the download fails and the entry carries the reason.
    let failing = "https://127.0.0.1:1/cover.jpg";
    let (status, body) = resolver
        .post(
            "/rehost/image",
            &format!(r#"{{"urls":["{cached_url}","{failing}"]}}"#),
        )
        .await;
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hit = &answer["results"][0];
    assert_eq!(
        hit.to_string(),
        format!(
            r#"{{"cached":true,"cid":"{LOAD_ID}","error":null,"ipfsUrl":"https://gateway.test/resolve/{LOAD_ID}","url":"{cached_url}"}}"#
        )
    );
    assert!(body.starts_with(&format!(
        r#"{{"results":[{{"url":"{cached_url}","ipfsUrl":"#
    )));
    let miss = &answer["results"][1];
    assert_eq!(miss["url"], failing);
    assert_eq!(miss["ipfsUrl"], serde_json::Value::Null);
    assert_eq!(miss["cached"], false);
    assert!(miss["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn release_group_cover_is_rehosted_in_the_background() {
    let up = Upstreams::start().await;
    let mbid = "b1392450-e666-3926-a536-22c65f834433";
    Mock::given(path(format!("/ws/2/release-group/{mbid}")))
        .respond_with(json_fixture("release_group_ok_computer.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    mount_image(
        &up,
        &format!("/release-group/{mbid}/front-250"),
        "image/jpeg",
        b"cover".to_vec(),
        1,
    )
    .await;
    Mock::given(path("/upload"))
        .and(body_string_contains("Content-Type: image/jpeg"))
        .respond_with(json_fixture("load_upload_ok.json"))
        .expect(1)
        .mount(&up.load)
        .await;
    let resolver = up.rehosting_resolver().await;
    let (status, first) = resolver.get(&format!("/release-group/{mbid}")).await;
    assert_eq!(status, 200);
    assert!(first.contains(&format!(
        r#""coverArtUrl":"{}/release-group/"#,
        up.images.uri()
    )));
    let gateway = format!(r#""coverArtUrl":"https://gateway.test/resolve/{LOAD_ID}""#);
    // The rehost is tracked background work: draining it waits for the patch.
    assert_eq!(
        resolver
            .state
            .background()
            .drain(Duration::from_secs(30))
            .await,
        Drained::Complete
    );
    let patched = resolver.get(&format!("/release-group/{mbid}")).await.1;
    assert_eq!(
        patched,
        first.replace(
            &format!(
                r#""coverArtUrl":"{}/release-group/{mbid}/front-250""#,
                up.images.uri()
            ),
            &gateway
        )
    );
    up.musicbrainz.verify().await;
    up.load.verify().await;
}

#[tokio::test]
async fn artist_image_already_rehosted_is_patched_with_the_gateway_url() {
    let up = Upstreams::start().await;
    let mbid = "a74b1b7f-71a5-4011-9441-d0b5e4122711";
    Mock::given(path(format!("/ws/2/artist/{mbid}")))
        .respond_with(json_fixture("artist_radiohead.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path("/w/api.php"))
        .respond_with(json_fixture("commons_imageinfo.json"))
        .expect(1)
        .mount(&up.commons)
        .await;
    // Nothing may be uploaded: the image is already on Load.
    Mock::given(path("/upload"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&up.load)
        .await;
    let resolver = up.rehosting_resolver().await;
    let image = "https://upload.wikimedia.org/wikipedia/commons/thumb/a/a1/Radiohead_%C3%A0_Montr%C3%A9al.jpg/400px-Radiohead_%C3%A0_Montr%C3%A9al.jpg";
    resolver
        .state
        .cache()
        .put(
            &rehost_key(image).0,
            LOAD_ID.as_bytes().to_vec(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let (status, first) = resolver.get(&format!("/artist/{mbid}")).await;
    assert_eq!(status, 200);
    assert!(first.contains(&format!(r#""image":"{image}""#)));
    // The original wrote `ipfs://<id>` here on a rehost cache hit; clients need an https URL.
    let gateway = format!(r#""image":"https://gateway.test/resolve/{LOAD_ID}""#);
    assert_eq!(
        resolver
            .state
            .background()
            .drain(Duration::from_secs(30))
            .await,
        Drained::Complete
    );
    let patched = resolver.get(&format!("/artist/{mbid}")).await.1;
    assert_eq!(
        patched,
        first.replace(&format!(r#""image":"{image}""#), &gateway)
    );
    up.musicbrainz.verify().await;
    up.load.verify().await;
}

#[tokio::test]
async fn a_rehost_still_running_at_the_drain_deadline_is_named() {
    let up = Upstreams::start().await;
    let mbid = "b1392450-e666-3926-a536-22c65f834433";
    Mock::given(path(format!("/ws/2/release-group/{mbid}")))
        .respond_with(json_fixture("release_group_ok_computer.json"))
        .mount(&up.musicbrainz)
        .await;
    // The cover host answers after 3 s (real time: the delay is wiremock's, on its own
    // thread), longer than the drain deadline below.
    Mock::given(path(format!("/release-group/{mbid}/front-250")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(b"cover".to_vec(), "image/jpeg")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&up.images)
        .await;
    let resolver = up.rehosting_resolver().await;
    let (status, _) = resolver.get(&format!("/release-group/{mbid}")).await;
    assert_eq!(status, 200);
    let drained = resolver
        .state
        .background()
        .drain(Duration::from_millis(200))
        .await;
    assert_eq!(
        drained,
        Drained::CutOff(vec![format!("rehost of release-group:{mbid} cover")])
    );
}
