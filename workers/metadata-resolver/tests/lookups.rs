//! `/artist`, `/recording` and `/release-group` over real HTTP against fake MusicBrainz,
//! Commons and Wikidata: success bodies, cache hits, negative entries, merge redirects,
//! invalid MBIDs and MusicBrainz 503.
//!
//! Real clock where a test times the MusicBrainz spacing: the limiter's turns are wall-clock
//! milliseconds in the cache store.

mod common;

use common::{Resolver, Upstreams, fixture, json_fixture};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const RADIOHEAD: &str = "a74b1b7f-71a5-4011-9441-d0b5e4122711";
const MERGED: &str = "0c1e7a5d-2f3b-4a6c-9d8e-1f2a3b4c5d6e";
const CREEP: &str = "9f4a8d3c-1b2e-4c5d-8e6f-7a8b9c0d1e2f";
const OK_COMPUTER: &str = "b1392450-e666-3926-a536-22c65f834433";
const MISSING: &str = "00000000-0000-4000-8000-000000000000";

const RADIOHEAD_BODY: &str = concat!(
    r#"{"mbid":"a74b1b7f-71a5-4011-9441-d0b5e4122711","name":"Radiohead","sortName":"Radiohead","#,
    r#""type":"Group","disambiguation":"","country":"GB","area":"United Kingdom","#,
    r#""lifeSpan":{"begin":"1991","end":null,"ended":false},"#,
    r#""genres":["alternative rock","art rock","electronic","rock"],"#,
    r#""links":{"website":"https://www.radiohead.com/","twitter":"https://twitter.com/radiohead","#,
    r#""instagram":"https://www.instagram.com/radiohead/","#,
    r#""spotify":"https://open.spotify.com/artist/4Z8W4fKeB5YxbusRsdQVPb","#,
    r#""wikidata":"https://www.wikidata.org/wiki/Q44191","#,
    r#""image":"https://upload.wikimedia.org/wikipedia/commons/thumb/a/a1/Radiohead_%C3%A0_Montr%C3%A9al.jpg/400px-Radiohead_%C3%A0_Montr%C3%A9al.jpg"}}"#
);

async fn mount_radiohead(up: &Upstreams, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/ws/2/artist/{RADIOHEAD}")))
        .and(query_param("inc", "genres url-rels"))
        .and(query_param("fmt", "json"))
        .and(header("user-agent", "HeavenTest/1.0 ( test@example.com )"))
        .and(header("accept", "application/json"))
        .respond_with(json_fixture("artist_radiohead.json"))
        .expect(times)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(method("GET"))
        .and(path("/w/api.php"))
        .and(query_param("titles", "File:Radiohead_à_Montréal.jpg"))
        .and(query_param("iiurlwidth", "400"))
        .respond_with(json_fixture("commons_imageinfo.json"))
        .expect(times)
        .mount(&up.commons)
        .await;
}

#[tokio::test]
async fn artist_success_then_cache_hit() {
    let up = Upstreams::start().await;
    mount_radiohead(&up, 1).await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let first = resolver.get(&format!("/artist/{RADIOHEAD}")).await;
    assert_eq!(first, (200, RADIOHEAD_BODY.to_owned()));
    let second = resolver.get(&format!("/artist/{RADIOHEAD}")).await;
    assert_eq!(second, (200, RADIOHEAD_BODY.to_owned()));
    let commons = resolver
        .state
        .cache()
        .get("commons:Radiohead_à_Montréal.jpg")
        .await
        .unwrap();
    assert!(
        commons
            .unwrap()
            .starts_with(b"https://upload.wikimedia.org/")
    );
    up.musicbrainz.verify().await;
    up.commons.verify().await;
}

#[tokio::test]
async fn artist_image_falls_back_to_wikidata_p18() {
    let up = Upstreams::start().await;
    let mbid = "8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11";
    Mock::given(path(format!("/ws/2/artist/{mbid}")))
        .respond_with(json_fixture("artist_no_image.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path("/w/api.php"))
        .and(query_param("action", "wbgetclaims"))
        .and(query_param("entity", "Q191352"))
        .and(query_param("property", "P18"))
        .respond_with(json_fixture("wikidata_p18.json"))
        .expect(1)
        .mount(&up.wikidata)
        .await;
    Mock::given(path("/w/api.php"))
        .and(query_param("titles", "File:Beth Gibbons 2013.jpg"))
        .respond_with(json_fixture("commons_imageinfo_gibbons.json"))
        .expect(1)
        .mount(&up.commons)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let (status, body) = resolver.get(&format!("/artist/{mbid}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        concat!(
            r#"{"mbid":"8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11","name":"Portishead Singer","#,
            r#""sortName":"Singer, Portishead","type":"Person","disambiguation":"example without image relation","#,
            r#""country":null,"area":null,"lifeSpan":{"begin":null,"end":null,"ended":false},"genres":[],"#,
            r#""links":{"wikidata":"https://www.wikidata.org/wiki/Q191352","#,
            r#""image":"https://upload.wikimedia.org/wikipedia/commons/thumb/b/b2/Beth_Gibbons_2013.jpg/400px-Beth_Gibbons_2013.jpg"}}"#
        )
    );
    let cached = resolver
        .state
        .cache()
        .get("wikidata-image:Q191352")
        .await
        .unwrap();
    assert!(cached.unwrap().ends_with(b"400px-Beth_Gibbons_2013.jpg"));
    up.wikidata.verify().await;
    up.commons.verify().await;
}

#[tokio::test]
async fn missing_images_are_cached_as_null() {
    let up = Upstreams::start().await;
    Mock::given(path(format!("/ws/2/artist/{RADIOHEAD}")))
        .respond_with(json_fixture("artist_radiohead.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    // Commons knows no such file; Wikidata has no P18 claim.
    Mock::given(path("/w/api.php"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"batchcomplete":"","query":{"pages":{"-1":{"ns":6,"title":"File:Radiohead à Montréal.jpg","missing":"","imagerepository":""}}}}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&up.commons)
        .await;
    Mock::given(path("/w/api.php"))
        .and(query_param("entity", "Q44191"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"claims":{}}"#, "application/json"),
        )
        .expect(1)
        .mount(&up.wikidata)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let (status, body) = resolver.get(&format!("/artist/{RADIOHEAD}")).await;
    assert_eq!(status, 200);
    assert!(
        body.ends_with(r#""wikidata":"https://www.wikidata.org/wiki/Q44191"}}"#),
        "{body}"
    );
    let cache = resolver.state.cache();
    assert_eq!(
        cache
            .get("commons:Radiohead_à_Montréal.jpg")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"null"[..])
    );
    assert_eq!(
        cache.get("wikidata-image:Q44191").await.unwrap().as_deref(),
        Some(&b"null"[..])
    );
    up.commons.verify().await;
    up.wikidata.verify().await;
}

#[tokio::test]
async fn a_failing_commons_call_is_not_cached() {
    let up = Upstreams::start().await;
    Mock::given(path(format!("/ws/2/artist/{RADIOHEAD}")))
        .respond_with(json_fixture("artist_radiohead.json"))
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path("/w/api.php"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&up.commons)
        .await;
    Mock::given(path("/w/api.php"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&up.wikidata)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    assert_eq!(resolver.get(&format!("/artist/{RADIOHEAD}")).await.0, 200);
    let cache = resolver.state.cache();
    assert!(
        cache
            .get("commons:Radiohead_à_Montréal.jpg")
            .await
            .unwrap()
            .is_none()
    );
    assert!(cache.get("wikidata-image:Q44191").await.unwrap().is_none());
}

const RECORDING_BODY: &str = concat!(
    r#"{"recording":{"mbid":"9f4a8d3c-1b2e-4c5d-8e6f-7a8b9c0d1e2f","title":"Creep"},"#,
    r#""artists":[{"mbid":"a74b1b7f-71a5-4011-9441-d0b5e4122711","name":"Radiohead","sortName":"Radiohead"}],"#,
    r#""releaseGroup":{"mbid":"b1392450-e666-3926-a536-22c65f834433","title":"Pablo Honey","type":"Album"}}"#
);

#[tokio::test]
async fn recording_success_cache_hit_and_stale_v1_entry() {
    let up = Upstreams::start().await;
    Mock::given(path(format!("/ws/2/recording/{CREEP}")))
        .and(query_param("inc", "artists releases release-groups"))
        .respond_with(json_fixture("recording_creep.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    // An entry in the original's first format (no releaseGroup) is fetched again.
    resolver
        .state
        .cache()
        .put(
            &format!("recording:{CREEP}"),
            br#"{"recording":{"mbid":"x","title":"old"},"artists":[]}"#.to_vec(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        let answer = resolver.get(&format!("/recording/{CREEP}")).await;
        assert_eq!(answer, (200, RECORDING_BODY.to_owned()));
    }
    up.musicbrainz.verify().await;
}

#[tokio::test]
async fn release_group_success_then_cache_hit() {
    let up = Upstreams::start().await;
    Mock::given(path(format!("/ws/2/release-group/{OK_COMPUTER}")))
        .and(query_param("inc", "artists genres url-rels releases"))
        .respond_with(json_fixture("release_group_ok_computer.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    let expected = format!(
        concat!(
            r#"{{"mbid":"b1392450-e666-3926-a536-22c65f834433","title":"OK Computer","type":"Album","#,
            r#""secondaryTypes":[],"releaseDate":"1997-05-21","disambiguation":"","#,
            r#""artists":[{{"mbid":"a74b1b7f-71a5-4011-9441-d0b5e4122711","name":"Radiohead","joinphrase":""}}],"#,
            r#""genres":["art rock","alternative rock"],"#,
            r#""coverArtUrl":"{}/release-group/b1392450-e666-3926-a536-22c65f834433/front-250","#,
            r#""trackCount":13,"#,
            r#""links":{{"wikidata":"https://www.wikidata.org/wiki/Q213597","discogs":"https://www.discogs.com/master/21491","#,
            r#""spotify":"https://open.spotify.com/album/6dVIqQ8qmQ5GBnJ9shOYGE"}}}}"#
        ),
        up.images.uri()
    );
    for _ in 0..2 {
        let answer = resolver.get(&format!("/release-group/{OK_COMPUTER}")).await;
        assert_eq!(answer, (200, expected.clone()));
    }
    up.musicbrainz.verify().await;
}

/// The three lookup routes' shared contract for one entity.
struct Entity {
    route: &'static str,
    ws: &'static str,
    fixture: &'static str,
    target: &'static str,
}

const ENTITIES: [Entity; 3] = [
    Entity {
        route: "/artist/",
        ws: "artist",
        fixture: "artist_radiohead.json",
        target: RADIOHEAD,
    },
    Entity {
        route: "/recording/",
        ws: "recording",
        fixture: "recording_creep.json",
        target: CREEP,
    },
    Entity {
        route: "/release-group/",
        ws: "release-group",
        fixture: "release_group_ok_computer.json",
        target: OK_COMPUTER,
    },
];

#[tokio::test]
async fn not_found_is_404_then_a_cached_200() {
    for entity in ENTITIES {
        let up = Upstreams::start().await;
        Mock::given(path(format!("/ws/2/{}/{MISSING}", entity.ws)))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_raw(fixture("not_found.json"), "application/json"),
            )
            .expect(1)
            .mount(&up.musicbrainz)
            .await;
        let resolver = Resolver::sqlite(up.config(&[])).await;
        let body = format!(r#"{{"error":"not_found","mbid":"{MISSING}"}}"#);
        let url = format!("{}{MISSING}", entity.route);
        assert_eq!(
            resolver.get(&url).await,
            (404, body.clone()),
            "{}",
            entity.ws
        );
        assert_eq!(resolver.get(&url).await, (200, body), "{}", entity.ws);
        up.musicbrainz.verify().await;
    }
}

#[tokio::test]
async fn merged_mbid_redirect_is_cached_and_followed() {
    let redirect: serde_json::Value =
        serde_json::from_str(&fixture("merge_redirect_301.json")).unwrap();
    for entity in ENTITIES {
        let up = Upstreams::start().await;
        let location = redirect["location"]
            .as_str()
            .unwrap()
            .replace("/artist/", &format!("/{}/", entity.ws))
            .replace(RADIOHEAD, entity.target);
        Mock::given(path(format!("/ws/2/{}/{MERGED}", entity.ws)))
            .respond_with(ResponseTemplate::new(301).insert_header("location", location.as_str()))
            .expect(1)
            .mount(&up.musicbrainz)
            .await;
        Mock::given(path(format!("/ws/2/{}/{}", entity.ws, entity.target)))
            .respond_with(json_fixture(entity.fixture))
            .expect(1)
            .mount(&up.musicbrainz)
            .await;
        let resolver = Resolver::sqlite(up.config(&[])).await;
        let (status, merged) = resolver.get(&format!("{}{MERGED}", entity.route)).await;
        assert_eq!(status, 200, "{}: {merged}", entity.ws);
        assert!(merged.contains(entity.target), "{}", entity.ws);
        let (_, direct) = resolver
            .get(&format!("{}{}", entity.route, entity.target))
            .await;
        assert_eq!(merged, direct);
        // The redirect entry answers the merged id without asking MusicBrainz again.
        assert_eq!(
            resolver.get(&format!("{}{MERGED}", entity.route)).await.1,
            direct
        );
        let entry = resolver
            .state
            .cache()
            .get(&format!("{}:{MERGED}", entity.ws))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(entry).unwrap(),
            format!(r#"{{"redirect":"{}"}}"#, entity.target)
        );
        up.musicbrainz.verify().await;
    }
}

#[tokio::test]
async fn invalid_mbids_never_reach_musicbrainz() {
    let up = Upstreams::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    for entity in ENTITIES {
        let layout = format!("{}a74b1b7f71a5-4011-9441-d0b5e4122711-", entity.route);
        assert_eq!(
            resolver.get(&layout).await,
            (400, r#"{"error":"invalid mbid"}"#.to_owned())
        );
        let upper = format!("{}A74B1B7F-71A5-4011-9441-D0B5E4122711", entity.route);
        assert_eq!(
            resolver.get(&upper).await,
            (404, r#"{"error":"not found"}"#.to_owned())
        );
        let short = format!("{}abc", entity.route);
        assert_eq!(
            resolver.get(&short).await,
            (404, r#"{"error":"not found"}"#.to_owned())
        );
    }
    up.musicbrainz.verify().await;
}

#[tokio::test]
async fn musicbrainz_503_backs_off_then_answers_502_uncached() {
    for entity in ENTITIES {
        let up = Upstreams::start().await;
        Mock::given(path(format!("/ws/2/{}/{}", entity.ws, entity.target)))
            .respond_with(
                ResponseTemplate::new(503)
                    .set_body_raw(fixture("rate_limited_503.json"), "application/json"),
            )
            .expect(4)
            .mount(&up.musicbrainz)
            .await;
        let resolver = Resolver::sqlite(up.config(&[("MB_RETRIES", "1")])).await;
        let url = format!("{}{}", entity.route, entity.target);
        let started = std::time::Instant::now();
        let body = r#"{"error":"upstream_error","status":503}"#.to_owned();
        assert_eq!(resolver.get(&url).await, (502, body.clone()));
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(50),
            "backed off"
        );
        // Not cached: the next request asks again (one try plus one retry each time).
        assert_eq!(resolver.get(&url).await, (502, body));
        up.musicbrainz.verify().await;
    }
}

#[tokio::test]
async fn a_single_503_is_retried_after_the_back_off() {
    let up = Upstreams::start().await;
    Mock::given(path(format!("/ws/2/recording/{CREEP}")))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&up.musicbrainz)
        .await;
    Mock::given(path(format!("/ws/2/recording/{CREEP}")))
        .respond_with(json_fixture("recording_creep.json"))
        .expect(1)
        .mount(&up.musicbrainz)
        .await;
    let resolver = Resolver::sqlite(up.config(&[])).await;
    assert_eq!(
        resolver.get(&format!("/recording/{CREEP}")).await,
        (200, RECORDING_BODY.to_owned())
    );
    up.musicbrainz.verify().await;
}
