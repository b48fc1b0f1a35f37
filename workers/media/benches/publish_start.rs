//! Benchmark (not a test): `POST /api/music/publish/start` throughput and peak RSS with 50 MiB
//! audio uploads, 8 at a time, over real HTTP behind the api edge, onto the local-disk blob
//! store (SQLite state). The bodies are generated while they are sent, so the figures are the
//! server's: peak RSS is the process's VmHWM, reset first (Linux `/proc/self/clear_refs`).
//!
//! `cargo bench -p media --bench publish_start` (`MEDIA_BENCH_UPLOADS` uploads, default 32;
//! `MEDIA_BENCH_MIB` per upload, default 50; `MEDIA_BENCH_CONCURRENCY`, default 8).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use blob_store::{BlobIndex, BlobStore, LocalDisk};
use bytes::Bytes;
use canister_bridge::{BridgeError, IdentityClient};
use futures_util::StreamExt;
use http_common::{ConnectionLimits, CorsPolicy, ServiceEdge};
use identity_canister::endpoints::{EdgeRequest, EdgeResponse, IdentityView};
use media::{Clock, MediaConfig, MediaResources, MediaState};
use portability::{SqliteStateStore, StateStore};

/// Everyone is verified.
struct Everyone;

#[async_trait]
impl IdentityClient for Everyone {
    async fn edge_request(&self, _: EdgeRequest) -> Result<EdgeResponse, BridgeError> {
        Err(BridgeError::Protocol("unused".into()))
    }
    async fn identity_of(&self, address: &str) -> Result<Option<IdentityView>, BridgeError> {
        Ok(Some(IdentityView {
            address: address.to_owned(),
            verified_at: 1,
            has_short_name_credential: false,
        }))
    }
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A multipart `file` part of `size` bytes generated in 1 MiB chunks.
fn audio_part(size: u64, seed: u8) -> reqwest::multipart::Part {
    let chunk = Bytes::from(vec![seed; 1 << 20]);
    let chunks = size.div_ceil(1 << 20);
    let stream = futures_util::stream::iter(0..chunks).map(move |i| {
        let left = size - i * (1 << 20);
        Ok::<_, std::io::Error>(chunk.slice(..(left.min(1 << 20) as usize)))
    });
    reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), size)
        .file_name("audio.bin")
        .mime_str("audio/mpeg")
        .unwrap()
}

#[tokio::main]
async fn main() {
    let uploads = env_or("MEDIA_BENCH_UPLOADS", 32);
    let mib = env_or("MEDIA_BENCH_MIB", 50) as u64;
    let concurrency = env_or("MEDIA_BENCH_CONCURRENCY", 8);
    let dir = tempfile::tempdir().unwrap();
    let state: Arc<dyn StateStore> = Arc::new(
        SqliteStateStore::open(dir.path().join("state.db"))
            .await
            .unwrap(),
    );
    let disk = LocalDisk::open(dir.path().join("blobs"), u64::MAX)
        .await
        .unwrap();
    let spool = disk.spool_dir();
    let blobs = Arc::new(BlobStore::new(disk, BlobIndex::new(state.clone()), spool));
    let media = MediaState::new(
        MediaConfig::for_tests("http://127.0.0.1:9", dir.path().join("media-spool")),
        MediaResources {
            state,
            blobs,
            identity: Arc::new(Everyone),
            publishing: None,
            scrobble_lookups: None,
            clock: Clock::system(),
        },
    );
    let mut edge = ServiceEdge::new("api", CorsPolicy::api_core());
    edge.timeout = media::REQUEST_TIMEOUT;
    let router = edge.wrap(media::router(media));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(http_common::serve(
        listener,
        router,
        ConnectionLimits::default(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    let http = reqwest::Client::new();
    let size = mib << 20;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let idle = peak_rss_mib();
    let started = Instant::now();
    let results: Vec<(u16, Duration)> = futures_util::stream::iter(0..uploads)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let user = format!("0x{:040x}", i + 1);
                let form = reqwest::multipart::Form::new()
                    .part("file", audio_part(size, i as u8))
                    .text("publishType", "cover");
                let t = Instant::now();
                let response = http
                    .post(format!("{base}/api/music/publish/start"))
                    .header("x-user-address", user)
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                (status, t.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let ok = results.iter().filter(|r| r.0 == 200).count();
    let mut latencies: Vec<f64> = results.iter().map(|r| r.1.as_secs_f64()).collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p50 = latencies[latencies.len() / 2];
    let p95 = latencies[(latencies.len() * 95 / 100).min(latencies.len() - 1)];
    println!(
        "publish/start: {uploads} uploads of {mib} MiB, {concurrency} concurrent, local-disk blob store"
    );
    println!("  ok: {ok}/{uploads}");
    println!(
        "  throughput: {:.2} jobs/s, {:.0} MiB/s",
        uploads as f64 / elapsed,
        (uploads as u64 * mib) as f64 / elapsed
    );
    println!("  latency per upload: p50 {p50:.2} s, p95 {p95:.2} s");
    println!(
        "BENCH publish_start_jobs\t{:.2}\tjobs/s\t{uploads} x {mib} MiB, {concurrency} concurrent",
        uploads as f64 / elapsed
    );
    println!("BENCH publish_start_p95\t{p95:.2}\ts");
    println!("BENCH publish_start_peak_rss\t{}\tMiB", peak_rss_mib());
    println!(
        "  peak RSS: {} MiB (idle {idle} MiB; client and server in one process, bodies generated on the fly)",
        peak_rss_mib()
    );
}
