//! Benchmark (not a test): `POST /api/scrobble/submit` with 500-track batches end to end over
//! real HTTP behind the api edge (validation, normalization, resolution, the batch document,
//! blob store put + anchor on the shared fake Load agent, 500 insert-or-ignore events in
//! SQLite), cache warm:
//! every track carries an embedded MBID that a first, untimed batch looked up on a fake
//! MusicBrainz, so the timed batches resolve from the cache store.
//!
//! `cargo bench -p media --bench scrobble_batch` (`SCROBBLE_BENCH_BATCHES`, default 5).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use blob_store::testing::{FakeLoad, LOAD_KEY};
use blob_store::{ArweaveGateway, BlobIndex, BlobStore, LoadAgent, LoadConfig};
use canister_bridge::{BridgeError, IdentityClient};
use http_common::{ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use identity_canister::endpoints::{EdgeRequest, EdgeResponse, IdentityView};
use media::scrobble::resolve::Lookups;
use media::{Clock, MediaConfig, MediaResources, MediaState};
use portability::{CacheStore, SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Nobody;

#[async_trait]
impl IdentityClient for Nobody {
    async fn edge_request(&self, _: EdgeRequest) -> Result<EdgeResponse, BridgeError> {
        Err(BridgeError::Protocol("unused".into()))
    }
    async fn identity_of(&self, _: &str) -> Result<Option<IdentityView>, BridgeError> {
        Ok(None)
    }
}

fn mbid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i)
}

fn batch(offset: u64) -> Value {
    let tracks: Vec<Value> = (0..500)
        .map(|i| {
            json!({
                "artist": format!("Artist {}", i % 37),
                "title": format!("Song number {i} (Official Video)"),
                "album": "Album",
                "duration_ms": 180_000 + i * 1000,
                "playedAt": 1_700_000_000 + offset + i as u64 * 200,
                "source": "android",
                "embedded": { "mb_recording_id": mbid(i) }
            })
        })
        .collect();
    json!({ "tracks": tracks })
}

#[tokio::main]
async fn main() {
    let batches: usize = std::env::var("SCROBBLE_BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let state: Arc<dyn StateStore> = Arc::new(
        SqliteStateStore::open(dir.path().join("state.db"))
            .await
            .unwrap(),
    );
    let cache: Arc<dyn CacheStore> = Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
    let mb = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex("^/ws/2/recording/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"title": "Song"})))
        .mount(&mb)
        .await;
    let env = EnvSource::from_pairs([
        ("MUSICBRAINZ_URL", mb.uri().as_str()),
        ("MB_SPACING_MS", "1"),
        ("MB_QUEUE_LIMIT", "1000"),
    ]);
    let resolver = metadata_resolver::ResolverConfig::from_env(&env).unwrap();
    let load = FakeLoad::start().await;
    let arweave = ArweaveGateway::new(reqwest::Client::new(), &load.server.uri());
    // A 500-track document is ~300 KB, over the free Turbo anchor limit the stack enforces by
    // default (LOAD_ANCHOR_MAX_BYTES, 100 KB): the bench raises it, as production must.
    let mut config = LoadConfig::new(Some(LOAD_KEY.to_owned()));
    config.agent_url = load.server.uri();
    config.gateway_url = load.server.uri();
    config.anchor_max_size = 16 << 20;
    let agent = LoadAgent::new(reqwest::Client::new(), config, arweave);
    let blobs = Arc::new(BlobStore::new(
        agent,
        BlobIndex::new(state.clone()),
        dir.path().join("blob-spool"),
    ));
    let media = MediaState::new(
        MediaConfig::for_tests("http://127.0.0.1:9", dir.path().join("media-spool")),
        MediaResources {
            state,
            blobs,
            identity: Arc::new(Nobody),
            publishing: None,
            scrobble_lookups: Some(Arc::new(Lookups::from_env(&env, &resolver, cache))),
            clock: Clock::system(),
        },
    );
    let mut edge = ServiceEdge::new("api", CorsPolicy::api_core());
    edge.timeout = media::REQUEST_TIMEOUT;
    let router = edge.wrap(media::router(media));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(http_common::serve(
        listener,
        router,
        ConnectionLimits::default(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let http = reqwest::Client::new();
    let submit = |offset: u64| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let t = Instant::now();
            let response = http
                .post(format!("{base}/api/scrobble/submit"))
                .header(
                    "x-user-address",
                    "0x1111111111111111111111111111111111111111",
                )
                .json(&batch(offset))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 200, "{body}");
            t.elapsed()
        }
    };
    let cold = submit(0).await;
    let document_kb = load
        .blobs
        .lock()
        .unwrap()
        .values()
        .map(|(b, _)| b.len())
        .max()
        .unwrap_or(0)
        / 1024;
    let lookups = mb.received_requests().await.unwrap().len();
    let mut warm = Vec::new();
    for i in 0..batches {
        warm.push(submit((i as u64 + 1) * 1_000_000).await.as_secs_f64());
    }
    warm.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "scrobble/submit: batches of 500 tracks, each with an embedded MBID (document {} KB)",
        document_kb
    );
    println!(
        "  cold (500 MusicBrainz lookups at 1 ms spacing, {lookups} requests): {:.2} s",
        cold.as_secs_f64()
    );
    println!(
        "  warm ({batches} batches, cache hits): p50 {:.3} s, max {:.3} s, {:.0} tracks/s",
        warm[warm.len() / 2],
        warm[warm.len() - 1],
        500.0 / warm[warm.len() / 2]
    );
    println!(
        "  MusicBrainz requests after the warm batches: {}",
        mb.received_requests().await.unwrap().len()
    );
}
