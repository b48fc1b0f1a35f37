//! Benchmark (not a test): put and get throughput and peak RSS of the local-disk blob store for
//! 1 MB, 100 MB and 1 GB blobs, streamed in 256 KiB chunks. Peak RSS is the process's VmHWM,
//! reset before each size (Linux `/proc/self/clear_refs`), so flat memory shows as a flat
//! figure across sizes.
//!
//! `cargo bench -p blob_store --bench local_disk` (sizes in MB: `BLOB_BENCH_SIZES=1,100,1000`;
//! directory: `BLOB_BENCH_DIR`, default `target/blob-bench`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use blob_store::{BlobIndex, BlobStore, LocalDisk};
use bytes::Bytes;
use futures_util::StreamExt;
use portability::{ContentAddressedBlobStore, SqliteStateStore, StateStore};

const CHUNK: usize = 256 * 1024;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

#[tokio::main]
async fn main() {
    let sizes: Vec<u64> = std::env::var("BLOB_BENCH_SIZES")
        .unwrap_or_else(|_| "1,100,1000".to_owned())
        .split(',')
        .map(|s| s.trim().parse().expect("BLOB_BENCH_SIZES: MB numbers"))
        .collect();
    let dir = std::env::var("BLOB_BENCH_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/blob-bench"),
        PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state: Arc<dyn StateStore> =
        Arc::new(SqliteStateStore::open(dir.join("state.db")).await.unwrap());
    let disk = LocalDisk::open(dir.join("root"), u64::MAX).await.unwrap();
    let spool = disk.spool_dir();
    let store = BlobStore::new(disk, BlobIndex::new(state), spool);
    println!(
        "local-disk blob store, {} KiB chunks, dir {}",
        CHUNK / 1024,
        dir.display()
    );
    println!(
        "{:>8} {:>12} {:>12} {:>16}",
        "size", "put MB/s", "get MB/s", "peak RSS MiB"
    );
    for mb in sizes {
        let total = mb * 1_000_000;
        let pattern: Bytes = (0..CHUNK)
            .map(|i| (i * 7 + mb as usize) as u8)
            .collect::<Vec<_>>()
            .into();
        reset_peak();
        let chunks = (0..total.div_ceil(CHUNK as u64)).map(move |i| {
            let len = (total - i * CHUNK as u64).min(CHUNK as u64) as usize;
            Ok(pattern.slice(..len))
        });
        let started = Instant::now();
        let stored = store
            .put_stream(
                futures_util::stream::iter(chunks).boxed(),
                "application/octet-stream",
                &[],
            )
            .await
            .unwrap();
        let put = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut read = 0u64;
        let mut stream = store.get(&stored.id).await.unwrap();
        while let Some(chunk) = stream.next().await {
            read += chunk.unwrap().len() as u64;
        }
        let get = started.elapsed().as_secs_f64();
        assert_eq!(read, total);
        println!(
            "{:>6}MB {:>12.1} {:>12.1} {:>16.1}",
            mb,
            mb_per_s(total, put),
            mb_per_s(total, get),
            peak_rss_kib() as f64 / 1024.0
        );
        println!(
            "BENCH blob_put_{mb}mb\t{:.1}\tMB/s\tlocal disk",
            mb_per_s(total, put)
        );
        println!(
            "BENCH blob_get_{mb}mb\t{:.1}\tMB/s\tlocal disk",
            mb_per_s(total, get)
        );
        println!(
            "BENCH blob_peak_rss_after_{mb}mb\t{:.1}\tMiB",
            peak_rss_kib() as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
