//! Memory and CPU of each `heaven serve <service>` process, the figures the Akash resource
//! profiles are sized from (deploy/README.md, "Sizing").
//!
//! For each service: start the real binary on a private data dir (SQLite, local disk, the
//! embedded defaults), read its resident set after start-up, then send `FOOTPRINT_REQUESTS`
//! requests (default 20 000) of one representative route from 64 concurrent clients and read the
//! peak resident set (`VmHWM`) and the CPU time the process used (`/proc/<pid>/stat`). Printed as
//! `BENCH <figure>\t<value>\t<unit>` lines. `cargo bench -p heaven --bench footprint` builds the
//! binary with the release profile, as the image ships it.
//!
//! First, `cargo run`'s whole stack (`heaven` with no arguments): start-up time until every
//! service answers `/health`, and its idle resident set.
//!
//! The routes: the resolver answers `/artist/:mbid` from 10 000 cached artists (a KV import, no
//! MusicBrainz), the api answers `/api/names/available/:label` from the in-process identity
//! canister, voice-agent and voice-rooms issue login nonces (`POST /auth/nonce`) for distinct
//! wallets, which writes a row each. Held connections (SSE chat streams, rooms) cost more per
//! client; voice-rooms' own `rooms_load` bench measures 1 000 rooms × 6 participants.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::Heaven;

/// Concurrent clients.
const CLIENTS: usize = 64;
/// Artists seeded into the resolver's cache.
const ARTISTS: usize = 10_000;

/// One measured service.
struct Case {
    /// `heaven serve <service>`.
    service: &'static str,
    /// Its row in the service table.
    row: &'static str,
    /// The `i`-th request: method, path and JSON body.
    request: fn(usize) -> (reqwest::Method, String, Option<String>),
}

fn mbid(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i % ARTISTS, i % ARTISTS)
}

fn wallet(i: usize) -> String {
    format!("0x{:040x}", i + 1)
}

const CASES: [Case; 4] = [
    Case {
        service: "resolver",
        row: "metadata-resolver",
        request: |i| (reqwest::Method::GET, format!("/artist/{}", mbid(i)), None),
    },
    Case {
        service: "api",
        row: "api",
        request: |i| {
            (
                reqwest::Method::GET,
                format!("/api/names/available/listener{i}"),
                None,
            )
        },
    },
    Case {
        service: "agent",
        row: "voice-agent",
        request: |i| {
            let body = format!(r#"{{"wallet":"{}"}}"#, wallet(i));
            (reqwest::Method::POST, "/auth/nonce".into(), Some(body))
        },
    },
    Case {
        service: "rooms",
        row: "voice-rooms",
        request: |i| {
            let body = format!(r#"{{"wallet":"{}"}}"#, wallet(i));
            (reqwest::Method::POST, "/auth/nonce".into(), Some(body))
        },
    },
];

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User plus system CPU seconds `pid` used so far (clock ticks of 1/100 s, as Linux reports
/// them to user space).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the state.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Seeds the resolver's cache with [`ARTISTS`] artists through `heaven migrate kv-import`.
fn seed_resolver(data_dir: &std::path::Path) {
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let lines: Vec<String> = (0..ARTISTS)
        .map(|i| {
            let value = format!(
                r#"{{"mbid":"{}","name":"Artist {i}","links":{{}}}}"#,
                mbid(i)
            );
            serde_json::json!({"key": format!("artist:{}", mbid(i)), "value": value, "expiration": expires})
                .to_string()
        })
        .collect();
    let export = data_dir.join("kv.jsonl");
    std::fs::write(&export, lines.join("\n")).unwrap();
    let (code, _, stderr) = common::run_to_end(
        &["migrate", "kv-import", export.to_str().unwrap()],
        data_dir,
        &[],
    );
    assert_eq!(code, 0, "kv-import failed: {stderr}");
}

fn bench(case: &Case, requests: usize, runtime: &tokio::runtime::Runtime) {
    let data = tempfile::tempdir().unwrap();
    if case.service == "resolver" {
        seed_resolver(data.path());
    }
    let heaven = Heaven::start(
        &["serve", case.service],
        data.path(),
        &[
            // Nothing listens there: a cache miss would fail instead of reaching MusicBrainz.
            ("MUSICBRAINZ_URL", "http://127.0.0.1:1"),
            // Every request comes from 127.0.0.1: lift the per-client nonce budget (60 per 10
            // minutes) so the bench measures the work, not the limiter's 429.
            ("NONCE_LIMIT_PER_IP_10M", "100000000"),
        ],
        false,
    );
    let pid = heaven.pid();
    let base = heaven.url(case.row);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (idle_kib, _) = memory_kib(pid);
    let cpu_before = cpu_seconds(pid);

    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, base, next, failures) =
                (client.clone(), base.clone(), next.clone(), failures.clone());
            let (request, service) = (case.request, case.service);
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let (method, path, body) = request(i);
                    let mut builder = client.request(method, format!("{base}{path}"));
                    if let Some(body) = body {
                        builder = builder
                            .header("content-type", "application/json")
                            .body(body);
                    }
                    match builder.send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        Ok(r) => {
                            if failures.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("{service}: {path} answered {}", r.status());
                            }
                        }
                        Err(e) => {
                            if failures.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("{service}: {path}: {e}");
                            }
                        }
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let (_, peak_kib) = memory_kib(pid);
    let failed = failures.load(Ordering::Relaxed);
    assert_eq!(
        failed, 0,
        "{}: {failed} requests did not succeed",
        case.service
    );
    drop(heaven);

    let s = case.service;
    let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    println!("BENCH {s}_idle_rss\t{}\tMiB", mib(idle_kib));
    println!(
        "BENCH {s}_peak_rss\t{}\tMiB\t{CLIENTS} clients",
        mib(peak_kib)
    );
    println!(
        "BENCH {s}_throughput\t{:.0}\treq/s\t{requests} requests",
        requests as f64 / elapsed
    );
    println!(
        "BENCH {s}_cpu_per_1k\t{:.3}\tcpu-s",
        cpu / requests as f64 * 1000.0
    );
}

/// `cargo run`'s stack (`heaven` with no arguments): the time from spawning the process to every
/// row of its service table answering `/health`, and the resident set of the whole stack idle.
fn whole_stack(runtime: &tokio::runtime::Runtime) {
    let data = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let heaven = Heaven::start(&[], data.path(), &[], false);
    let urls: Vec<String> = heaven
        .rows
        .iter()
        .filter(|r| r.1.starts_with("http"))
        .map(|r| r.1.clone())
        .collect();
    let client = reqwest::Client::new();
    runtime.block_on(async {
        for url in &urls {
            loop {
                match client.get(format!("{url}/health")).send().await {
                    Ok(r) if r.status().is_success() => break,
                    _ => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
                }
            }
        }
    });
    let startup_ms = started.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (idle_kib, _) = memory_kib(heaven.pid());
    drop(heaven);
    println!(
        "BENCH stack_startup\t{startup_ms:.0}\tms\t{} services answering /health",
        urls.len()
    );
    println!(
        "BENCH stack_idle_rss\t{:.1}\tMiB\tall services, one process",
        idle_kib as f64 / 1024.0
    );
}

fn main() {
    let requests: usize = std::env::var("FOOTPRINT_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if only.as_deref().is_none_or(|o| o == "stack") {
        whole_stack(&runtime);
    }
    for case in &CASES {
        if only.as_deref().is_some_and(|o| o != case.service) {
            continue;
        }
        bench(case, requests, &runtime);
    }
}
