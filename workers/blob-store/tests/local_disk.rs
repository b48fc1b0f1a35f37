//! The local-disk store: blobs and links survive a restart, a process killed between the temp
//! write and the rename leaves no blob visible (and its temp file is swept on the next open),
//! and `open_blob_store` builds it from the environment defaults.
//!
//! Real clock: the crash test waits (with a deadline) for a child process to write.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blob_store::{BackendKind, BlobIndex, BlobStore, BlobStoreConfig, LocalDisk, open_blob_store};
use common::{bytes, collect};
use futures_util::StreamExt;
use portability::{ContentAddressedBlobStore, PortabilityError, SqliteStateStore, StateStore};
use sha2::{Digest, Sha256};

const CHILD_ENV: &str = "BLOB_STORE_CRASH_CHILD_DIR";
const CHUNK: usize = 1 << 20;

async fn open(dir: &Path) -> BlobStore<LocalDisk> {
    let state: Arc<dyn StateStore> =
        Arc::new(SqliteStateStore::open(dir.join("state.db")).await.unwrap());
    let disk = LocalDisk::open(dir.join("blobs-root"), 1 << 30)
        .await
        .unwrap();
    let spool = disk.spool_dir();
    BlobStore::new(disk, BlobIndex::new(state), spool)
}

#[tokio::test]
async fn blobs_and_links_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(300_000, 9);
    let id = {
        let store = open(dir.path()).await;
        let stored = store.put(data.clone(), "image/webp", &[]).await.unwrap();
        assert_eq!(stored.backend, "local");
        assert_eq!(
            stored.id,
            hex::encode(Sha256::digest(&data)),
            "local ids are the sha256"
        );
        store.link("photos/p1/orig", &stored.id).await.unwrap();
        stored.id
    };
    let store = open(dir.path()).await;
    assert_eq!(
        store.resolve("photos/p1/orig").await.unwrap(),
        Some(id.clone())
    );
    assert_eq!(collect(store.get(&id).await.unwrap()).await.unwrap(), data);
    assert_eq!(store.head(&id).await.unwrap().content_type, "image/webp");
    let err = store.anchor(&id).await.unwrap_err();
    assert!(err.to_string().contains("no Arweave anchoring"), "{err}");
}

/// Not a test on its own: the child process of the kill test (does nothing without the env).
#[tokio::test]
async fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = open(Path::new(&dir)).await;
    let data = bytes(3 * CHUNK, 1);
    let chunks: Vec<_> = data
        .chunks(CHUNK)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    // Every byte is delivered, then the stream never ends: the temp file is complete but not
    // yet synced and renamed when the parent kills this process.
    let body = futures_util::stream::iter(chunks)
        .chain(futures_util::stream::pending())
        .boxed();
    store.put_stream(body, "audio/flac", &[]).await.unwrap();
    unreachable!("the stream never ends");
}

#[tokio::test]
async fn kill_between_temp_write_and_rename_leaves_no_partial_blob() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()).await);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture"])
        .env(CHILD_ENV, dir.path())
        .spawn()
        .unwrap();
    let tmp = dir.path().join("blobs-root/tmp");
    let deadline = Instant::now() + Duration::from_secs(30);
    let spool_size = || -> u64 {
        std::fs::read_dir(&tmp)
            .unwrap()
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
    while spool_size() < 3 * CHUNK as u64 {
        assert!(
            Instant::now() < deadline,
            "the child never wrote its temp file"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child exited early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs-root/blobs"))
            .unwrap()
            .count(),
        0,
        "no blob file"
    );

    let store = open(dir.path()).await;
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the temp file is swept on open"
    );
    let id = hex::encode(Sha256::digest(bytes(3 * CHUNK, 1)));
    assert!(matches!(
        store.get(&id).await,
        Err(PortabilityError::NotFound { .. })
    ));
    assert!(matches!(
        store.head(&id).await,
        Err(PortabilityError::NotFound { .. })
    ));
    // And the same bytes can be stored afterwards.
    let stored = store
        .put(bytes(3 * CHUNK, 1), "audio/flac", &[])
        .await
        .unwrap();
    assert_eq!(stored.id, id);
}

#[tokio::test]
async fn local_size_limit_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let state: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
    let disk = LocalDisk::open(dir.path(), 10).await.unwrap();
    let spool = disk.spool_dir();
    let store = BlobStore::new(disk, BlobIndex::new(state), spool);
    let err = store.put(bytes(11, 0), "a/b", &[]).await.unwrap_err();
    assert!(
        matches!(&err, PortabilityError::InvalidInput(m) if m.contains("more than 10 bytes")),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "the spool is removed"
    );
}

#[tokio::test]
async fn configuration_defaults_to_local_disk_and_reads_the_env() {
    let dir = tempfile::tempdir().unwrap();
    let config = BlobStoreConfig::from_lookup(|_| None, dir.path()).unwrap();
    assert_eq!(config.backend, BackendKind::Local);
    assert_eq!(config.breaker.threshold, 3);
    let state: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
    let store = open_blob_store(&config, state).await.unwrap();
    let stored = store.put(bytes(10, 1), "a/b", &[]).await.unwrap();
    assert!(dir.path().join("blobs").join(&stored.id).exists());

    let env = |k: &str| match k {
        "BLOB_BACKEND" => Some("load".to_owned()),
        "LOAD_S3_AGENT_URL" => Some("http://agent/".to_owned()),
        "BLOB_BREAKER_THRESHOLD" => Some("5".to_owned()),
        "BLOB_BREAKER_COOLDOWN_SECS" => Some("7".to_owned()),
        "IRYS_PRIVATE_KEY" => Some(common::IRYS_KEY.to_owned()),
        _ => None,
    };
    let config = BlobStoreConfig::from_lookup(env, dir.path()).unwrap();
    assert_eq!(config.backend, BackendKind::Load);
    assert_eq!(config.breaker.threshold, 5);
    assert_eq!(config.breaker.cooldown, Duration::from_secs(7));
    assert_eq!(config.load.agent_url, "http://agent/");
    let state: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
    open_blob_store(&config, state).await.unwrap();

    let bad = BlobStoreConfig::from_lookup(
        |k| (k == "BLOB_BACKEND").then(|| "filebase".to_owned()),
        dir.path(),
    );
    assert!(matches!(bad, Err(PortabilityError::InvalidInput(m)) if m.contains("filebase")));
    let bad = BlobStoreConfig::from_lookup(
        |k| (k == "BLOB_BREAKER_THRESHOLD").then(|| "x".to_owned()),
        dir.path(),
    );
    assert!(bad.is_err());
}
