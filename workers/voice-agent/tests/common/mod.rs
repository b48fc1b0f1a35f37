//! Test fixtures: the voice-agent served over real HTTP on 127.0.0.1 (wrapped in the shared
//! edge, state in a SQLite file or a Postgres schema), a wallet that logs in, and a fake
//! OpenAI-compatible LLM that streams scripted chunks at scripted times.

#![allow(dead_code)] // Each test binary uses a subset.

pub mod fake_llm;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_common::{BackgroundTasks, ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use k256::ecdsa::SigningKey;
use portability::{CacheStore, SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use voice_agent::VoiceAgentConfig;
use voice_agent::auth::Wallet;
use voice_agent::auth::signature::{sign_personal_message, wallet_of};

/// The JWT secret of every test service.
pub const JWT_SECRET: &str = "test-jwt-secret";

/// A running voice-agent.
pub struct Service {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its state.
    pub store: Arc<dyn StateStore>,
    /// Its background work (memory writes).
    pub background: BackgroundTasks,
    /// HTTP client for the tests.
    pub http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Configuration from `vars` (plus the test JWT secret and no subgraph unless given).
pub fn config(vars: &[(&str, &str)]) -> VoiceAgentConfig {
    let mut pairs: Vec<(&str, &str)> = vec![("JWT_SECRET", JWT_SECRET), ("SUBGRAPH_URL", "off")];
    pairs.extend_from_slice(vars);
    VoiceAgentConfig::from_env(&EnvSource::from_pairs(pairs), None).unwrap()
}

impl Service {
    /// Serves `config` with a fresh SQLite file store.
    pub async fn start(config: VoiceAgentConfig) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn StateStore> = Arc::new(
            SqliteStateStore::open(dir.path().join("state.db"))
                .await
                .unwrap(),
        );
        Self::start_with_store(config, store, Some(dir)).await
    }

    /// Serves `config` over `store`.
    pub async fn start_with_store(
        config: VoiceAgentConfig,
        store: Arc<dyn StateStore>,
        dir: Option<tempfile::TempDir>,
    ) -> Service {
        let cache: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        let background = BackgroundTasks::new();
        let resources = voice_agent::Resources {
            state: store.clone(),
            cache,
            background: background.clone(),
        };
        let app = ServiceEdge::new("voice-agent", CorsPolicy::voice_agent())
            .wrap(voice_agent::router(config, resources));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(http_common::serve(
            listener,
            app,
            ConnectionLimits::default(),
            std::future::pending(),
            Duration::from_secs(1),
        ));
        Service {
            base,
            store,
            background,
            http: reqwest::Client::new(),
            _dir: dir,
            server,
        }
    }

    /// `POST <path>` with a JSON body and an optional bearer.
    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// Logs `user` in and returns the JWT.
    pub async fn login(&self, user: &User) -> String {
        let nonce = self.nonce(&user.wallet.to_lowercase()).await;
        let response = self
            .post(
                "/auth/verify",
                None,
                json!({"wallet": user.wallet.to_lowercase(), "signature": user.sign(&nonce), "nonce": nonce}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Asks a nonce for `wallet`.
    pub async fn nonce(&self, wallet: &str) -> String {
        let response = self
            .post("/auth/nonce", None, json!({ "wallet": wallet }))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["nonce"].as_str().unwrap().to_owned()
    }
}

/// A wallet with its key.
pub struct User {
    /// The key.
    pub key: SigningKey,
    /// Its address.
    pub wallet: Wallet,
}

impl User {
    /// A deterministic user.
    pub fn new(seed: u8) -> User {
        let key = SigningKey::from_slice(&[seed; 32]).unwrap();
        let wallet = wallet_of(key.verifying_key());
        User { key, wallet }
    }

    /// `personal_sign` of `message`.
    pub fn sign(&self, message: &str) -> String {
        sign_personal_message(&self.key, message)
    }
}

/// Reads a whole response body as text.
pub async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// Asserts status and `{"error": message}`.
pub async fn assert_error(response: reqwest::Response, status: u16, message: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        text(response).await,
        json!({ "error": message }).to_string()
    );
}
