//! The hot object store: streamed multipart writes, reads, ranges and deletes on local disk
//! (the default) and in memory; S3 URLs configure without contacting anything.

mod common;

use blob_store::HotStore;
use common::{bytes, collect};
use futures_util::StreamExt;
use portability::PortabilityError;

async fn round_trip(store: HotStore) {
    let data = bytes(20 * 1024 * 1024 + 3, 8);
    let chunks: Vec<_> = data
        .chunks(1 << 20)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let size = store
        .put_stream("photos/p1/raw", futures_util::stream::iter(chunks).boxed())
        .await
        .unwrap();
    assert_eq!(size, data.len() as u64);
    assert_eq!(store.size("photos/p1/raw").await.unwrap(), size);
    assert_eq!(
        collect(store.get("photos/p1/raw").await.unwrap())
            .await
            .unwrap(),
        data
    );
    assert_eq!(
        store.get_range("photos/p1/raw", 5..10).await.unwrap(),
        &data[5..10]
    );
    store
        .put("photos/p1/raw", bytes::Bytes::from_static(b"replaced"))
        .await
        .unwrap();
    assert_eq!(
        collect(store.get("photos/p1/raw").await.unwrap())
            .await
            .unwrap(),
        b"replaced"
    );
    store.delete("photos/p1/raw").await.unwrap();
    store.delete("photos/p1/raw").await.unwrap();
    assert!(matches!(
        store.get("photos/p1/raw").await,
        Err(PortabilityError::NotFound { .. })
    ));
    assert!(matches!(
        store.put("../escape", bytes::Bytes::new()).await,
        Err(PortabilityError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn local_disk_by_file_url() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("hot").display());
    round_trip(HotStore::open(&url).unwrap()).await;
    // A failed stream leaves nothing behind.
    let store = HotStore::open(&url).unwrap();
    let failing = futures_util::stream::iter(vec![
        Ok(bytes::Bytes::from_static(b"part")),
        Err(PortabilityError::Unavailable {
            server: "upstream".into(),
            message: "reset".into(),
        }),
    ])
    .boxed();
    assert!(store.put_stream("photos/p2/raw", failing).await.is_err());
    assert!(matches!(
        store.size("photos/p2/raw").await,
        Err(PortabilityError::NotFound { .. })
    ));
}

#[tokio::test]
async fn in_memory() {
    round_trip(HotStore::open("memory://").unwrap()).await;
}

#[test]
fn urls() {
    assert!(HotStore::open("s3://intermediates/photos").is_ok());
    assert!(matches!(
        HotStore::open("ftp://x"),
        Err(PortabilityError::InvalidInput(_))
    ));
    assert!(matches!(
        HotStore::open("not a url"),
        Err(PortabilityError::InvalidInput(_))
    ));
}
