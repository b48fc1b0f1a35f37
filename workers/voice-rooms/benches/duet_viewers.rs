//! Benchmark: viewers of one live duet room. In one process: the voice-rooms router with the
//! duet rooms (actors in a SQLite state store, the index in a SQLite file, the test suite's
//! credits double with the canister's rules, the system clock) served on 127.0.0.1; one live
//! room whose viewers are all entitled. For each level of `BENCH_VIEWERS` (default
//! `500,1000,2000,4000`) the load of that many viewers is sent open-loop for `BENCH_SECS`
//! seconds (15): each viewer re-enters every 45 s (`POST /duet/:id/enter`, JWT) and polls
//! `GET /duet/:id/public-info` every 5 s, spread evenly, so N viewers are N/45 enters/s plus
//! N/5 polls/s. Prints, per level, the requests sent, p50/p99 latency of each route and
//! whether p99 stayed under 50 ms; then RSS (including the load generator). Asserts nothing.
//! Run: `cargo bench -p voice_rooms --bench duet_viewers` (or `--profile dev`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::FakeCredits;
use common::duet::DuetStack;
use credits_canister::duet::entitlement::Entitlement;
use credits_canister::units::UnixSeconds;
use serde_json::json;
use voice_rooms::Clock;

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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn run() {
    let levels: Vec<usize> = std::env::var("BENCH_VIEWERS")
        .unwrap_or_else(|_| "500,1000,2000,4000".to_owned())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let secs: u64 = env_or("BENCH_SECS", 15);
    let profile = if cfg!(debug_assertions) {
        "dev profile (unoptimized)"
    } else {
        "release profile"
    };
    println!("duet_viewers: {profile}, {secs} s per level");
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::system();
    let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
    let stack = Arc::new(DuetStack::start(dir.path(), clock.clone(), credits.clone(), &[]).await);
    let host = common::User::new(1);
    let (room, _) = stack
        .live_room(&host, json!({"split_address": host.wallet}))
        .await;
    let most = levels.iter().copied().max().unwrap_or(0);
    let until = UnixSeconds((clock.now() + 86_400) as u64);
    let tokens: Vec<String> = {
        let mut duet = credits.duet.lock().unwrap();
        (0..most)
            .map(|i| {
                let wallet = format!("0x{:040x}", i + 1_000);
                duet.entitlements.insert(
                    (room.clone(), wallet.clone()),
                    Entitlement {
                        live_expires_at: Some(until),
                        replay_expires_at: None,
                    },
                );
                voice_rooms::auth::SessionToken::new(common::JWT_SECRET).issue(&wallet, clock.now())
            })
            .collect()
    };
    let tokens = Arc::new(tokens);
    for viewers in levels {
        let enter_rate = viewers as f64 / 45.0;
        let poll_rate = viewers as f64 / 5.0;
        let total_rate = enter_rate + poll_rate;
        let count = (total_rate * secs as f64) as usize;
        let gap = Duration::from_secs_f64(1.0 / total_rate);
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(count);
        for n in 0..count {
            let at = start + gap * n as u32;
            tokio::time::sleep_until(at.into()).await;
            // Of every (enter + poll) share, enters are enter_rate / total_rate.
            let is_enter = (n as f64 * enter_rate / total_rate).floor()
                != ((n + 1) as f64 * enter_rate / total_rate).floor();
            let stack = stack.clone();
            let room = room.clone();
            let token = tokens[n % viewers].clone();
            tasks.push(tokio::spawn(async move {
                let began = Instant::now();
                let request = if is_enter {
                    stack
                        .http
                        .post(format!("{}/duet/{room}/enter", stack.base))
                        .bearer_auth(&token)
                } else {
                    stack
                        .http
                        .get(format!("{}/duet/{room}/public-info", stack.base))
                };
                // A refused or reset connection counts as a failure (status 0).
                let status = match request.send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => 0,
                };
                (is_enter, status, began.elapsed())
            }));
        }
        let mut enters = Vec::new();
        let mut polls = Vec::new();
        let mut failed = 0;
        for task in tasks {
            let (is_enter, status, took) = task.await.unwrap();
            if status != 200 {
                failed += 1;
            }
            if is_enter {
                enters.push(took);
            } else {
                polls.push(took);
            }
        }
        let wall = start.elapsed();
        enters.sort();
        polls.sort();
        let mut all: Vec<Duration> = enters.iter().chain(polls.iter()).copied().collect();
        all.sort();
        let p99 = percentile(&all, 0.99);
        println!(
            "{viewers:>6} viewers: {count} requests in {:.1} s ({:.0}/s), {failed} non-200; \
             enter p50 {:.1} ms p99 {:.1} ms; public-info p50 {:.1} ms p99 {:.1} ms; \
             all p99 {:.1} ms {}",
            wall.as_secs_f64(),
            count as f64 / wall.as_secs_f64(),
            percentile(&enters, 0.5).as_secs_f64() * 1e3,
            percentile(&enters, 0.99).as_secs_f64() * 1e3,
            percentile(&polls, 0.5).as_secs_f64() * 1e3,
            percentile(&polls, 0.99).as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            if p99 < Duration::from_millis(50) {
                "(under 50 ms)"
            } else {
                "(over 50 ms)"
            },
        );
        println!(
            "BENCH duet_{viewers}_viewers_p99\t{:.1}\tms\t{failed} non-200",
            p99.as_secs_f64() * 1e3
        );
    }
    println!("rss: {}", rss());
}

fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" / ")
}
