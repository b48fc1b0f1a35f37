//! `/api/scrobble/submit` and `/batches` over real HTTP: the batch document uploaded to the
//! fake Load agent byte for byte (file name from its hash), track events inserted once,
//! MusicBrainz lookups through the metadata-resolver's client on a fake MusicBrainz (cached,
//! rate-limited by the shared slot), `/batches` scoped to the caller, and the error rows.

mod common;

use std::sync::Arc;

use common::{Media, Options};
use http_common::EnvSource;
use media::scrobble::resolve::Lookups;
use portability::{CacheStore, SqliteCacheStore};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ALICE: &str = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BOB: &str = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const MBID: &str = "b1a9c0e9-d987-4042-ae91-78d6a3267d69";

async fn submit(media: &Media, user: &str, body: Value) -> (u16, Value) {
    media
        .send(
            media
                .http
                .post(media.url("/api/scrobble/submit"))
                .header("x-user-address", user)
                .json(&body),
        )
        .await
}

async fn batches(media: &Media, user: &str) -> (u16, Value) {
    media
        .send(
            media
                .http
                .get(media.url("/api/scrobble/batches"))
                .header("x-user-address", user),
        )
        .await
}

/// The uploaded document of `cid` and the file name it was sent with.
fn uploaded(media: &Media, cid: &str) -> (String, String) {
    let bytes = media.load.blobs.lock().unwrap().get(cid).unwrap().0.clone();
    let name = media
        .load
        .requests
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .find(|(field, _, _, body)| field == "file" && *body == bytes)
        .and_then(|(_, name, _, _)| name.clone())
        .unwrap();
    (String::from_utf8(bytes).unwrap(), name)
}

fn two_tracks() -> Value {
    json!({"tracks": [
        {"artist": "Artist", "title": "Song (Official Video)", "playedAt": 1_700_000_100,
         "duration_ms": 215_000, "source": "android"},
        {"artist": " The  Band ", "title": "Other", "playedAt": 1_700_000_000.75,
         "album": "LP"}
    ]})
}

#[tokio::test]
async fn a_batch_is_uploaded_byte_exact_and_its_events_inserted_once() {
    let media = Media::start().await;
    let (status, body) = submit(&media, ALICE, two_tracks()).await;
    assert_eq!(status, 200, "{body}");
    let cid = body["cid"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({"success": true, "cid": cid, "count": 2, "startTs": 1_700_000_000i64,
               "endTs": 1_700_000_100i64})
    );
    let (document, name) = uploaded(&media, &cid);
    let key = |material: &str| hex::encode(Sha256::digest(material.as_bytes()));
    let expected = format!(
        concat!(
            r#"{{"version":3,"resolver_version":"resolver-v1","user":"{user}","#,
            r#""startTs":"1700000000","endTs":"1700000100","count":2,"tracks":["#,
            r#"{{"raw":{{"artist":"Artist","title":"Song (Official Video)","album":null,"#,
            r#""duration_ms":215000,"playedAt":1700000100,"source":"android"}},"#,
            r#""normalized":{{"title_norm":"song","artist_norm":"artist","album_norm":"","#,
            r#""duration_s":215}},"resolved":{{"confidence":0,"provenance":[{{"step":"#,
            r#""normalized_only","source":"local"}}]}},"track_key":"{k1}"}},"#,
            r#"{{"raw":{{"artist":" The  Band ","title":"Other","album":"LP","#,
            r#""duration_ms":null,"playedAt":1700000000.75}},"normalized":{{"title_norm":"#,
            r#""other","artist_norm":"the band","album_norm":"lp"}},"resolved":"#,
            r#"{{"confidence":0,"provenance":[{{"step":"normalized_only","source":"local"}}]}},"#,
            r#""track_key":"{k2}"}}]}}"#
        ),
        user = ALICE,
        k1 = key("trackkey-v1|song|artist|216"),
        k2 = key("trackkey-v1|other|the band|"),
    );
    assert_eq!(document, expected);
    assert_eq!(
        name,
        format!(
            "scrobble-aaaaaaaa-1700000000-{}.json",
            &key(&expected)[..16]
        )
    );

    let event =
        |played_at: &str, k: &str, source: &str| key(&format!("{ALICE}|{played_at}|{k}|{source}"));
    let first = event("1700000100", &key("trackkey-v1|song|artist|216"), "android");
    let stored = media
        .state
        .scrobbles()
        .event(&first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.batch_cid, cid);
    assert_eq!(stored.title_norm, "song");
    assert_eq!(stored.duration_s, Some(215));
    let second = event("1700000000.75", &key("trackkey-v1|other|the band|"), "");
    assert!(
        media
            .state
            .scrobbles()
            .event(&second)
            .await
            .unwrap()
            .is_some()
    );

    // The same scrobbles again: the same bytes (one blob), a second batch row.
    let (status, again) = submit(&media, ALICE, two_tracks()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["cid"], cid.as_str(), "identical bytes, one blob");
    // A later batch repeating the first scrobble: another document, but the repeated
    // event is not inserted again (it keeps the batch that first recorded it).
    let mut overlapping = two_tracks();
    overlapping["tracks"][1] =
        json!({"artist": "New", "title": "Third", "playedAt": 1_700_000_200});
    let (status, third) = submit(&media, ALICE, overlapping).await;
    assert_eq!(status, 200, "{third}");
    assert_ne!(third["cid"], cid.as_str());
    let kept = media
        .state
        .scrobbles()
        .event(&first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, stored);
    let new = event("1700000200", &key("trackkey-v1|third|new|"), "");
    let new = media.state.scrobbles().event(&new).await.unwrap().unwrap();
    assert_eq!(new.batch_cid, third["cid"].as_str().unwrap());
    let (status, listed) = batches(&media, ALICE).await;
    assert_eq!(status, 200);
    assert_eq!(listed["batches"].as_array().unwrap().len(), 3);
    assert_eq!(
        listed["batches"][2],
        json!({"cid": cid, "count": 2, "startTs": 1_700_000_000i64, "endTs": 1_700_000_100i64,
               "createdAt": listed["batches"][2]["createdAt"]})
    );
    assert_eq!(listed["batches"][0]["cid"], third["cid"], "newest first");
    assert!(listed["batches"][0]["createdAt"].as_i64().unwrap() > 1_700_000_000);
    // Scoped to the caller.
    assert_eq!(batches(&media, BOB).await, (200, json!({"batches": []})));
}

#[tokio::test]
async fn submit_error_rows_answer_as_the_original() {
    let media = Media::start().await;
    let (status, body) = media
        .send(
            media
                .http
                .post(media.url("/api/scrobble/submit"))
                .json(&two_tracks()),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"success": false, "error": "Missing authorization"})
        )
    );
    let (status, body) = media
        .send(
            media
                .http
                .post(media.url("/api/scrobble/submit"))
                .header("x-user-address", ALICE)
                .body("{"),
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"success": false, "error": "Invalid JSON body"}))
    );
    let rows = [
        (json!({"tracks": []}), "tracks must be a non-empty array"),
        (
            json!({"tracks": [{"title": "t", "playedAt": 1}]}),
            "Each track must have artist (string)",
        ),
        (
            json!({"tracks": [{"artist": "a", "title": "", "playedAt": 1}]}),
            "Each track must have title (string)",
        ),
        (
            json!({"tracks": [{"artist": "a", "title": "t"}]}),
            "Each track must have playedAt (unix timestamp)",
        ),
    ];
    for (request, error) in rows {
        let (status, body) = submit(&media, ALICE, request).await;
        assert_eq!(
            (status, body),
            (400, json!({"success": false, "error": error}))
        );
    }
    let many: Vec<Value> = (0..501)
        .map(|i| json!({"artist": "a", "title": "t", "playedAt": 1 + i}))
        .collect();
    let (status, body) = submit(&media, ALICE, json!({ "tracks": many })).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"success": false, "error": "Maximum 500 tracks per batch"})
        )
    );
    assert_eq!(media.load.upload_count(), 0);
}

#[tokio::test]
async fn an_upload_that_cannot_happen_is_failed_to_upload_batch() {
    let media = Media::start_with(Options {
        uploads_configured: false,
        ..Options::default()
    })
    .await;
    let (status, body) = submit(&media, ALICE, two_tracks()).await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"success": false, "error": "Failed to upload batch"})
        )
    );
    assert_eq!(batches(&media, ALICE).await, (200, json!({"batches": []})));
}

#[tokio::test]
async fn outside_development_both_routes_answer_the_originals_501() {
    let media = Media::start_with(Options {
        development: false,
        ..Options::default()
    })
    .await;
    let token = "Bearer x.eyJhZGRyZXNzIjoiMHhhYmMifQ.sig";
    for request in [
        media
            .http
            .post(media.url("/api/scrobble/submit"))
            .json(&two_tracks()),
        media.http.get(media.url("/api/scrobble/batches")),
    ] {
        let (status, body) = media.send(request.header("authorization", token)).await;
        assert_eq!(
            (status, body),
            (
                501,
                json!({"success": false, "error": "Production auth not implemented"})
            )
        );
    }
    // The development header is not honoured here.
    let (status, _) = batches(&media, ALICE).await;
    assert_eq!(status, 401);
}

/// MusicBrainz faked at its web service shape: the recording exists; ISRC lookups answer one
/// recording.
async fn fake_musicbrainz() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/ws/2/recording/{MBID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": MBID, "title": "Song"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ws/2/isrc/USRC11700001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "isrc": "USRC11700001",
            "recordings": [{"id": "c1a9c0e9-d987-4042-ae91-78d6a3267d69", "title": "Song",
                            "length": 215000, "artist-credit": [{"name": "Artist"}]}]
        })))
        .mount(&server)
        .await;
    server
}

async fn media_with_lookups(mb: &MockServer) -> (Media, Arc<dyn CacheStore>) {
    let env = EnvSource::from_pairs([
        ("MUSICBRAINZ_URL", mb.uri().as_str()),
        ("MB_SPACING_MS", "50"),
    ]);
    let resolver = metadata_resolver::ResolverConfig::from_env(&env).unwrap();
    let cache: Arc<dyn CacheStore> = Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
    let lookups = Lookups::from_env(&env, &resolver, cache.clone());
    let media = Media::start_with(Options {
        scrobble_lookups: Some(Arc::new(lookups)),
        ..Options::default()
    })
    .await;
    (media, cache)
}

#[tokio::test]
async fn embedded_ids_are_resolved_on_musicbrainz_once_and_cached() {
    let mb = fake_musicbrainz().await;
    let (media, _cache) = media_with_lookups(&mb).await;
    let tracks = json!({"tracks": [
        {"artist": "Artist", "title": "Song", "playedAt": 1_700_000_000,
         "embedded": {"mb_recording_id": MBID.to_uppercase()}},
        {"artist": "Artist", "title": "Song", "playedAt": 1_700_000_600, "duration_ms": 215_000,
         "embedded": {"isrc": "us-rc1-17-00001"}},
        {"artist": "Artist", "title": "Plain", "playedAt": 1_700_000_900}
    ]});
    let (status, body) = submit(&media, ALICE, tracks).await;
    assert_eq!(status, 200, "{body}");
    let (document, _) = uploaded(&media, body["cid"].as_str().unwrap());
    let doc: Value = serde_json::from_str(&document).unwrap();
    let resolved = |i: usize| doc["tracks"][i]["resolved"].clone();
    assert_eq!(
        resolved(0),
        json!({"mbid": MBID, "confidence": 0.98, "provenance": [
            {"step": "mbid_present", "source": "embedded", "detail": {"mbid": MBID}},
            {"step": "mbid_verified", "source": "musicbrainz"}
        ]})
    );
    assert_eq!(
        resolved(1),
        json!({"mbid": "c1a9c0e9-d987-4042-ae91-78d6a3267d69", "isrcs": ["USRC11700001"],
               "confidence": 0.92, "provenance": [
            {"step": "isrc_present", "source": "embedded", "detail": {"isrc": "USRC11700001"}},
            {"step": "isrc_resolved", "source": "musicbrainz", "detail": {"bestScore": 1}}
        ]})
    );
    assert!(document.contains(r#""confidence":0.92"#), "{document}");
    assert_eq!(
        resolved(2),
        json!({"confidence": 0, "provenance": [{"step": "unresolved", "source": "local"}]})
    );
    let requests = mb.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.headers.get("user-agent").is_some())
    );

    // The same recording in a later batch: answered from the cache, no MusicBrainz call.
    let (status, later) = submit(
        &media,
        ALICE,
        json!({"tracks": [{"artist": "Artist", "title": "Song", "playedAt": 1_700_001_000,
                           "embedded": {"mb_recording_id": MBID}}]}),
    )
    .await;
    assert_eq!(status, 200, "{later}");
    let (document, _) = uploaded(&media, later["cid"].as_str().unwrap());
    let doc: Value = serde_json::from_str(&document).unwrap();
    assert_eq!(doc["tracks"][0]["resolved"]["mbid"], MBID);
    assert_eq!(mb.received_requests().await.unwrap().len(), 2);

    // The event carries the resolution.
    let k = hex::encode(Sha256::digest(b"trackkey-v1|song|artist|216"));
    let id = hex::encode(Sha256::digest(
        format!("{ALICE}|1700000600|{k}|").as_bytes(),
    ));
    let event = media.state.scrobbles().event(&id).await.unwrap().unwrap();
    assert_eq!(event.isrc.as_deref(), Some("USRC11700001"));
    assert_eq!(event.confidence, 0.92);
}
