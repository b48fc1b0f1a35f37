//! Test fixtures: voice-rooms served over real HTTP on 127.0.0.1 behind the shared edge, its
//! nonces in a SQLite file, a manual clock, a credits double, and a wallet that logs in.

#![allow(dead_code)] // Each test binary uses a subset.

pub mod duet;
pub mod rooms_stack;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use credits_canister::duet::entitlement::Entitlement;
use credits_canister::duet::settlement::{Marker, SettledPayment, decide_claim};
use credits_canister::units::UnixSeconds;
use http_common::{ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use k256::ecdsa::SigningKey;
use portability::{CacheStore, SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use voice_rooms::auth::Wallet;
use voice_rooms::credits::duet_api;
use voice_rooms::songs::SongRegistry;
use voice_rooms::{
    AttestOutcome, CeloOutcome, Clock, CreditAlert, CreditBalance, CreditsClient, CreditsError,
    EnsuredCredits, MeterRefused, MeterRequest, Metered, PresenceChange, VoiceRoomsConfig,
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
    /// Wallets with a `.heaven` name: `ensure_credits` grants them the 1800 s base.
    pub named: Mutex<Vec<String>>,
    /// Metered connections, by id, as the canister keeps them.
    pub connections: Mutex<HashMap<String, FakeConnection>>,
    /// Booked-session presence recorded, as `(booking_id, wallet, change, at)`.
    pub presence: Mutex<Vec<(String, String, PresenceChange, i64)>>,
    /// The canister's clock (duet expiries are its time).
    pub clock: Clock,
    /// Duet money state, with the canister's own decision rules.
    pub duet: Mutex<FakeDuet>,
}

/// The duet money state of the fake canister: markers by `(room, signature hash)`,
/// entitlements by `(room, wallet)`, replay tokens by hash, and what was committed.
#[derive(Default)]
pub struct FakeDuet {
    pub markers: HashMap<(String, String), Marker>,
    pub entitlements: HashMap<(String, String), Entitlement>,
    pub replay_tokens: HashMap<String, (duet_api::ReplayAccess, i64)>,
    /// Settled commits.
    pub settled: Vec<SettledPayment>,
    /// Claims answered `Claimed`.
    pub claims: u32,
}

/// A connection the fake canister meters: the same watermark rule as the credits canister.
#[derive(Clone, Debug, Default)]
pub struct FakeConnection {
    pub wallet: String,
    pub watermark: i64,
    pub debited: u64,
    pub warned_low: bool,
    pub exhausted: bool,
    pub closed: bool,
}

impl FakeCredits {
    pub fn name(&self, wallet: &str) {
        self.named.lock().unwrap().push(wallet.to_lowercase());
    }

    fn meter_one(
        &self,
        id: &str,
        wallet: Option<&str>,
        up_to: i64,
    ) -> Result<Metered, MeterRefused> {
        let mut connections = self.connections.lock().unwrap();
        let c = connections
            .get_mut(id)
            .ok_or(MeterRefused::UnknownConnection)?;
        if wallet.is_some_and(|w| w != c.wallet) {
            return Err(MeterRefused::WalletMismatch);
        }
        let mut balances = self.balances.lock().unwrap();
        let balance = balances.entry(c.wallet.clone()).or_default();
        let mut alerts = Vec::new();
        let mut debited = 0;
        if up_to > c.watermark && !c.closed {
            let elapsed = (up_to - c.watermark) as u64;
            debited = elapsed.min(balance.remaining_seconds);
            balance.remaining_seconds -= debited;
            balance.consumed_seconds += debited;
            c.watermark = up_to;
            c.debited += debited;
            if balance.remaining_seconds <= 300 && !c.warned_low {
                c.warned_low = true;
                alerts.push(CreditAlert::Low);
            }
            if balance.remaining_seconds == 0 && !c.exhausted {
                c.exhausted = true;
                alerts.push(CreditAlert::Exhausted);
            }
        }
        Ok(Metered {
            debited_seconds: debited,
            connection_debited_seconds: c.debited,
            remaining_seconds: balance.remaining_seconds,
            alerts,
            metered_up_to: c.watermark,
        })
    }
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

    async fn ensure_credits(&self, wallet: &Wallet) -> Result<EnsuredCredits, CreditsError> {
        if let Some(err) = self.down.lock().unwrap().clone() {
            return Err(err);
        }
        let named = self.named.lock().unwrap().contains(&wallet.to_string());
        let mut balances = self.balances.lock().unwrap();
        let balance = balances.entry(wallet.to_string()).or_default();
        if balance.base_granted_seconds == 0 {
            if !named {
                return Ok(EnsuredCredits::NameRequired);
            }
            balance.base_granted_seconds = 1800;
            balance.remaining_seconds += 1800;
        }
        Ok(EnsuredCredits::Ready(*balance))
    }

    async fn open_connection(
        &self,
        connection_id: &str,
        wallet: &Wallet,
        at: i64,
    ) -> Result<Result<(), MeterRefused>, CreditsError> {
        let mut connections = self.connections.lock().unwrap();
        let c = connections
            .entry(connection_id.to_owned())
            .or_insert_with(|| FakeConnection {
                wallet: wallet.to_string(),
                watermark: at,
                ..FakeConnection::default()
            });
        Ok(if c.wallet == wallet.as_str() {
            Ok(())
        } else {
            Err(MeterRefused::WalletMismatch)
        })
    }

    async fn meter(
        &self,
        requests: Vec<MeterRequest>,
    ) -> Result<Vec<Result<Metered, MeterRefused>>, CreditsError> {
        if let Some(err) = self.down.lock().unwrap().clone() {
            return Err(err);
        }
        Ok(requests
            .iter()
            .map(|r| self.meter_one(&r.connection_id, Some(r.wallet.as_str()), r.up_to))
            .collect())
    }

    async fn record_presence(
        &self,
        booking_id: &str,
        wallet: &Wallet,
        change: PresenceChange,
        at: i64,
    ) -> Result<(), CreditsError> {
        if let Some(err) = self.down.lock().unwrap().clone() {
            return Err(err);
        }
        self.presence
            .lock()
            .unwrap()
            .push((booking_id.to_owned(), wallet.to_string(), change, at));
        Ok(())
    }

    async fn close_connection(
        &self,
        connection_id: &str,
        at: i64,
    ) -> Result<Result<Metered, MeterRefused>, CreditsError> {
        let outcome = self.meter_one(connection_id, None, at);
        if let Some(c) = self.connections.lock().unwrap().get_mut(connection_id) {
            c.closed = true;
        }
        Ok(outcome)
    }

    async fn claim_settlement(
        &self,
        r: duet_api::ClaimSettlement,
    ) -> Result<duet_api::ClaimOutcome, CreditsError> {
        self.check_up()?;
        let now = self.unix_now();
        let mut duet = self.duet.lock().unwrap();
        let key = (
            r.room_id.as_str().to_owned(),
            r.signature_hash.as_str().to_owned(),
        );
        let outcome = decide_claim(
            duet.markers.get(&key),
            r.wallet.as_ref(),
            r.entitlement,
            now,
        );
        if outcome == duet_api::ClaimOutcome::Claimed {
            duet.claims += 1;
            duet.markers.insert(
                key,
                Marker::Pending {
                    claimed_at: now,
                    wallet: r.wallet,
                    entitlement: r.entitlement,
                },
            );
        }
        Ok(outcome)
    }

    async fn commit_settlement(
        &self,
        r: duet_api::CommitSettlement,
    ) -> Result<duet_api::CommitOutcome, CreditsError> {
        self.check_up()?;
        let now = self.unix_now();
        let mut duet = self.duet.lock().unwrap();
        let key = (
            r.room_id.as_str().to_owned(),
            r.signature_hash.as_str().to_owned(),
        );
        match duet.markers.get(&key) {
            Some(Marker::Pending { entitlement, .. }) if *entitlement == r.entitlement => {}
            _ => return Ok(Err(duet_api::CommitError::NotClaimed)),
        }
        let duet_api::SettlementResult::Settled {
            wallet,
            window_seconds,
            segment_id,
            pay_to,
            amount,
            facilitator,
            transaction_hash,
        } = r.result
        else {
            duet.markers.remove(&key);
            return Ok(Ok(None));
        };
        let expires_at = wallet.as_ref().map(|w| {
            let ent_key = (r.room_id.as_str().to_owned(), w.as_str().to_owned());
            let current = duet.entitlements.get(&ent_key).copied().unwrap_or_default();
            let at = current.extended_expiry(r.entitlement, now, window_seconds);
            duet.entitlements
                .insert(ent_key, current.raised_to(r.entitlement, at));
            at
        });
        let payment = SettledPayment {
            processed_at: now,
            wallet,
            entitlement: r.entitlement,
            expires_at,
            segment_id,
            pay_to,
            amount,
            facilitator,
            transaction_hash,
        };
        duet.markers.insert(key, Marker::Settled(payment.clone()));
        duet.settled.push(payment.clone());
        Ok(Ok(Some(payment)))
    }

    async fn extend_entitlement(
        &self,
        r: duet_api::ExtendEntitlement,
    ) -> Result<i64, CreditsError> {
        self.check_up()?;
        let now = self.unix_now();
        let mut duet = self.duet.lock().unwrap();
        let key = (r.room_id.as_str().to_owned(), r.wallet.as_str().to_owned());
        let current = duet.entitlements.get(&key).copied().unwrap_or_default();
        let at = current.extended_expiry(r.entitlement, now, r.window_seconds);
        duet.entitlements
            .insert(key, current.raised_to(r.entitlement, at));
        Ok(at.0 as i64)
    }

    async fn entitlement(
        &self,
        room: &duet_api::RoomId,
        wallet: &duet_api::CanisterWallet,
    ) -> Result<duet_api::EntitlementView, CreditsError> {
        self.check_up()?;
        let duet = self.duet.lock().unwrap();
        let e = duet
            .entitlements
            .get(&(room.as_str().to_owned(), wallet.as_str().to_owned()))
            .copied()
            .unwrap_or_default();
        Ok(duet_api::EntitlementView {
            live_expires_at: e.live_expires_at,
            replay_expires_at: e.replay_expires_at,
        })
    }

    async fn issue_replay_token(&self, r: duet_api::IssueReplayToken) -> Result<i64, CreditsError> {
        self.check_up()?;
        let expires = self.clock.now() + 60;
        self.duet.lock().unwrap().replay_tokens.insert(
            r.token_hash.as_str().to_owned(),
            (
                duet_api::ReplayAccess {
                    wallet: r.wallet,
                    replay_url: r.replay_url,
                },
                expires,
            ),
        );
        Ok(expires)
    }

    async fn redeem_replay_token(
        &self,
        token_hash: duet_api::Sha256Hex,
    ) -> Result<Option<duet_api::ReplayAccess>, CreditsError> {
        self.check_up()?;
        let now = self.clock.now();
        let grant = self
            .duet
            .lock()
            .unwrap()
            .replay_tokens
            .remove(token_hash.as_str());
        Ok(grant.filter(|(_, expires)| now < *expires).map(|(a, _)| a))
    }
}

impl FakeCredits {
    fn check_up(&self) -> Result<(), CreditsError> {
        match self.down.lock().unwrap().clone() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    fn unix_now(&self) -> UnixSeconds {
        UnixSeconds(self.clock.now().max(0) as u64)
    }

    /// A credits double on `clock`.
    pub fn with_clock(clock: Clock) -> FakeCredits {
        FakeCredits {
            clock,
            ..FakeCredits::default()
        }
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

/// Serves `app` on `listener` (a fresh 127.0.0.1 port when `None`) until the handle is
/// aborted; returns its base URL.
pub async fn serve(
    app: axum::Router,
    listener: Option<tokio::net::TcpListener>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = match listener {
        Some(listener) => listener,
        None => tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap(),
    };
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(http_common::serve(
        listener,
        app,
        ConnectionLimits::default(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    (base, server)
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
        let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
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
        let (base, server) = serve(app, None).await;
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
