//! `/search/artist`, `/resolve/spotify-artist`, `/resolve/batch`, health and the original's
//! method and CORS rules, over real HTTP against a fake MusicBrainz.

mod common;

use common::{Resolver, Upstreams, fixture, json_fixture};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, ResponseTemplate};

const SPOTIFY_ID: &str = "4Z8W4fKeB5YxbusRsdQVPb";

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_raw(fixture("rate_limited_503.json"), "application/json")
}

#[tokio::test]
async fn health_methods_and_cors_follow_the_original() {
    let up = Upstreams::start().await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let health = r#"{"ok":true,"service":"metadata-resolver"}"#.to_owned();
    assert_eq!(resolver.get("/").await, (200, health.clone()));
    assert_eq!(resolver.get("/health").await, (200, health));
    assert_eq!(
        resolver.get("/nope").await,
        (404, r#"{"error":"not found"}"#.to_owned())
    );
    assert_eq!(
        resolver.get("/resolve/batch").await,
        (404, r#"{"error":"not found"}"#.to_owned())
    );
    assert_eq!(
        resolver.post("/health", "{}").await,
        (404, r#"{"error":"not found"}"#.to_owned())
    );
    let client = reqwest::Client::new();
    for verb in [
        reqwest::Method::HEAD,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = client
            .request(verb.clone(), resolver.url("/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{verb}");
    }
    let unknown = client.put(resolver.url("/nope")).send().await.unwrap();
    assert_eq!(
        unknown.status(),
        405,
        "the method rule comes before the path"
    );
    let response = client.put(resolver.url("/health")).send().await.unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"method not allowed"}"#
    );
    let preflight = client
        .request(reqwest::Method::OPTIONS, resolver.url("/anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-methods"],
        "GET, POST, OPTIONS"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "Content-Type"
    );
}

#[tokio::test]
async fn search_success_normalised_cache_hit_and_validation() {
    let up = Upstreams::start().await;
    Mock::given(path("/ws/2/artist/"))
        .and(query_param("query", "  Radiohead"))
        .and(query_param("limit", "5"))
        .respond_with(json_fixture("search_artist_radiohead.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let expected = concat!(
        r#"{"artists":[{"mbid":"a74b1b7f-71a5-4011-9441-d0b5e4122711","name":"Radiohead","sortName":"Radiohead","#,
        r#""score":100,"type":"Group","disambiguation":"","country":"GB"},"#,
        r#"{"mbid":"f2e1d0c9-b8a7-4654-8321-0fedcba98765","name":"Radiohead Tribute","sortName":"Radiohead Tribute","#,
        r#""score":61,"type":"Person","disambiguation":null,"country":null}]}"#
    )
    .to_owned();
    assert_eq!(
        resolver.get("/search/artist?q=++Radiohead").await,
        (200, expected.clone())
    );
    // Same key after lowercasing and trimming: served from the cache.
    assert_eq!(
        resolver.get("/search/artist?q=RADIOHEAD%20").await,
        (200, expected)
    );
    assert_eq!(
        resolver.get("/search/artist").await,
        (400, r#"{"error":"missing q parameter"}"#.to_owned())
    );
    assert_eq!(
        resolver.get("/search/artist?q=").await,
        (400, r#"{"error":"missing q parameter"}"#.to_owned())
    );
    assert_eq!(
        resolver.get("/search/artist?q=a").await,
        (400, r#"{"error":"query too short"}"#.to_owned())
    );
    up.musicbrainz.verify().await;
}

#[tokio::test]
async fn search_empty_results_are_cached_and_503_is_not() {
    let up = Upstreams::start().await;
    Mock::given(path("/ws/2/artist/"))
        .and(query_param("query", "zzzz"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"created":"2026-01-10T12:00:00.000Z","count":0,"offset":0,"artists":[]}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path("/ws/2/artist/"))
        .and(query_param("query", "busy"))
        .respond_with(unavailable())
        .expect(2)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[("MB_RETRIES", "0")])).await;
    for _ in 0..2 {
        assert_eq!(
            resolver.get("/search/artist?q=zzzz").await,
            (200, r#"{"artists":[]}"#.to_owned())
        );
        assert_eq!(
            resolver.get("/search/artist?q=busy").await,
            (502, r#"{"error":"upstream_error","status":503}"#.to_owned())
        );
    }
    up.musicbrainz.verify().await;
}

#[tokio::test]
async fn spotify_artist_success_negatives_and_validation() {
    let up = Upstreams::start().await;
    Mock::given(path("/ws/2/url"))
        .and(query_param(
            "resource",
            format!("https://open.spotify.com/artist/{SPOTIFY_ID}"),
        ))
        .and(query_param("inc", "artist-rels"))
        .respond_with(json_fixture("url_spotify_radiohead.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let no_relation = "0000000000000000000000";
    Mock::given(path("/ws/2/url"))
        .and(query_param(
            "resource",
            format!("https://open.spotify.com/artist/{no_relation}"),
        ))
        .respond_with(json_fixture("url_spotify_no_artist.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let unknown = "1111111111111111111111";
    Mock::given(path("/ws/2/url"))
        .and(query_param(
            "resource",
            format!("https://open.spotify.com/artist/{unknown}"),
        ))
        .respond_with(
            ResponseTemplate::new(404).set_body_raw(fixture("not_found.json"), "application/json"),
        )
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let busy = "2222222222222222222222";
    Mock::given(path("/ws/2/url"))
        .and(query_param(
            "resource",
            format!("https://open.spotify.com/artist/{busy}"),
        ))
        .respond_with(unavailable())
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[("MB_RETRIES", "0")])).await;
    let found = format!(
        r#"{{"mbid":"a74b1b7f-71a5-4011-9441-d0b5e4122711","name":"Radiohead","sortName":"Radiohead","spotifyId":"{SPOTIFY_ID}"}}"#
    );
    for _ in 0..2 {
        assert_eq!(
            resolver
                .get(&format!("/resolve/spotify-artist/{SPOTIFY_ID}"))
                .await,
            (200, found.clone())
        );
    }
    let none = format!(r#"{{"error":"no_artist_relation","spotifyId":"{no_relation}"}}"#);
    assert_eq!(
        resolver
            .get(&format!("/resolve/spotify-artist/{no_relation}"))
            .await,
        (404, none.clone())
    );
    assert_eq!(
        resolver
            .get(&format!("/resolve/spotify-artist/{no_relation}"))
            .await,
        (200, none)
    );
    let missing = format!(r#"{{"error":"not_found","spotifyId":"{unknown}"}}"#);
    assert_eq!(
        resolver
            .get(&format!("/resolve/spotify-artist/{unknown}"))
            .await,
        (404, missing.clone())
    );
    assert_eq!(
        resolver
            .get(&format!("/resolve/spotify-artist/{unknown}"))
            .await,
        (200, missing)
    );
    assert_eq!(
        resolver
            .get(&format!("/resolve/spotify-artist/{busy}"))
            .await,
        (502, r#"{"error":"upstream_error","status":503}"#.to_owned())
    );
    assert_eq!(
        resolver
            .get("/resolve/spotify-artist/tooShort21xxxxxxxxxxx")
            .await,
        (400, r#"{"error":"invalid spotify id"}"#.to_owned())
    );
    assert_eq!(
        resolver
            .get("/resolve/spotify-artist/4Z8W4fKeB5YxbusRsdQV-b")
            .await,
        (404, r#"{"error":"not found"}"#.to_owned())
    );
    up.musicbrainz.verify().await;
}

const CREEP_RESULT: &str = concat!(
    r#"{"recording_mbid":"9f4a8d3c-1b2e-4c5d-8e6f-7a8b9c0d1e2f","recording_name":"Creep","#,
    r#""artist_mbids":["a74b1b7f-71a5-4011-9441-d0b5e4122711"],"artist_credit_name":"Radiohead","#,
    r#""release_mbid":"4aafc8b8-0d3c-4c0e-8b0b-1e2f3a4b5c6d","release_name":"Pablo Honey","score":100}"#
);
const EMPTY_RESULT: &str = r#"{"recording_mbid":null,"recording_name":null,"artist_mbids":[],"artist_credit_name":null,"release_mbid":null,"release_name":null,"score":0}"#;

#[tokio::test]
async fn batch_resolves_in_order_caches_matches_and_misses_but_not_503() {
    let up = Upstreams::start().await;
    Mock::given(path("/ws/2/recording/"))
        .and(query_param(
            "query",
            r#"recording:"Creep" AND artist:"Radiohead" AND release:"Pablo Honey""#,
        ))
        .and(query_param("limit", "1"))
        .respond_with(json_fixture("recording_search_creep.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path("/ws/2/recording/"))
        .and(query_param(
            "query",
            r#"recording:"Creep" AND artist:"AC\/DC""#,
        ))
        .respond_with(json_fixture("recording_search_weak.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path("/ws/2/recording/"))
        .and(query_param(
            "query",
            r#"recording:"Busy" AND artist:"Band""#,
        ))
        .respond_with(unavailable())
        .expect(2)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[("MB_RETRIES", "0")])).await;
    let batch = r#"{"recordings":[
        {"artist":"Radiohead","title":"Creep","release":"Pablo Honey"},
        {"artist":"AC/DC","title":"Creep"},
        {"artist":"Band","title":"Busy"}]}"#;
    let expected = format!(r#"{{"results":[{CREEP_RESULT},{EMPTY_RESULT},{EMPTY_RESULT}]}}"#);
    assert_eq!(
        resolver.post("/resolve/batch", batch).await,
        (200, expected.clone())
    );
    // Second time: both cached (match and miss), the transient 503 is asked again.
    assert_eq!(
        resolver.post("/resolve/batch", batch).await,
        (200, expected)
    );
    let key = "resolve:radiohead::creep::pablo honey";
    assert_eq!(
        resolver.state.cache().get(key).await.unwrap().unwrap(),
        CREEP_RESULT.as_bytes()
    );
    assert!(
        resolver
            .state
            .cache()
            .get("resolve:ac/dc::creep")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        resolver
            .state
            .cache()
            .get("resolve:band::busy")
            .await
            .unwrap()
            .is_none()
    );
    up.musicbrainz.verify().await;
}

#[tokio::test]
async fn batch_and_rehost_validation_errors() {
    let up = Upstreams::start().await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let too_many = format!(
        r#"{{"recordings":[{}]}}"#,
        vec![r#"{"artist":"a","title":"b"}"#; 51].join(",")
    );
    for (body, error) in [
        ("not json", "invalid JSON body"),
        ("{}", "recordings array required"),
        (r#"{"recordings":[]}"#, "recordings array required"),
        (too_many.as_str(), "max 50 recordings per batch"),
        (
            r#"{"recordings":[{"artist":"a","title":""}]}"#,
            "each item needs artist and title",
        ),
    ] {
        let answer = resolver.post("/resolve/batch", body).await;
        assert_eq!(answer, (400, format!(r#"{{"error":"{error}"}}"#)), "{body}");
    }
    // Without LOAD_S3_AGENT_API_KEY the rehost route answers 500 before reading the body.
    assert_eq!(
        resolver.post("/rehost/image", "not json").await,
        (
            500,
            r#"{"error":"LOAD_S3_AGENT_API_KEY not configured"}"#.to_owned()
        )
    );
}

#[tokio::test]
async fn an_unreachable_musicbrainz_is_a_json_502_not_a_500() {
    let up = Upstreams::start().await;
    // Nothing listens on port 1.
    let resolver = Resolver::sqlite(up.config(&[
        ("MUSICBRAINZ_URL", "http://127.0.0.1:1"),
        ("MB_RETRIES", "0"),
    ]))
    .await;
    assert_eq!(
        resolver.get("/search/artist?q=radiohead").await,
        (502, r#"{"error":"upstream_unreachable"}"#.to_owned())
    );
    assert_eq!(
        resolver
            .get("/artist/a74b1b7f-71a5-4011-9441-d0b5e4122711")
            .await,
        (502, r#"{"error":"upstream_unreachable"}"#.to_owned())
    );
}
