//! The `ContentAddressedBlobStore` contract, written once and run against every backend: local
//! disk, Load (fake agent), Irys (fake node, items signed and verified), and the failover
//! backend with Load down (so Irys serves). Arweave reads run against arlocal in `arweave.rs`.

mod common;

use std::any::Any;
use std::sync::Arc;

use blob_store::{BlobStore, BreakerConfig, FailoverBackend, LocalDisk};
use common::{
    FakeIrys, FakeLoad, FakeLoadExt, LOAD_KEY, bytes, collect, dead_arweave, memory_index,
};
use futures_util::StreamExt;
use portability::{BlobTag, ContentAddressedBlobStore, PortabilityError};
use sha2::{Digest, Sha256};

type Counter = Box<dyn Fn() -> usize + Send + Sync>;
type Corrupt = Box<dyn Fn(&str) + Send + Sync>;

struct Harness {
    store: Arc<dyn ContentAddressedBlobStore>,
    /// How many blobs the backend holds.
    uploads: Counter,
    /// Replaces the backend's bytes of an id with other bytes.
    corrupt: Corrupt,
    _keep: Box<dyn Any + Send>,
}

fn tag(name: &str, value: &str) -> BlobTag {
    BlobTag {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

async fn local() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let disk = LocalDisk::open(dir.path(), 1 << 30).await.unwrap();
    let spool = disk.spool_dir();
    let root = dir.path().to_owned();
    let store = BlobStore::new(disk, memory_index().await, spool);
    let blobs = root.join("blobs");
    let blobs2 = blobs.clone();
    Harness {
        store: Arc::new(store),
        uploads: Box::new(move || std::fs::read_dir(&blobs).unwrap().count()),
        corrupt: Box::new(move |id| {
            let path = blobs2.join(id);
            let mut data = std::fs::read(&path).unwrap();
            data[0] ^= 0xff;
            std::fs::write(&path, data).unwrap();
        }),
        _keep: Box::new(dir),
    }
}

fn fake_counters(blobs: common::Blobs) -> (Counter, Corrupt) {
    let b2 = blobs.clone();
    (
        Box::new(move || blobs.lock().unwrap().len()),
        Box::new(move |id| {
            let mut map = b2.lock().unwrap();
            let entry = map.get_mut(id).unwrap();
            entry.0[0] ^= 0xff;
        }),
    )
}

async fn load() -> Harness {
    let fake = FakeLoad::start().await;
    let store = BlobStore::new(
        fake.agent(Some(LOAD_KEY), dead_arweave()),
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let (uploads, corrupt) = fake_counters(fake.blobs.clone());
    Harness {
        store: Arc::new(store),
        uploads,
        corrupt,
        _keep: Box::new(fake),
    }
}

async fn irys() -> Harness {
    let fake = FakeIrys::start().await;
    let store = BlobStore::new(
        fake.bundler(dead_arweave()),
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let (uploads, corrupt) = fake_counters(fake.blobs.clone());
    Harness {
        store: Arc::new(store),
        uploads,
        corrupt,
        _keep: Box::new(fake),
    }
}

/// Failover with Load refusing connections: every put lands on Irys.
async fn failover_to_irys() -> Harness {
    let fake = FakeIrys::start().await;
    let mut config = blob_store::LoadConfig::new(Some(LOAD_KEY.to_owned()));
    config.agent_url = "http://127.0.0.1:9".to_owned();
    config.gateway_url = "http://127.0.0.1:9".to_owned();
    let load = blob_store::LoadAgent::new(common::http(), config, dead_arweave());
    let backend = FailoverBackend::new(
        load,
        Some(fake.bundler(dead_arweave())),
        BreakerConfig::default(),
    );
    let store = BlobStore::new(
        backend,
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let (uploads, corrupt) = fake_counters(fake.blobs.clone());
    Harness {
        store: Arc::new(store),
        uploads,
        corrupt,
        _keep: Box::new(fake),
    }
}

async fn put_then_get_and_head(h: Harness) {
    let data = bytes(70_000, 1);
    let tags = vec![tag("App-Name", "Heaven"), tag("Kind", "cover")];
    let stored = h.store.put(data.clone(), "image/png", &tags).await.unwrap();
    assert!(!stored.id.is_empty());
    assert!(stored.gateway_url.contains(&stored.id), "{stored:?}");
    assert_eq!(
        collect(h.store.get(&stored.id).await.unwrap())
            .await
            .unwrap(),
        data
    );
    let head = h.store.head(&stored.id).await.unwrap();
    assert_eq!(head.content_type, "image/png");
    assert_eq!(head.size, data.len() as u64);
    assert_eq!(head.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    assert_eq!(head.tags, tags);
}

async fn identical_put_is_idempotent(h: Harness) {
    let data = bytes(5_000, 2);
    let first = h.store.put(data.clone(), "audio/mpeg", &[]).await.unwrap();
    let second = h.store.put(data.clone(), "audio/mpeg", &[]).await.unwrap();
    assert_eq!(first, second);
    assert_eq!((h.uploads)(), 1, "the second put must not upload again");
    let other = h
        .store
        .put(bytes(5_000, 3), "audio/mpeg", &[])
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!((h.uploads)(), 2);
}

async fn streamed_put_and_range_reads(h: Harness) {
    let data = bytes(3 * 1024 * 1024 + 17, 4);
    let chunks: Vec<_> = data
        .chunks(100_000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let stored = h
        .store
        .put_stream(futures_util::stream::iter(chunks).boxed(), "audio/ogg", &[])
        .await
        .unwrap();
    assert_eq!(
        collect(h.store.get(&stored.id).await.unwrap())
            .await
            .unwrap(),
        data
    );
    let mid = collect(
        h.store
            .get_range(&stored.id, 1_000_000..1_000_100)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(mid, &data[1_000_000..1_000_100]);
    let tail = collect(
        h.store
            .get_range(&stored.id, data.len() as u64 - 5..u64::MAX)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(tail, &data[data.len() - 5..]);
    let past = collect(
        h.store
            .get_range(&stored.id, u64::MAX - 1..u64::MAX)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(past.is_empty());
}

async fn digest_mismatch_on_read_is_detected(h: Harness) {
    let data = bytes(10_000, 5);
    let stored = h.store.put(data, "application/json", &[]).await.unwrap();
    (h.corrupt)(&stored.id);
    let err = collect(h.store.get(&stored.id).await.unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
}

async fn links_point_at_blobs(h: Harness) {
    let a = h.store.put(bytes(100, 6), "text/plain", &[]).await.unwrap();
    let b = h.store.put(bytes(100, 7), "text/plain", &[]).await.unwrap();
    assert_eq!(h.store.resolve("covers/r1").await.unwrap(), None);
    h.store.link("covers/r1", &a.id).await.unwrap();
    h.store.link("covers/r1", &a.id).await.unwrap();
    assert_eq!(
        h.store.resolve("covers/r1").await.unwrap(),
        Some(a.id.clone())
    );
    h.store.link("covers/r1", &b.id).await.unwrap();
    assert_eq!(h.store.resolve("covers/r1").await.unwrap(), Some(b.id));
    let missing = h.store.link("covers/r2", "no-such-blob").await;
    assert!(
        matches!(missing, Err(PortabilityError::NotFound { .. })),
        "{missing:?}"
    );
    assert!(matches!(
        h.store.link("", &a.id).await,
        Err(PortabilityError::InvalidInput(_))
    ));
}

async fn unknown_ids_are_not_found(h: Harness) {
    assert!(matches!(
        h.store.get("unknown").await,
        Err(PortabilityError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.head("unknown").await,
        Err(PortabilityError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.anchor("unknown").await,
        Err(PortabilityError::NotFound { .. })
    ));
}

macro_rules! suite {
    ($backend:ident) => {
        mod $backend {
            #[tokio::test]
            async fn put_then_get_and_head() {
                super::put_then_get_and_head(super::$backend().await).await
            }
            #[tokio::test]
            async fn identical_put_is_idempotent() {
                super::identical_put_is_idempotent(super::$backend().await).await
            }
            #[tokio::test]
            async fn streamed_put_and_range_reads() {
                super::streamed_put_and_range_reads(super::$backend().await).await
            }
            #[tokio::test]
            async fn digest_mismatch_on_read_is_detected() {
                super::digest_mismatch_on_read_is_detected(super::$backend().await).await
            }
            #[tokio::test]
            async fn links_point_at_blobs() {
                super::links_point_at_blobs(super::$backend().await).await
            }
            #[tokio::test]
            async fn unknown_ids_are_not_found() {
                super::unknown_ids_are_not_found(super::$backend().await).await
            }
        }
    };
}

suite!(local);
suite!(load);
suite!(irys);
suite!(failover_to_irys);
