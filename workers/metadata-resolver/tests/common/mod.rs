//! Shared fixtures of the HTTP suites: wiremock fakes of every upstream, a resolver served on
//! 127.0.0.1 through the production edge, and real Redis with a private key prefix per test
//! (removed when the fixture drops). A Redis that is down fails the test with its address.

#![allow(dead_code)] // Each test binary uses a subset.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_common::{BackgroundTasks, ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use metadata_resolver::{AppState, ResolverConfig};
use portability::{
    CacheStore, ContentAddressedBlobStore, RedisCacheStore, SqliteCacheStore, SqliteStateStore,
};
use tokio::net::TcpListener;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The Load API key the rehosting fixtures configure (and the fake Load agent expects).
pub const LOAD_KEY: &str = "test-load-key";

/// The test Redis: `TEST_REDIS_URL`, as the portability suites read it, else the local default.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A 200 JSON response with a fixture's body.
pub fn json_fixture(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(name), "application/json")
}

/// Fake upstreams, one server each.
pub struct Upstreams {
    pub musicbrainz: MockServer,
    pub commons: MockServer,
    pub wikidata: MockServer,
    pub images: MockServer,
    pub load: MockServer,
}

impl Upstreams {
    pub async fn start() -> Self {
        Self {
            musicbrainz: MockServer::start().await,
            commons: MockServer::start().await,
            wikidata: MockServer::start().await,
            images: MockServer::start().await,
            load: MockServer::start().await,
        }
    }

    /// The resolver's configuration pointing at these fakes, plus `extra` variables.
    pub fn config(&self, extra: &[(&str, &str)]) -> ResolverConfig {
        let mut pairs = vec![
            ("MUSICBRAINZ_URL", self.musicbrainz.uri()),
            ("COMMONS_URL", self.commons.uri()),
            ("WIKIDATA_URL", self.wikidata.uri()),
            ("COVER_ART_ARCHIVE_URL", self.images.uri()),
            ("LOAD_GATEWAY_URL", "https://gateway.test/".to_owned()),
            (
                "MB_USER_AGENT",
                "HeavenTest/1.0 ( test@example.com )".to_owned(),
            ),
            ("MB_SPACING_MS", "20".to_owned()),
            ("MB_BACKOFF_MS", "50".to_owned()),
        ];
        for (k, v) in extra {
            pairs.retain(|(key, _)| key != k);
            pairs.push((k, (*v).to_owned()));
        }
        let env = EnvSource::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        ResolverConfig::from_env(&env).expect("test config")
    }

    /// The stack's blob store as production opens it with `BLOB_BACKEND=load`, pointed at the
    /// fake Load agent, indexing in an in-memory SQLite StateStore and spooling under `dir`.
    pub async fn load_blob_store(
        &self,
        dir: &std::path::Path,
    ) -> Arc<dyn ContentAddressedBlobStore> {
        let vars = [
            ("BLOB_BACKEND", "load".to_owned()),
            ("LOAD_S3_AGENT_URL", self.load.uri()),
            ("LOAD_S3_AGENT_API_KEY", LOAD_KEY.to_owned()),
            ("LOAD_GATEWAY_URL", "https://gateway.test".to_owned()),
        ];
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let config = blob_store::BlobStoreConfig::from_lookup(lookup, dir).expect("blob config");
        let index = Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
        blob_store::open_blob_store(&config, index)
            .await
            .expect("blob store")
    }

    /// A resolver over a fresh SQLite cache with rehosting on: the Load key set and the stack's
    /// blob store over the fake Load agent.
    pub async fn rehosting_resolver(&self) -> Resolver {
        let dir = tempfile::tempdir().unwrap();
        let blobs = self.load_blob_store(dir.path()).await;
        let cache: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        let config = self.config(&[("LOAD_S3_AGENT_API_KEY", LOAD_KEY)]);
        let mut resolver = Resolver::serve_with(config, cache, Some(blobs)).await;
        resolver.blob_dir = Some(dir);
        resolver
    }
}

/// A resolver serving on 127.0.0.1.
pub struct Resolver {
    pub base: String,
    pub state: AppState,
    pub cache: Arc<dyn CacheStore>,
    server: tokio::task::JoinHandle<()>,
    blob_dir: Option<tempfile::TempDir>,
}

impl Resolver {
    /// Serves `config` over `cache` through the production edge, with no blob store.
    pub async fn serve(config: ResolverConfig, cache: Arc<dyn CacheStore>) -> Self {
        Self::serve_with(config, cache, None).await
    }

    /// Serves `config` over `cache` through the production edge, rehosting into `blobs`.
    pub async fn serve_with(
        config: ResolverConfig,
        cache: Arc<dyn CacheStore>,
        blobs: Option<Arc<dyn ContentAddressedBlobStore>>,
    ) -> Self {
        let state = AppState::new(config, cache.clone(), blobs, BackgroundTasks::new());
        let router = ServiceEdge::new("metadata-resolver", CorsPolicy::metadata_resolver())
            .wrap(metadata_resolver::routes::router(state.clone()));
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
            state,
            cache,
            server,
            blob_dir: None,
        }
    }

    /// Serves `config` over a fresh in-memory SQLite cache.
    pub async fn sqlite(config: ResolverConfig) -> Self {
        let cache: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        Self::serve(config, cache).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(self.url(path)).await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Stops serving (a "killed" worker).
    pub fn stop(self) {
        self.server.abort();
    }
}

/// Answers with `template` and records when each request arrived.
#[derive(Clone)]
pub struct Timestamps {
    pub arrivals: Arc<Mutex<Vec<Instant>>>,
    template: ResponseTemplate,
}

impl Timestamps {
    pub fn new(template: ResponseTemplate) -> Self {
        Self {
            arrivals: Arc::default(),
            template,
        }
    }

    pub fn sorted(&self) -> Vec<Instant> {
        let mut times = self.arrivals.lock().unwrap().clone();
        times.sort();
        times
    }
}

impl Respond for Timestamps {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.arrivals.lock().unwrap().push(Instant::now());
        self.template.clone()
    }
}

/// A private Redis key prefix, deleted with all its keys on drop.
pub struct RedisPrefix {
    pub prefix: String,
}

impl RedisPrefix {
    pub fn new() -> Self {
        Self {
            prefix: format!("heaven:test:resolver:{:016x}:", rand::random::<u64>()),
        }
    }

    /// A store on the shared test Redis under this prefix (panics naming Redis when down).
    pub async fn store(&self) -> Arc<dyn CacheStore> {
        let url = redis_url();
        match RedisCacheStore::connect(&url, &self.prefix).await {
            Ok(store) => Arc::new(store),
            Err(err) => {
                panic!("Redis is not reachable at {url}: start it (CI expects it running) ({err})")
            }
        }
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let pattern = format!("{}*", self.prefix);
        let url = redis_url();
        let _ = std::thread::spawn(move || {
            let Ok(client) = redis::Client::open(url) else {
                return;
            };
            let Ok(mut conn) = client.get_connection() else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        })
        .join();
    }
}
