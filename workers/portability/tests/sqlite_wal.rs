//! SQLite's write-ahead log stays bounded under a stream of writes on every SQLite file the
//! workers use (state store, cache store, the two sharing one file).
//!
//! Bound (docs in `src/adapters/sqlite_pool.rs`): automatic checkpoints run every 1000 pages
//! and `journal_size_limit` truncates the log back to 4 MiB after each, so the log never
//! holds much more than 4 MiB + one checkpoint's worth of pages. The test allows 12 MiB.
//! Before the fix, statements with `RETURNING` that were read with `fetch_optional` /
//! `fetch_one` were left unfinished, their open read kept every checkpoint from completing,
//! and 10 000 writes grew the log to tens of megabytes.

use std::path::Path;
use std::time::Duration;

use portability::{CacheStore, SqliteCacheStore, SqliteStateStore, StateStore};

const WRITES: usize = 10_000;
const BOUND: u64 = 12 * 1024 * 1024;

fn wal_size(db: &Path) -> u64 {
    let wal = db.with_file_name(format!("{}-wal", db.file_name().unwrap().to_string_lossy()));
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test]
async fn state_store_upserts_keep_the_log_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.sqlite3");
    let store = SqliteStateStore::open(&db).await.unwrap();
    for i in 0..WRITES {
        // Upserts and compare-and-swaps, as nonce issuance and consumption do.
        let key = format!("voice-agent/nonces/{}", i % 64);
        let version = store.put(&key, vec![b'x'; 200], None).await.unwrap();
        store
            .put(&key, vec![b'y'; 200], Some(version))
            .await
            .unwrap();
    }
    let size = wal_size(&db);
    eprintln!("WAL after {WRITES} writes: {size} bytes");
    assert!(size < BOUND, "WAL is {size} bytes after {WRITES} writes");
}

#[tokio::test]
async fn cache_store_writes_and_rate_slots_keep_the_log_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.sqlite3");
    let cache = SqliteCacheStore::open(&db).await.unwrap();
    for i in 0..WRITES {
        cache
            .put(
                &format!("k{}", i % 64),
                vec![b'x'; 200],
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        cache
            .reserve_slot(&format!("slot{}", i % 8), Duration::from_millis(1))
            .await
            .unwrap();
    }
    let size = wal_size(&db);
    eprintln!("WAL after {WRITES} writes: {size} bytes");
    assert!(size < BOUND, "WAL is {size} bytes after {WRITES} writes");
}

#[tokio::test]
async fn a_file_shared_by_both_stores_keeps_the_log_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.sqlite3");
    let state = SqliteStateStore::open(&db).await.unwrap();
    let cache = SqliteCacheStore::open(&db).await.unwrap();
    for i in 0..WRITES / 2 {
        state
            .put(&format!("k{}", i % 64), vec![b'x'; 200], None)
            .await
            .unwrap();
        cache
            .reserve_slot("shared", Duration::from_millis(1))
            .await
            .unwrap();
    }
    let size = wal_size(&db);
    eprintln!("WAL after {WRITES} writes: {size} bytes");
    assert!(size < BOUND, "WAL is {size} bytes after {WRITES} writes");
}
