//! Benchmark: free rooms held and heartbeat throughput. In one process: the voice-rooms router
//! (room actors in a SQLite state store, the `rooms` / `room_participants` tables in a SQLite
//! file, the test suite's in-process credits double with the canister's watermark rule, the
//! system clock) served on 127.0.0.1; `BENCH_ROOMS` rooms (1 000) × 6 participants created and
//! joined over HTTP; then `BENCH_CLIENTS` concurrent clients (64) send `POST /rooms/heartbeat`
//! round the 6 000 connections for `BENCH_SECS` seconds (20). Prints rooms held, heartbeats/s,
//! p50/p90/p99 latency and RSS (VmRSS / VmHWM of /proc/self/status, which includes the load
//! generator). Asserts nothing; the first line says which profile it was built with. Run:
//! `cargo bench -p voice_rooms --bench rooms_load` (or `--profile dev`, which skips a release
//! build of the whole dependency tree).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{FakeCredits, JWT_SECRET};
use http_common::{ConnectionLimits, CorsPolicy, EnvSource, ServiceEdge};
use portability::{SqliteCacheStore, SqliteStateStore, StateStore};
use serde_json::{Value, json};
use voice_rooms::auth::SessionToken;
use voice_rooms::rooms::{Rooms, RoomsDb};
use voice_rooms::songs::SongRegistry;
use voice_rooms::{Clock, VoiceRoomsConfig};

const SEATS: usize = 6;
/// A connection no heartbeat was sent for yet.
const NOT_SENT: u64 = 2;

fn env_or<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(run());
}

/// One joined participant.
struct Seat {
    room: String,
    connection: String,
    token: String,
}

async fn run() {
    let rooms_wanted: usize = env_or("BENCH_ROOMS", 1000);
    let clients: usize = env_or("BENCH_CLIENTS", 64);
    let secs: u64 = env_or("BENCH_SECS", 20);
    let profile = if cfg!(debug_assertions) {
        "dev profile (unoptimized)"
    } else {
        "release profile"
    };
    println!(
        "rooms_load ({profile}): {rooms_wanted} rooms x {SEATS} participants joined over HTTP, then {clients} concurrent heartbeat clients for {secs} s; server in this process on SQLite, in-process credits double"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let base = serve(dir.path()).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients.max(32))
        .build()
        .expect("client");
    let issuer = SessionToken::new(JWT_SECRET);
    let now = Clock::system().now();

    // Rooms: each host creates one and joins it; five guests join. Rooms in parallel.
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut joiners = Vec::new();
    for _ in 0..32 {
        let (http, base, next, issuer) = (http.clone(), base.clone(), next.clone(), issuer.clone());
        joiners.push(tokio::spawn(async move {
            let mut seats = Vec::new();
            let mut failures = 0usize;
            loop {
                let r = next.fetch_add(1, Ordering::Relaxed);
                if r >= rooms_wanted {
                    break;
                }
                let tokens: Vec<String> = (0..SEATS)
                    .map(|s| issuer.issue(&format!("0x{:040x}", r * SEATS + s + 1), now))
                    .collect();
                match fill_room(&http, &base, &tokens).await {
                    Ok(room_seats) => seats.extend(room_seats),
                    Err(e) => {
                        failures += 1;
                        if failures <= 3 {
                            eprintln!("room {r}: {e}");
                        }
                    }
                }
            }
            seats
        }));
    }
    let mut seats = Vec::new();
    for joiner in joiners {
        seats.extend(joiner.await.expect("joiner"));
    }
    let fill_secs = started.elapsed().as_secs_f64();
    println!(
        "filled: {} rooms, {} participants in {fill_secs:.1} s ({:.0} HTTP calls/s); RSS {}",
        seats.len() / SEATS,
        seats.len(),
        (seats.len() + seats.len() / SEATS) as f64 / fill_secs,
        rss()
    );

    // Heartbeats round the connections; the last answer of each connection kept
    // (NOT_SENT until its first heartbeat, then 1 for a 200, 0 otherwise).
    let seats = Arc::new(seats);
    let last_ok: Arc<Vec<AtomicU64>> =
        Arc::new((0..seats.len()).map(|_| AtomicU64::new(NOT_SENT)).collect());
    let cursor = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (http, base, seats, cursor, last_ok) = (
            http.clone(),
            base.clone(),
            seats.clone(),
            cursor.clone(),
            last_ok.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let i = cursor.fetch_add(1, Ordering::Relaxed) % seats.len();
                let seat = &seats[i];
                let sent = Instant::now();
                let ok = http
                    .post(format!("{base}/rooms/heartbeat"))
                    .bearer_auth(&seat.token)
                    .json(&json!({ "room_id": seat.room, "connection_id": seat.connection }))
                    .send()
                    .await
                    .map(|r| r.status() == 200)
                    .unwrap_or(false);
                latencies.push(sent.elapsed().as_micros() as u64);
                last_ok[i].store(u64::from(ok), Ordering::Relaxed);
                errors += u64::from(!ok);
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.expect("worker");
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let held = seats
        .chunks(SEATS)
        .enumerate()
        .filter(|(r, room)| {
            room.len() == SEATS
                && (0..SEATS).all(|s| last_ok[r * SEATS + s].load(Ordering::Relaxed) != 0)
        })
        .count();
    let beaten = last_ok
        .iter()
        .filter(|v| v.load(Ordering::Relaxed) != NOT_SENT)
        .count();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1));
        latencies.get(i - 1).map_or(0.0, |&us| us as f64 / 1000.0)
    };
    println!(
        "heartbeats: {} in {secs} s = {:.0}/s, {errors} not 200; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / secs as f64,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
    );
    println!(
        "BENCH rooms_heartbeats\t{:.0}\treq/s\t{clients} clients",
        latencies.len() as f64 / secs as f64
    );
    println!("BENCH rooms_heartbeat_p99\t{:.2}\tms", pct(0.99));
    println!("BENCH rooms_heartbeat_errors\t{errors}\trequests");
    println!(
        "rooms held: {held} of {rooms_wanted} (no participant's last heartbeat refused); {beaten} of {} connections heartbeated at least once",
        seats.len()
    );
    println!("RSS after load: {}", rss());
    println!("BENCH rooms_held\t{held}\trooms\t{SEATS} participants each");
    println!("BENCH rooms_hwm\t{:.1}\tMiB", hwm_mib());
}

/// The process's peak resident set (`VmHWM`), in MiB.
fn hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Creates a room as `tokens[0]` and joins every token to it.
async fn fill_room(
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
) -> Result<Vec<Seat>, String> {
    let created = call(http, &format!("{base}/rooms/create"), &tokens[0], json!({})).await?;
    let room = created["room_id"].as_str().ok_or("no room_id")?.to_owned();
    let mut seats = Vec::new();
    for token in tokens {
        let joined = call(
            http,
            &format!("{base}/rooms/join"),
            token,
            json!({ "room_id": room }),
        )
        .await?;
        seats.push(Seat {
            room: room.clone(),
            connection: joined["connection_id"]
                .as_str()
                .ok_or("no connection_id")?
                .to_owned(),
            token: token.clone(),
        });
    }
    Ok(seats)
}

async fn call(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
) -> Result<Value, String> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("{url}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Serves voice-rooms on 127.0.0.1 with its stores under `dir`; returns the base URL.
async fn serve(dir: &std::path::Path) -> String {
    let env = EnvSource::from_pairs([
        ("JWT_SECRET", JWT_SECRET),
        ("AGORA_APP_ID", "0123456789abcdef0123456789abcdef"),
        ("AGORA_APP_CERTIFICATE", "fedcba9876543210fedcba9876543210"),
    ]);
    let config = VoiceRoomsConfig::from_env(&env, None).expect("config");
    let store: Arc<dyn StateStore> = Arc::new(
        SqliteStateStore::open(dir.join("state.db"))
            .await
            .expect("state store"),
    );
    let db = RoomsDb::open(&format!("sqlite:{}", dir.join("rooms.db").display()), None)
        .await
        .expect("rooms db");
    let credits = Arc::new(FakeCredits::default());
    let clock = Clock::system();
    let rooms_total: usize = env_or("BENCH_ROOMS", 1000);
    for i in 0..rooms_total * SEATS {
        // Named wallets: the first room call grants them the 1 800 s base.
        credits.name(&format!("0x{:040x}", i + 1));
    }
    let rooms = Rooms::start(
        store.clone(),
        db,
        credits.clone(),
        clock.clone(),
        config.agora.clone(),
        voice_rooms::rooms::AiHost::new(
            config.ai_host.clone(),
            config.agora.clone(),
            http_common::BackgroundTasks::new(),
        ),
        voice_rooms::rooms::Replication::single("test"),
    )
    .await
    .expect("rooms");
    let resources = voice_rooms::Resources {
        state: store,
        cache: Arc::new(SqliteCacheStore::open_in_memory().await.expect("cache")),
        credits,
        clock,
        songs: SongRegistry::open(&format!("sqlite://{}", dir.join("state.db").display()))
            .await
            .expect("songs"),
    };
    let app = ServiceEdge::new("voice-rooms", CorsPolicy::voice_rooms())
        .wrap(voice_rooms::router_with_rooms(config, resources, rooms));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(http_common::serve(
        listener,
        app,
        ConnectionLimits::default(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    base
}

/// `VmRSS (peak VmHWM)` of this process.
fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    format!("{} (peak {})", field("VmRSS:"), field("VmHWM:"))
}
