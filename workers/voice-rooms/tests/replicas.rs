//! Two replicas of the service on one PostgreSQL (room actors, leases and tables in a private
//! schema) and one credits double, each serving HTTP on its own port and forwarding to the
//! other with the shared peer secret: a room runs on one replica whichever replica a request
//! reaches, capacity stays exact across both, a dead replica's rooms move to the survivor with
//! every participant and exact billing, a resigning replica hands over at once, and the
//! internal route refuses strangers. Uses `postgres://postgres@127.0.0.1:5432/test` (or
//! `TEST_DATABASE_URL`); a server that is down fails the test naming it.
//!
//! The room clock is manual (billing is exact by construction); lease timings are real and
//! short (900 ms), so handovers take about a second.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::rooms_stack::{Stack, StackParts, start_with};
use common::{FakeCredits, START};
use portability::testing::PgSchema;
use portability::{PostgresStateStore, ReplicaConfig, StateStore};
use serde_json::{Value, json};
use voice_rooms::Clock;
use voice_rooms::rooms::Replication;
use voice_rooms::rooms::peers::{FREE_ROOMS, HttpPeers, PEER_SECRET_HEADER};

const PEER_SECRET: &str = "replica-test-secret";

struct Cluster {
    schema: PgSchema,
    _dir: tempfile::TempDir,
    store: Arc<dyn StateStore>,
    credits: Arc<FakeCredits>,
    clock: Clock,
}

impl Cluster {
    async fn new() -> Self {
        let schema = PgSchema::new("voice_rooms_replicas");
        let store: Arc<dyn StateStore> = Arc::new(
            PostgresStateStore::connect(&schema.url, Some(&schema.name))
                .await
                .unwrap_or_else(|err| {
                    panic!(
                        "PostgreSQL is not reachable at {}: start it ({err})",
                        schema.url
                    )
                }),
        );
        Self {
            schema,
            _dir: tempfile::tempdir().unwrap(),
            store,
            credits: Arc::new(FakeCredits::default()),
            clock: Clock::manual(START),
        }
    }

    /// A replica named `id`, forwarding with `secret`.
    async fn replica(&self, id: &str, secret: Option<&str>) -> Stack {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut replica = ReplicaConfig::new(id, url);
        replica.ttl = Duration::from_millis(900);
        replica.renew_every = Duration::from_millis(300);
        replica.scan_every = Duration::from_millis(300);
        start_with(StackParts {
            store: self.store.clone(),
            rooms_db: self.schema.url.clone(),
            rooms_schema: Some(self.schema.name.clone()),
            songs_db: format!(
                "sqlite://{}",
                self._dir.path().join(format!("songs-{id}.db")).display()
            ),
            clock: self.clock.clone(),
            credits: self.credits.clone(),
            replication: Replication {
                replica,
                peers: Arc::new(HttpPeers::new(secret.map(str::to_owned), FREE_ROOMS)),
            },
            env: secret
                .map(|s| vec![("ROOMS_PEER_SECRET", s.to_owned())])
                .unwrap_or_default(),
            escrow: None,
            tasks: http_common::BackgroundTasks::new(),
            listener: Some(listener),
        })
        .await
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn remaining(body: &str) -> u64 {
    serde_json::from_str::<Value>(body).unwrap()["remaining_seconds"]
        .as_u64()
        .unwrap()
}

/// `voice_rooms_forwarded_commands_total{status}` in the process's default registry, read from
/// its text exposition as `/metrics` shows it.
fn forwarded_with_status(status: &str) -> f64 {
    use prometheus::Encoder;
    let mut text = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&prometheus::gather(), &mut text)
        .unwrap();
    let prefix = format!("voice_rooms_forwarded_commands_total{{status=\"{status}\"}} ");
    String::from_utf8(text)
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn a_room_runs_on_one_replica_whichever_replica_the_requests_reach() {
    let cluster = Cluster::new().await;
    let a = cluster.replica("a", Some(PEER_SECRET)).await;
    let b = cluster.replica("b", Some(PEER_SECRET)).await;
    let host = a.named(1);
    let guest = b.named(2);

    let room = a.create(&host).await;
    let host_conn = a.join(&host, &room).await;
    let guest_conn = b.join(&guest, &room).await;
    assert!(a.rooms.is_live(&room) && !b.rooms.is_live(&room));

    cluster.clock.advance(10);
    let (status, body) = b.on(&host, "/rooms/heartbeat", &room, &host_conn).await;
    assert_eq!((status, remaining(&body)), (200, 1790), "{body}");
    let (status, body) = a.on(&guest, "/rooms/heartbeat", &room, &guest_conn).await;
    assert_eq!((status, remaining(&body)), (200, 1790), "{body}");
    assert!(!b.rooms.is_live(&room), "forwarded, not moved");
    // The forwarding is visible in the default Prometheus registry, which /metrics appends.
    assert!(
        forwarded_with_status("200") >= 2.0,
        "voice_rooms_forwarded_commands_total{{status=\"200\"}} counts the forwarded commands"
    );

    // Capacity holds across replicas: 4 more seats, 12 wallets, half through each replica.
    let joiners: Vec<_> = (10..22).map(|seed| a.named(seed)).collect();
    let tasks: Vec<_> = joiners
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let via = if i % 2 == 0 { &a } else { &b };
            let body = json!({ "room_id": room }).to_string();
            let (base, token, http) = (via.base.clone(), via.token(user), via.http.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/rooms/join"))
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == 200 || status == 409, "{status}");
        admitted += usize::from(status == 200);
    }
    assert_eq!(admitted, 4, "six seats in all");
    assert_eq!(a.db.active_participant_count(&room).await.unwrap(), 6);
}

#[tokio::test]
async fn a_dead_replicas_room_moves_with_its_participants_and_bills_every_second_once() {
    let cluster = Cluster::new().await;
    let a = cluster.replica("a", Some(PEER_SECRET)).await;
    let b = cluster.replica("b", Some(PEER_SECRET)).await;
    let host = a.named(1);
    let guest = a.named(2);
    let room = a.create(&host).await;
    let host_conn = a.join(&host, &room).await;
    let guest_conn = a.join(&guest, &room).await;
    cluster.clock.advance(20);
    let (status, _) = a.on(&host, "/rooms/heartbeat", &room, &host_conn).await;
    assert_eq!(status, 200);

    // a dies: no more renewals, no more answers.
    drop(a);
    wait_until("b never adopted the dead replica's room", || {
        b.rooms.is_live(&room)
    })
    .await;

    cluster.clock.advance(10);
    let (status, body) = b.on(&host, "/rooms/heartbeat", &room, &host_conn).await;
    assert_eq!((status, remaining(&body)), (200, 1770), "{body}");
    let (status, body) = b.on(&guest, "/rooms/heartbeat", &room, &guest_conn).await;
    assert_eq!((status, remaining(&body)), (200, 1770), "{body}");
    let (status, body) = b.on(&guest, "/rooms/leave", &room, &guest_conn).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = b.on(&host, "/rooms/leave", &room, &host_conn).await;
    assert_eq!(status, 200, "{body}");
    // Every participant billed exactly join → leave: 30 s each, once.
    let connections = cluster.credits.connections.lock().unwrap().clone();
    for conn in [&host_conn, &guest_conn] {
        assert_eq!(connections[conn].debited, 30, "{conn}");
    }
    assert_eq!(b.balance(&host).consumed_seconds, 30);
    assert_eq!(b.balance(&guest).consumed_seconds, 30);
}

#[tokio::test]
async fn a_resigning_replica_hands_its_rooms_over_at_once() {
    let cluster = Cluster::new().await;
    let a = cluster.replica("a", Some(PEER_SECRET)).await;
    let b = cluster.replica("b", Some(PEER_SECRET)).await;
    let host = a.named(1);
    let room = a.create(&host).await;
    let conn = a.join(&host, &room).await;
    a.rooms.resign().await;
    let started = Instant::now();
    cluster.clock.advance(5);
    let (status, body) = b.on(&host, "/rooms/heartbeat", &room, &conn).await;
    assert_eq!((status, remaining(&body)), (200, 1795), "{body}");
    assert!(b.rooms.is_live(&room));
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "handed over without waiting for the lease to expire"
    );
}

#[tokio::test]
async fn the_internal_route_wants_the_peer_secret_and_is_off_without_one() {
    let cluster = Cluster::new().await;
    let a = cluster.replica("a", Some(PEER_SECRET)).await;
    let lone = cluster.replica("lone", None).await;
    let command = json!({"type": "Alarm"}).to_string();
    for (stack, secret, expected) in [
        (&a, None, 401),
        (&a, Some("wrong"), 401),
        (&lone, Some(PEER_SECRET), 404),
    ] {
        let mut request = stack
            .http
            .post(format!("{}/internal/rooms/r1/apply", stack.base))
            .body(command.clone());
        if let Some(secret) = secret {
            request = request.header(PEER_SECRET_HEADER, secret);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{secret:?}");
    }

    // A replica without the secret cannot reach a's rooms: 503, not a hang or a 500.
    let host = a.named(1);
    let room = a.create(&host).await;
    let conn = a.join(&host, &room).await;
    let (status, body) = lone.on(&host, "/rooms/heartbeat", &room, &conn).await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"error":"service unavailable"}"#)
    );
}
