//! Test fixtures: voice-rooms served over real HTTP on 127.0.0.1 behind the shared edge, its
//! nonces in a SQLite file, a manual clock, a credits double, and a wallet that logs in.

#![allow(dead_code)] // Each test binary uses a subset.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use http_common::{ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use k256::ecdsa::SigningKey;
use portability::{CacheStore, SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use voice_rooms::auth::Wallet;
use voice_rooms::songs::SongRegistry;
use voice_rooms::{
    AttestOutcome, CeloOutcome, Clock, CreditBalance, CreditsClient, CreditsError, VoiceRoomsConfig,
};

/// The JWT secret of every test service.
pub const JWT_SECRET: &str = "test-jwt-secret";
/// Where every test clock starts (2026-01-01).
pub const START: i64 = 1_767_225_600;

/// A credits canister double: balances by wallet, a set of Celo-verified wallets, and a
/// switch that makes every call fail.
#[derive(Default)]
pub struct FakeCredits {
    /// Balances.
    pub balances: Mutex<HashMap<String, CreditBalance>>,
    /// Verified on the mirror.
    pub verified: Mutex<Vec<String>>,
    /// Every call answers this error.
    pub down: Mutex<Option<CreditsError>>,
    /// Wallets the calls were made for.
    pub calls: Mutex<Vec<String>>,
    /// The answer of `attest_booking` (a `Refused` 404 `booking not found` when unset).
    pub attest_answer: Mutex<Option<AttestOutcome>>,
    /// The `(booking_id, force_outcome)` of each `attest_booking` call.
    pub attest_calls: Mutex<Vec<(String, Option<String>)>>,
}

#[async_trait]
impl CreditsClient for FakeCredits {
    async fn balance(&self, wallet: &Wallet) -> Result<CreditBalance, CreditsError> {
        self.calls.lock().unwrap().push(wallet.to_string());
        if let Some(err) = self.down.lock().unwrap().clone() {
            return Err(err);
        }
        Ok(self
            .balances
            .lock()
            .unwrap()
            .get(wallet.as_str())
            .copied()
            .unwrap_or_default())
    }

    async fn verify_celo(&self, wallet: &Wallet) -> Result<CeloOutcome, CreditsError> {
        self.calls.lock().unwrap().push(wallet.to_string());
        if let Some(err) = self.down.lock().unwrap().clone() {
            return Err(err);
        }
        if !self.verified.lock().unwrap().contains(&wallet.to_string()) {
            return Ok(CeloOutcome::NotVerified);
        }
        let mut balances = self.balances.lock().unwrap();
        let balance = balances.entry(wallet.to_string()).or_default();
        let granted = balance.bonus_granted_seconds == 0;
        if granted {
            balance.bonus_granted_seconds = 1800;
            balance.remaining_seconds += 1800;
        }
        Ok(CeloOutcome::Verified {
            granted,
            remaining_seconds: balance.remaining_seconds,
        })
    }

    async fn attest_booking(
        &self,
        booking_id: &str,
        force_outcome: Option<&str>,
    ) -> Result<AttestOutcome, CreditsError> {
        self.attest_calls
            .lock()
            .unwrap()
            .push((booking_id.to_owned(), force_outcome.map(str::to_owned)));
        if let Some(err) = self.down.lock().unwrap().clone() {
            return Err(err);
        }
        Ok(self
            .attest_answer
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(AttestOutcome::Refused {
                status: 404,
                error: "booking not found".into(),
            }))
    }
}

/// A running voice-rooms.
pub struct Service {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its state store.
    pub store: Arc<dyn StateStore>,
    /// Its clock.
    pub clock: Clock,
    /// Its credits double.
    pub credits: Arc<FakeCredits>,
    /// Its songs registry (in the state store's SQLite file).
    pub songs: SongRegistry,
    /// HTTP client for the tests.
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Service {
    /// Serves the configuration of `vars` (plus the test JWT secret).
    pub async fn start(vars: &[(&str, &str)]) -> Service {
        let mut pairs: Vec<(&str, &str)> = vec![("JWT_SECRET", JWT_SECRET)];
        pairs.extend_from_slice(vars);
        let config = VoiceRoomsConfig::from_env(&EnvSource::from_pairs(pairs), None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn StateStore> = Arc::new(
            SqliteStateStore::open(dir.path().join("state.db"))
                .await
                .unwrap(),
        );
        let cache: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        let clock = Clock::manual(START);
        let credits = Arc::new(FakeCredits::default());
        let songs = SongRegistry::open(&format!(
            "sqlite://{}",
            dir.path().join("state.db").display()
        ))
        .await
        .unwrap();
        let resources = voice_rooms::Resources {
            state: store.clone(),
            cache,
            credits: credits.clone(),
            clock: clock.clone(),
            songs: songs.clone(),
        };
        let app = ServiceEdge::new("voice-rooms", CorsPolicy::voice_rooms())
            .wrap(voice_rooms::router(config, resources));
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
            clock,
            credits,
            songs,
            http: reqwest::Client::new(),
            _dir: dir,
            server,
        }
    }

    /// `POST <path>` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `<method> <path>` with an optional bearer and no body.
    pub async fn call(&self, method: &str, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// Asks a nonce for `wallet`.
    pub async fn nonce(&self, wallet: &str) -> String {
        let response = self.post("/auth/nonce", json!({ "wallet": wallet })).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["nonce"].as_str().unwrap().to_owned()
    }

    /// Logs `user` in and returns the JWT.
    pub async fn login(&self, user: &User) -> String {
        let nonce = self.nonce(&user.wallet).await;
        let response = self
            .post(
                "/auth/verify",
                json!({"wallet": user.wallet, "signature": user.sign(&nonce), "nonce": nonce}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// A wallet with its key.
pub struct User {
    /// The key.
    pub key: SigningKey,
    /// Its address, EIP-55 checksummed (mixed case, as wallets send it).
    pub wallet: String,
}

impl User {
    /// A deterministic user.
    pub fn new(seed: u8) -> User {
        let key = SigningKey::from_slice(&[seed; 32]).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        let address = heaven_eth::address::from_public_key(point.as_bytes()).unwrap();
        User {
            key,
            wallet: heaven_eth::address::to_checksum(&address),
        }
    }

    /// The lowercase wallet (the JWT `sub`).
    pub fn lower(&self) -> String {
        self.wallet.to_lowercase()
    }

    /// `personal_sign` of `message` as viem's `signMessage({message})`.
    pub fn sign(&self, message: &str) -> String {
        let digest = heaven_eth::eip191::message_hash(message);
        let (signature, id) = self
            .key
            .sign_prehash_recoverable(digest.as_slice())
            .unwrap();
        let mut bytes = signature.to_bytes().to_vec();
        bytes.push(27 + id.to_byte());
        format!("0x{}", hex::encode(bytes))
    }
}

/// Asserts status and the exact JSON body text.
pub async fn assert_body(response: reqwest::Response, status: u16, body: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(response.text().await.unwrap(), body);
}

/// Asserts status and `{"error": message}`.
pub async fn assert_error(response: reqwest::Response, status: u16, message: &str) {
    assert_body(response, status, &json!({ "error": message }).to_string()).await;
}
