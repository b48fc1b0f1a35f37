//! The free rooms served over real HTTP on 127.0.0.1: room actors in a state store, the tables
//! in a SQLite file (or the URL given), the credits double, a clock, and the replica this
//! stack is. Several stacks on one store and one credits double are the replicas of one
//! service.

use std::path::Path;
use std::sync::Arc;

use http_common::{BackgroundTasks, CorsPolicy, EnvSource, ServiceEdge};
use portability::{SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use voice_rooms::auth::SessionToken;
use voice_rooms::escrow::EscrowReads;
use voice_rooms::rooms::{Replication, Rooms, RoomsDb};
use voice_rooms::songs::SongRegistry;
use voice_rooms::{Clock, CreditBalance, VoiceRoomsConfig};

use super::{FakeCredits, JWT_SECRET, User};

/// What a stack runs on.
pub struct StackParts {
    /// Room actor state (and leases).
    pub store: Arc<dyn StateStore>,
    /// The rooms tables' URL, and their Postgres schema.
    pub rooms_db: String,
    pub rooms_schema: Option<String>,
    /// The songs table's URL.
    pub songs_db: String,
    pub clock: Clock,
    pub credits: Arc<FakeCredits>,
    /// This stack as a replica.
    pub replication: Replication,
    /// Extra environment (e.g. `ROOMS_PEER_SECRET`, Agora's REST base).
    pub env: Vec<(&'static str, String)>,
    /// The escrow reads (`None`: as the configuration says).
    pub escrow: Option<Arc<dyn EscrowReads>>,
    /// Where the AI host's Agora calls run.
    pub tasks: BackgroundTasks,
    /// Listener to serve on (`None`: a fresh port).
    pub listener: Option<tokio::net::TcpListener>,
}

impl StackParts {
    /// A lone replica with everything in SQLite files under `dir`.
    pub async fn in_dir(dir: &Path, clock: Clock, credits: Arc<FakeCredits>) -> Self {
        Self {
            store: Arc::new(SqliteStateStore::open(dir.join("state.db")).await.unwrap()),
            rooms_db: format!("sqlite:{}", dir.join("rooms.db").display()),
            rooms_schema: None,
            songs_db: format!("sqlite://{}", dir.join("state.db").display()),
            clock,
            credits,
            replication: Replication::single("test"),
            env: Vec::new(),
            escrow: None,
            tasks: BackgroundTasks::new(),
            listener: None,
        }
    }
}

pub struct Stack {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Clock,
    pub credits: Arc<FakeCredits>,
    pub rooms: Rooms,
    pub db: RoomsDb,
    pub store: Arc<dyn StateStore>,
    pub tasks: BackgroundTasks,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A stack in `dir` as a lone replica.
pub async fn start(dir: &Path, clock: Clock, credits: Arc<FakeCredits>) -> Stack {
    start_with(StackParts::in_dir(dir, clock, credits).await).await
}

/// A stack over `parts`.
pub async fn start_with(parts: StackParts) -> Stack {
    let mut vars: Vec<(&str, String)> = vec![
        ("JWT_SECRET", JWT_SECRET.into()),
        ("AGORA_APP_ID", "0123456789abcdef0123456789abcdef".into()),
        (
            "AGORA_APP_CERTIFICATE",
            "fedcba9876543210fedcba9876543210".into(),
        ),
    ];
    vars.extend(parts.env.iter().cloned());
    let env = EnvSource::from_pairs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    let config = VoiceRoomsConfig::from_env(&env, None).unwrap();
    let db = RoomsDb::open(&parts.rooms_db, parts.rooms_schema.as_deref())
        .await
        .unwrap();
    let rooms = Rooms::start(
        parts.store.clone(),
        db.clone(),
        parts.credits.clone(),
        parts.clock.clone(),
        config.agora.clone(),
        voice_rooms::rooms::AiHost::new(
            config.ai_host.clone(),
            config.agora.clone(),
            parts.tasks.clone(),
        ),
        parts.replication,
    )
    .await
    .unwrap();
    let resources = voice_rooms::Resources {
        state: parts.store.clone(),
        cache: Arc::new(SqliteCacheStore::open_in_memory().await.unwrap()),
        credits: parts.credits.clone(),
        clock: parts.clock.clone(),
        songs: SongRegistry::open(&parts.songs_db).await.unwrap(),
    };
    let router = match parts.escrow {
        Some(escrow) => voice_rooms::router_with_escrow(config, resources, rooms.clone(), escrow),
        None => voice_rooms::router_with_rooms(config, resources, rooms.clone()),
    };
    let app = ServiceEdge::new("voice-rooms", CorsPolicy::voice_rooms()).wrap(router);
    let (base, server) = super::serve(app, parts.listener).await;
    Stack {
        base,
        http: reqwest::Client::new(),
        clock: parts.clock,
        credits: parts.credits,
        rooms,
        db,
        store: parts.store,
        tasks: parts.tasks,
        server,
    }
}

impl Stack {
    pub fn token(&self, user: &User) -> String {
        SessionToken::new(JWT_SECRET).issue(&user.lower(), self.clock.now())
    }

    /// A user with a `.heaven` name (the base grant comes with the first room call).
    pub fn named(&self, seed: u8) -> User {
        let user = User::new(seed);
        self.credits.name(&user.wallet);
        user
    }

    pub async fn post(&self, user: Option<&User>, path: &str, body: &str) -> (u16, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(user) = user {
            request = request.bearer_auth(self.token(user));
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn create(&self, host: &User) -> String {
        let (status, body) = self.post(Some(host), "/rooms/create", "{}").await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        body["room_id"].as_str().unwrap().to_owned()
    }

    /// Joins and returns the connection id.
    pub async fn join(&self, user: &User, room: &str) -> String {
        let (status, body) = self
            .post(
                Some(user),
                "/rooms/join",
                &json!({ "room_id": room }).to_string(),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        body["connection_id"].as_str().unwrap().to_owned()
    }

    pub async fn on(&self, user: &User, path: &str, room: &str, connection: &str) -> (u16, String) {
        let body = json!({ "room_id": room, "connection_id": connection }).to_string();
        self.post(Some(user), path, &body).await
    }

    pub fn balance(&self, user: &User) -> CreditBalance {
        self.credits.balances.lock().unwrap()[&user.lower()]
    }
}
