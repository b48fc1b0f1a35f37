//! Benchmark (prints, asserts nothing): N concurrent `/chat/stream` clients against a fake LLM
//! that emits one token every 20 ms. For growing N it prints how many streams completed, the
//! p50/p99/max delay between consecutive events as clients saw them, and the process RSS
//! (clients, voice-agent and fake LLM all live in this process). "Held" means every stream
//! completed and p99 stayed under 5x the token interval.
//!
//! `cargo bench -p voice_agent --bench chat_stream` (`BENCH_MAX_N`, `BENCH_TOKENS` to tune).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::post;
use futures_util::StreamExt;
use http_common::{CorsPolicy, EnvSource, ServiceEdge};
use portability::{SqliteStateStore, StateStore};
use voice_agent::VoiceAgentConfig;
use voice_agent::auth::{SessionToken, Wallet};

const TOKEN_INTERVAL: Duration = Duration::from_millis(20);

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// The fake provider: `tokens` OpenAI chunks, one per interval, then `[DONE]`.
async fn fake_llm(tokens: usize) -> String {
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move || async move {
            let stream = async_stream::stream! {
                let mut ticker = tokio::time::interval(TOKEN_INTERVAL);
                for i in 0..tokens {
                    ticker.tick().await;
                    let chunk = format!(
                        "data: {{\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{i} \"}}}}]}}\n\n"
                    );
                    yield Ok::<_, Infallible>(Bytes::from(chunk));
                }
                yield Ok(Bytes::from_static(b"data: [DONE]\n\n"));
            };
            ([("content-type", "text/event-stream")], Body::from_stream(stream))
        }),
    );
    serve(router).await
}

fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One client: the delays between consecutive events, and whether `done` arrived.
async fn client(http: reqwest::Client, url: String, token: Arc<String>) -> (Vec<Duration>, bool) {
    let response = match http
        .post(&url)
        .bearer_auth(token.as_str())
        .json(&serde_json::json!({"message": "hi"}))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r,
        _ => return (Vec::new(), false),
    };
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    let mut last: Option<Instant> = None;
    let mut gaps = Vec::new();
    let mut done = false;
    while let Some(Ok(chunk)) = stream.next().await {
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            if !event.starts_with(b"data: ") {
                continue;
            }
            let now = Instant::now();
            if let Some(previous) = last {
                gaps.push(now - previous);
            }
            last = Some(now);
            done |= event.starts_with(b"data: {\"done\"");
        }
    }
    (gaps, done)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    let max_n: usize = std::env::var("BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let tokens: usize = std::env::var("BENCH_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let llm = fake_llm(tokens).await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn StateStore> = Arc::new(
        SqliteStateStore::open(dir.path().join("state.db"))
            .await
            .unwrap(),
    );
    let env = EnvSource::from_pairs([
        ("JWT_SECRET", "bench"),
        ("LLM_BASE_URL", llm.as_str()),
        ("LLM_API_KEY", "k"),
        ("SUBGRAPH_URL", "off"),
    ]);
    let config = VoiceAgentConfig::from_env(&env, None).unwrap();
    let app = ServiceEdge::new("voice-agent", CorsPolicy::voice_agent()).wrap(voice_agent::router(
        config,
        voice_agent::Resources {
            state: store,
            cache: Arc::new(
                portability::SqliteCacheStore::open_in_memory()
                    .await
                    .unwrap(),
            ),
            background: http_common::BackgroundTasks::new(),
        },
    ));
    let base = serve(app).await;
    let url = format!("{base}/chat/stream");
    let wallet = Wallet::parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = Arc::new(SessionToken::new("bench").issue(&wallet, now));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .build()
        .unwrap();

    println!(
        "/chat/stream, fake LLM: {tokens} tokens every {} ms per stream (~{:.1} s), {} cores",
        TOKEN_INTERVAL.as_millis(),
        (tokens as f64 * TOKEN_INTERVAL.as_secs_f64()),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>7}",
        "N", "completed", "p50 ms", "p99 ms", "max ms", "RSS MiB", "HWM MiB", "wall s"
    );
    let mut held = 0;
    let mut n = 50;
    while n <= max_n {
        let started = Instant::now();
        let mut clients = Vec::with_capacity(n);
        for i in 0..n {
            clients.push(tokio::spawn(client(
                http.clone(),
                url.clone(),
                token.clone(),
            )));
            if i % 200 == 199 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // Sample RSS while the streams run; keep the highest value of this round.
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = {
            let sampling = sampling.clone();
            tokio::spawn(async move {
                let mut max = 0;
                while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                    max = max.max(rss_kib().0);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                max
            })
        };
        let mut gaps = Vec::new();
        let mut completed = 0;
        for handle in clients {
            let (client_gaps, done) = handle.await.unwrap_or_default();
            gaps.extend(client_gaps);
            completed += usize::from(done);
        }
        let wall = started.elapsed();
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let rss_during = sampler.await.unwrap_or(0);
        gaps.sort();
        let (p50, p99, max) = (
            percentile(&gaps, 0.5),
            percentile(&gaps, 0.99),
            gaps.last().copied().unwrap_or_default(),
        );
        let (_, peak) = rss_kib();
        println!(
            "{n:>6} {completed:>9} {:>9.1} {:>9.1} {:>9.1} {:>10.1} {:>10.1} {:>7.1}",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            rss_during as f64 / 1024.0,
            peak as f64 / 1024.0,
            wall.as_secs_f64()
        );
        println!(
            "BENCH chat_streams_{n}_p99_delay\t{:.1}\tms\t{completed} of {n} completed",
            p99.as_secs_f64() * 1e3
        );
        println!(
            "BENCH chat_streams_{n}_hwm\t{:.1}\tMiB",
            peak as f64 / 1024.0
        );
        if completed == n && p99 < TOKEN_INTERVAL * 5 {
            held = n;
        } else {
            break;
        }
        n *= 2;
    }
    println!(
        "max N held (all streams complete, p99 inter-event delay < {} ms): {held}",
        (TOKEN_INTERVAL * 5).as_millis()
    );
    println!("BENCH chat_streams_held\t{held}\tstreams\tp99 delay under 5 token intervals");
}
