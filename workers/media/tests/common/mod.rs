//! The media routes served over real HTTP on 127.0.0.1 behind the api service's production
//! edge, with the blob store on the shared fake Load agent (`blob_store::testing::FakeLoad`),
//! state in in-memory SQLite, and a fake of the identity canister's `identity_of`.

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use blob_store::testing::{FakeLoad, LOAD_KEY};
use blob_store::{ArweaveGateway, BlobIndex, BlobStore};
use canister_bridge::{BridgeError, IdentityClient, PublishingClient};
use http_common::{ConnectionLimits, CorsPolicy, ServiceEdge};
use identity_canister::endpoints::{EdgeRequest, EdgeResponse, IdentityView};
use media::{Clock, MediaConfig, MediaResources, MediaState};
use portability::{SqliteStateStore, StateStore};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// A Self-verified user.
pub const USER: &str = "0x1111111111111111111111111111111111111111";
/// Another Self-verified user.
pub const OTHER: &str = "0x2222222222222222222222222222222222222222";
/// An address without identity.
pub const STRANGER: &str = "0x3333333333333333333333333333333333333333";

/// The identity canister's `identity_of`, faked: verified addresses, or unreachable.
#[derive(Default)]
pub struct FakeIdentity {
    verified: Mutex<HashSet<String>>,
    down: AtomicBool,
}

impl FakeIdentity {
    /// Marks `address` Self-verified.
    pub fn verify(&self, address: &str) {
        self.verified.lock().unwrap().insert(address.to_lowercase());
    }

    /// Makes every call fail as an unreachable canister.
    pub fn go_down(&self) {
        self.down.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl IdentityClient for FakeIdentity {
    async fn edge_request(&self, _: EdgeRequest) -> Result<EdgeResponse, BridgeError> {
        Err(BridgeError::Protocol("not used by the media worker".into()))
    }

    async fn identity_of(&self, address: &str) -> Result<Option<IdentityView>, BridgeError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BridgeError::Unreachable("connection refused".into()));
        }
        Ok(self
            .verified
            .lock()
            .unwrap()
            .contains(address)
            .then(|| IdentityView {
                address: address.to_owned(),
                verified_at: 1_700_000_000,
                has_short_name_credential: false,
            }))
    }
}

/// How to start the routes.
pub struct Options {
    /// The clock.
    pub clock: Clock,
    /// Whether uploads are configured (the Load key).
    pub uploads_configured: bool,
    /// Lease seconds.
    pub lease_secs: u64,
    /// The publishing signer (none: finalize and register are "not configured").
    pub publishing: Option<Arc<dyn PublishingClient>>,
    /// Scrobble lookups (none: tracks are normalized only).
    pub scrobble_lookups: Option<Arc<media::scrobble::resolve::Lookups>>,
    /// `ENVIRONMENT == "development"`.
    pub development: bool,
    /// Study-set registry address and Tempo RPC URL (default: no registry). The Arweave and
    /// Load gateways are the fake Load server (which serves no Arweave path: 404).
    pub study_set_registry: Option<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            uploads_configured: true,
            lease_secs: 120,
            publishing: None,
            scrobble_lookups: None,
            development: true,
            study_set_registry: None,
        }
    }
}

/// The media routes on a port, and what is behind them.
pub struct Media {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The handlers' state.
    pub state: MediaState,
    /// The fake Load agent.
    pub load: FakeLoad,
    /// The fake identity canister.
    pub identity: Arc<FakeIdentity>,
    /// The state store.
    pub store: Arc<dyn StateStore>,
    /// A client.
    pub http: reqwest::Client,
    dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Media {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The fake Load agent's client with short timeouts.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

impl Media {
    /// Started with the defaults; `USER` and `OTHER` are verified.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// Started with `options`.
    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let load = FakeLoad::start().await;
        let store: Arc<dyn StateStore> =
            Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
        let arweave = ArweaveGateway::new(http(), &load.server.uri());
        let agent = load.agent_with(http(), Some(LOAD_KEY), arweave);
        let blobs = Arc::new(BlobStore::new(
            agent,
            BlobIndex::new(store.clone()),
            dir.path().join("blob-spool"),
        ));
        let identity = Arc::new(FakeIdentity::default());
        identity.verify(USER);
        identity.verify(OTHER);
        let mut config = MediaConfig::for_tests(&load.server.uri(), dir.path().join("spool"));
        config.uploads_configured = options.uploads_configured;
        config.lease = Duration::from_secs(options.lease_secs);
        config.development = options.development;
        if let Some((registry, rpc)) = options.study_set_registry {
            config.study_sets.registry = Some(registry);
            config.study_sets.tempo_rpc_url = rpc;
        }
        let state = MediaState::new(
            config,
            MediaResources {
                state: store.clone(),
                blobs,
                identity: identity.clone(),
                publishing: options.publishing,
                scrobble_lookups: options.scrobble_lookups,
                clock: options.clock,
            },
        );
        let mut edge = ServiceEdge::new("api", CorsPolicy::api_core());
        edge.internal_error = "Internal server error";
        edge.timeout = media::REQUEST_TIMEOUT;
        let router = edge.wrap(media::router(state.clone()));
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
            load,
            identity,
            store,
            http: http(),
            dir,
            server,
        }
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The spool directory (empty between requests).
    pub fn spool_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("spool")
    }

    /// A request as `user`.
    pub fn as_user(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("x-user-address", user)
    }

    /// Sends and reads status and JSON.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        (status, json)
    }

    /// `POST /api/music/publish/start` as `user` with `form`.
    pub async fn start_job(&self, user: &str, form: Form) -> (u16, Value) {
        self.send(
            self.as_user(reqwest::Method::POST, "/api/music/publish/start", user)
                .multipart(form),
        )
        .await
    }

    /// Starts an original job of `audio` for `user` and returns its id.
    pub async fn staged_job(&self, user: &str, audio: &[u8]) -> String {
        let (status, body) = self.start_job(user, audio_form(audio, "original")).await;
        assert_eq!(status, 200, "{body}");
        body["job"]["jobId"].as_str().unwrap().to_owned()
    }

    /// `POST /api/music/preflight` as `user`.
    pub async fn preflight(&self, user: &str, body: Value) -> (u16, Value) {
        self.send(
            self.as_user(reqwest::Method::POST, "/api/music/preflight", user)
                .json(&body),
        )
        .await
    }

    /// `POST /api/music/publish/<id>/artifacts/stage` as `user` with a cover and lyrics.
    pub async fn stage_artifacts(&self, user: &str, job_id: &str) -> (u16, Value) {
        let form = Form::new()
            .part(
                "cover",
                Part::bytes(b"PNG-cover".to_vec())
                    .file_name("cover.png")
                    .mime_str("image/png")
                    .unwrap(),
            )
            .text("lyricsText", "la la la\n");
        self.send(
            self.as_user(
                reqwest::Method::POST,
                &format!("/api/music/publish/{job_id}/artifacts/stage"),
                user,
            )
            .multipart(form),
        )
        .await
    }

    /// A job through start, artifacts and preflight: `policy_passed`.
    pub async fn passed_job(&self, user: &str, audio: &[u8]) -> String {
        let id = self.staged_job(user, audio).await;
        let (status, body) = self.stage_artifacts(user, &id).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = self
            .preflight(user, serde_json::json!({"jobId": id, "fingerprint": "fp"}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["job"]["status"], "policy_passed", "{body}");
        id
    }

    /// `GET /api/music/publish/<id>` as `user`.
    pub async fn job(&self, user: &str, job_id: &str) -> (u16, Value) {
        self.send(self.as_user(
            reqwest::Method::GET,
            &format!("/api/music/publish/{job_id}"),
            user,
        ))
        .await
    }

    /// `POST /api/music/publish/<id>/<action>` as `user` with a JSON body.
    pub async fn post_json(
        &self,
        user: &str,
        job_id: &str,
        action: &str,
        body: Value,
    ) -> (u16, Value) {
        self.send(
            self.as_user(
                reqwest::Method::POST,
                &format!("/api/music/publish/{job_id}/{action}"),
                user,
            )
            .json(&body),
        )
        .await
    }

    /// `POST /api/music/publish/<id>/<action>` as `user` without body.
    pub async fn post_action(&self, user: &str, job_id: &str, action: &str) -> (u16, Value) {
        self.send(self.as_user(
            reqwest::Method::POST,
            &format!("/api/music/publish/{job_id}/{action}"),
            user,
        ))
        .await
    }
}

/// Lowercase hex sha256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A start form: `file` (audio/mpeg, `audio.bin`), `publishType`, `audioSha256` of `audio`.
pub fn audio_form(audio: &[u8], publish_type: &str) -> Form {
    Form::new()
        .part(
            "file",
            Part::bytes(audio.to_vec())
                .file_name("audio.bin")
                .mime_str("audio/mpeg")
                .unwrap(),
        )
        .text("publishType", publish_type.to_owned())
        .text("audioSha256", sha256(audio))
}

/// `n` bytes of audio, different for each `seed`.
pub fn audio(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
