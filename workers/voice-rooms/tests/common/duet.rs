//! Duet fixtures: voice-rooms with the duet rooms served over real HTTP (actors in a SQLite
//! state store, the index in a SQLite file, the credits double with the canister's settlement
//! rules, a manual clock), the one fake x402 facilitator (wiremock at the documented `POST
//! /settle` shape) and the mock-mode payment signatures the original's smoke test builds.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_common::{ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use portability::{SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use voice_rooms::auth::SessionToken;
use voice_rooms::duet::{DuetRooms, DuetSettings};
use voice_rooms::rooms::RoomsDb;
use voice_rooms::songs::SongRegistry;
use voice_rooms::{Clock, VoiceRoomsConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{FakeCredits, JWT_SECRET, User};

/// Agora test keys (tokens are real AccessToken2 strings).
pub const APP_ID: &str = "0123456789abcdef0123456789abcdef";
/// Base Sepolia USDC.
pub const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";

/// A running duet service.
pub struct DuetStack {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Clock,
    pub credits: Arc<FakeCredits>,
    pub duet: DuetRooms,
    pub db: RoomsDb,
    pub store: Arc<dyn StateStore>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for DuetStack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An HTTP answer: status, headers, body text.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// A base64-JSON header decoded.
    pub fn header_json(&self, name: &str) -> Value {
        let text = self.headers[name].to_str().unwrap();
        serde_json::from_slice(&STANDARD.decode(text).unwrap()).unwrap()
    }
}

impl DuetStack {
    /// Starts over `dir` with `vars` (facilitator mode and so on).
    pub async fn start(
        dir: &Path,
        clock: Clock,
        credits: Arc<FakeCredits>,
        vars: &[(&str, &str)],
    ) -> DuetStack {
        let mut pairs = vec![
            ("JWT_SECRET", JWT_SECRET),
            ("AGORA_APP_ID", APP_ID),
            ("AGORA_APP_CERTIFICATE", "fedcba9876543210fedcba9876543210"),
        ];
        pairs.extend_from_slice(vars);
        let config = VoiceRoomsConfig::from_env(&EnvSource::from_pairs(pairs), None).unwrap();
        let store: Arc<dyn StateStore> =
            Arc::new(SqliteStateStore::open(dir.join("state.db")).await.unwrap());
        let db = RoomsDb::open(&format!("sqlite:{}", dir.join("rooms.db").display()), None)
            .await
            .unwrap();
        let duet = DuetRooms::start(
            store.clone(),
            db.clone(),
            credits.clone(),
            clock.clone(),
            DuetSettings {
                agora: config.agora.clone(),
                facilitator: config.x402.clone(),
                checkout_secret: config.jwt_secret.clone(),
            },
            voice_rooms::rooms::Replication::single("test"),
        )
        .await
        .unwrap();
        let resources = voice_rooms::Resources {
            state: store.clone(),
            cache: Arc::new(SqliteCacheStore::open_in_memory().await.unwrap()),
            credits: credits.clone(),
            clock: clock.clone(),
            songs: SongRegistry::open(&format!("sqlite://{}", dir.join("state.db").display()))
                .await
                .unwrap(),
        };
        let app = ServiceEdge::new("voice-rooms", CorsPolicy::voice_rooms()).wrap(
            voice_rooms::router_with_duet(config, resources, None, duet.clone()),
        );
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
        DuetStack {
            base,
            http: reqwest::Client::new(),
            clock,
            credits,
            duet,
            db,
            store,
            server,
        }
    }

    /// A session JWT for `user`.
    pub fn token(&self, user: &User) -> String {
        SessionToken::new(JWT_SECRET).issue(&user.lower(), self.clock.now())
    }

    /// `<method> <path>` with optional bearer, extra headers and body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// `POST <path>` as `user` (JWT) with a JSON body.
    pub async fn post(&self, user: Option<&User>, path: &str, body: Value) -> Answer {
        let token = user.map(|u| self.token(u));
        self.send("POST", path, token.as_deref(), &[], Some(&body.to_string()))
            .await
    }

    /// `GET <path>`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None, &[], None).await
    }

    /// Creates a room as `host` with `body` and returns its id.
    pub async fn create(&self, host: &User, body: Value) -> String {
        let answer = self.post(Some(host), "/duet/create", body).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["room_id"].as_str().unwrap().to_owned()
    }

    /// Creates and starts a room; returns `(room id, host bridge ticket)`.
    pub async fn live_room(&self, host: &User, body: Value) -> (String, String) {
        let room = self.create(host, body).await;
        let started = self
            .post(Some(host), &format!("/duet/{room}/start"), json!({}))
            .await;
        assert_eq!(started.status, 200, "{}", started.body);
        let ticket = started.json()["bridge_ticket"].as_str().unwrap().to_owned();
        (room, ticket)
    }

    /// `POST /duet/:id/enter` as `user` with an optional PAYMENT-SIGNATURE.
    pub async fn enter(&self, user: &User, room: &str, signature: Option<&str>) -> Answer {
        let token = self.token(user);
        let headers: Vec<(&str, &str)> = signature
            .map(|s| vec![("payment-signature", s)])
            .unwrap_or_default();
        self.send(
            "POST",
            &format!("/duet/{room}/enter"),
            Some(&token),
            &headers,
            None,
        )
        .await
    }

    /// `POST /duet/:id/public-enter` with `body` and an optional PAYMENT-SIGNATURE.
    pub async fn public_enter(&self, room: &str, body: Value, signature: Option<&str>) -> Answer {
        let headers: Vec<(&str, &str)> = signature
            .map(|s| vec![("payment-signature", s)])
            .unwrap_or_default();
        self.send(
            "POST",
            &format!("/duet/{room}/public-enter"),
            None,
            &headers,
            Some(&body.to_string()),
        )
        .await
    }

    /// `POST <path>` with a bridge ticket and a JSON body.
    pub async fn with_ticket(&self, ticket: &str, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(ticket), &[], Some(&body.to_string()))
            .await
    }
}

/// The mock-mode PAYMENT-SIGNATURE the original's smoke test builds from a 402: the first
/// `accepts` entry's terms, the payer wallet, the resource and the checkout extensions.
pub fn mock_signature(required: &Value, wallet: &str) -> String {
    let accept = &required["accepts"][0];
    let mut claims = json!({
        "x402Version": 2,
        "network": accept["network"],
        "asset": accept["asset"],
        "amount": accept["amount"],
        "payTo": accept["payTo"],
        "wallet": wallet,
        "resource": required["resource"],
    });
    if let Some(ext) = required.get("extensions") {
        claims["extensions"] = ext.clone();
    }
    STANDARD.encode(claims.to_string())
}

/// The fake facilitator: `POST /settle` answers what it is told, counting calls.
pub struct FakeFacilitator {
    pub server: MockServer,
}

impl FakeFacilitator {
    /// A facilitator answering `status` with `body` to every settle, after `delay`.
    pub async fn answering(status: u16, body: Value, delay: Duration) -> FakeFacilitator {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/settle"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(body)
                    .set_delay(delay),
            )
            .mount(&server)
            .await;
        FakeFacilitator { server }
    }

    /// The x402-facilitator crate's success answer for `payer`.
    pub async fn settling_for(payer: &str, delay: Duration) -> FakeFacilitator {
        Self::answering(
            200,
            json!({"success": true, "payer": payer, "transaction": "0xfeed", "network": "eip155:84532"}),
            delay,
        )
        .await
    }

    /// The variables of `self` mode pointing here.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("X402_FACILITATOR_MODE", "self".to_owned()),
            (
                "PAYMENT_FACILITATOR_BASE_URL",
                format!("{}/", self.server.uri()),
            ),
            (
                "X402_FACILITATOR_AUTH_TOKEN",
                "facilitator-secret".to_owned(),
            ),
        ]
    }

    /// The settle requests received.
    pub async fn settles(&self) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }
}
