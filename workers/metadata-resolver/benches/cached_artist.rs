//! Benchmark: cached `GET /artist/{mbid}` throughput and p50/p99 latency, with the SQLite
//! cache and with the Redis cache. The resolver runs in a second process (this binary started
//! again with `BENCH_ROLE=server`) on 127.0.0.1; this process generates the load with
//! `BENCH_CONNECTIONS` concurrent keep-alive connections (32) for `BENCH_SECS` seconds (5).
//! It prints figures and asserts nothing. Run: `cargo bench -p metadata_resolver`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_common::{CorsPolicy, EnvSource, ServiceEdge};
use metadata_resolver::{AppState, ResolverConfig};
use portability::{CacheStore, RedisCacheStore, SqliteCacheStore};

const MBID: &str = "a74b1b7f-71a5-4011-9441-d0b5e4122711";
const REDIS_URL: &str = "redis://127.0.0.1:6379";

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if std::env::var("BENCH_ROLE").as_deref() == Ok("server") {
        runtime.block_on(serve());
        return;
    }
    let secs: u64 = env_or("BENCH_SECS", 5);
    let connections: usize = env_or("BENCH_CONNECTIONS", 32);
    println!(
        "cached GET /artist/{{mbid}}: {connections} connections, {secs} s per backend, server in a second process"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!(
        "sqlite://{}",
        dir.path().join("bench-cache.sqlite3").display()
    );
    let prefix = format!("heaven:bench:{:016x}:", rand::random::<u64>());
    for (name, url) in [("sqlite", sqlite.as_str()), ("redis", REDIS_URL)] {
        let Some(mut server) = Server::start(url, &prefix) else {
            println!("{name:<7} skipped: the server process did not start (is {url} reachable?)");
            continue;
        };
        let figures = runtime.block_on(load(&server.base, connections, Duration::from_secs(secs)));
        println!("{name:<7} {figures}");
        figures.print_bench_lines(name, connections);
        server.stop();
    }
    if let Ok(client) = redis::Client::open(REDIS_URL)
        && let Ok(mut conn) = client.get_connection()
    {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

fn env_or<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(cache_url: &str, prefix: &str) -> Option<Server> {
        let mut child = Command::new(std::env::current_exe().ok()?)
            .env("BENCH_ROLE", "server")
            .env("BENCH_CACHE_URL", cache_url)
            .env("BENCH_PREFIX", prefix)
            .stdout(Stdio::piped())
            .stdin(Stdio::piped())
            .spawn()
            .ok()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take()?)
            .read_line(&mut line)
            .ok()?;
        let base = line.trim().strip_prefix("listening ")?.to_owned();
        Some(Server { child, base })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server role: a resolver over the chosen cache with the artist already cached.
async fn serve() {
    let url = std::env::var("BENCH_CACHE_URL").expect("BENCH_CACHE_URL");
    let cache: Arc<dyn CacheStore> = if url.starts_with("redis") {
        let prefix = std::env::var("BENCH_PREFIX").expect("BENCH_PREFIX");
        Arc::new(
            RedisCacheStore::connect(&url, &prefix)
                .await
                .expect("redis"),
        )
    } else {
        let path = url.trim_start_matches("sqlite://");
        Arc::new(SqliteCacheStore::open(path).await.expect("sqlite"))
    };
    let body = format!(
        concat!(
            r#"{{"mbid":"{}","name":"Radiohead","sortName":"Radiohead","type":"Group","disambiguation":"","#,
            r#""country":"GB","area":"United Kingdom","lifeSpan":{{"begin":"1991","end":null,"ended":false}},"#,
            r#""genres":["alternative rock","art rock","electronic","rock"],"links":{{"website":"https://www.radiohead.com/","#,
            r#""wikidata":"https://www.wikidata.org/wiki/Q44191"}}}}"#
        ),
        MBID
    );
    cache
        .put(
            &format!("artist:{MBID}"),
            body.into_bytes(),
            Duration::from_secs(3600),
        )
        .await
        .expect("seed");
    let config = ResolverConfig::from_env(&EnvSource::from_pairs([(
        "MUSICBRAINZ_URL",
        "http://127.0.0.1:1",
    )]))
    .expect("config");
    let router = ServiceEdge::new("metadata-resolver", CorsPolicy::metadata_resolver()).wrap(
        metadata_resolver::routes::router(AppState::new(
            config,
            cache,
            None,
            http_common::BackgroundTasks::new(),
        )),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    println!("listening http://{addr}");
    let _ = std::io::stdout().flush();
    // The production listener (connection limits, header timeout), as `heaven` serves it.
    http_common::serve(
        listener,
        router,
        http_common::ConnectionLimits::default(),
        std::future::pending(),
        Duration::from_secs(1),
    )
    .await;
}

/// Runs the load and formats the figures.
/// What one backend's run measured.
struct Figures {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
    errors: u64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>8.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  ({} requests, {} errors)",
            self.requests_per_s, self.p50_ms, self.p99_ms, self.requests, self.errors
        )
    }
}

impl Figures {
    /// The `BENCH` lines `cargo xtask bench` collects.
    fn print_bench_lines(&self, backend: &str, connections: usize) {
        let load = format!("{connections} connections");
        println!(
            "BENCH resolver_cache_hits_{backend}\t{:.0}\treq/s\t{load}",
            self.requests_per_s
        );
        println!(
            "BENCH resolver_cache_hits_{backend}_p99\t{:.3}\tms\t{load}",
            self.p99_ms
        );
        println!(
            "BENCH resolver_cache_hits_{backend}_errors\t{}\trequests",
            self.errors
        );
    }
}

async fn load(base: &str, connections: usize, duration: Duration) -> Figures {
    let url = format!("{base}/artist/{MBID}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    // Warm-up: open the connections and the server's caches.
    for _ in 0..connections * 4 {
        let _ = client
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status());
    }
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (client, url) = (client.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match client.get(&url).send().await {
                    Ok(response) if response.status() == 200 => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mut l, e) = worker.await.expect("worker");
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        requests_per_s: latencies.len() as f64 / elapsed,
        p50_ms: pick(0.50).as_secs_f64() * 1000.0,
        p99_ms: pick(0.99).as_secs_f64() * 1000.0,
        requests: latencies.len(),
        errors,
    }
}
