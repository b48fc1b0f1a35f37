//! The failover policy: Load outages (503, timeouts, refused connections) send puts to Irys and
//! say so; Load 4xx are errors without failover; the breaker opens after N outages, skips Load
//! during its cool-down, then probes Load and closes. Also Load's anchor limits and errors.
//!
//! Real clock: the fakes answer over real sockets from wiremock's own threads (their delays are
//! real time), and the breaker's cool-downs are a few hundred milliseconds of it.

mod common;

use std::time::Duration;

use blob_store::{BlobStore, BreakerConfig, FailoverBackend, LoadAgent, LoadConfig};
use common::{
    FakeIrys, FakeLoad, FakeLoadExt, LOAD_KEY, bytes, collect, dead_arweave, memory_index,
};
use portability::{ContentAddressedBlobStore, PortabilityError};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn store(
    load: LoadAgent,
    irys: &FakeIrys,
    breaker: BreakerConfig,
) -> BlobStore<FailoverBackend> {
    let backend = FailoverBackend::new(load, Some(irys.bundler(dead_arweave())), breaker);
    BlobStore::new(
        backend,
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    )
}

fn agent_at(server: &MockServer, read_timeout: Duration) -> LoadAgent {
    let mut config = LoadConfig::new(Some(LOAD_KEY.to_owned()));
    config.agent_url = server.uri();
    config.gateway_url = server.uri();
    LoadAgent::new(common::client(read_timeout), config, dead_arweave())
}

async fn load_answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

async fn upload_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/upload")
        .count()
}

#[tokio::test]
async fn load_503_fails_over_to_irys_and_says_so() {
    let load = load_answering(503, "Service Unavailable").await;
    let irys = FakeIrys::start().await;
    let store = store(
        agent_at(&load, Duration::from_secs(10)),
        &irys,
        BreakerConfig::default(),
    )
    .await;
    let data = bytes(4096, 1);
    let stored = store.put(data.clone(), "image/png", &[]).await.unwrap();
    assert_eq!(stored.backend, "irys");
    assert!(irys.blobs.lock().unwrap().contains_key(&stored.id));
    assert_eq!(
        collect(store.get(&stored.id).await.unwrap()).await.unwrap(),
        data
    );
    assert_eq!(upload_requests(&load).await, 1);
}

#[tokio::test]
async fn load_timeout_fails_over_to_irys() {
    let load = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "late"}))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&load)
        .await;
    let irys = FakeIrys::start().await;
    let store = store(
        agent_at(&load, Duration::from_millis(300)),
        &irys,
        BreakerConfig::default(),
    )
    .await;
    let stored = store.put(bytes(1000, 2), "audio/mpeg", &[]).await.unwrap();
    assert_eq!(stored.backend, "irys");
    assert_eq!(irys.blobs.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn load_401_is_an_error_without_failover() {
    let fake = FakeLoad::start().await;
    let irys = FakeIrys::start().await;
    let store = store(
        fake.agent(Some("wrong-key"), dead_arweave()),
        &irys,
        BreakerConfig::default(),
    )
    .await;
    let err = store
        .put(bytes(100, 3), "image/png", &[])
        .await
        .unwrap_err();
    match &err {
        PortabilityError::Backend {
            backend: "load",
            message,
        } => {
            assert!(message.starts_with("load_upload_failed:401:"), "{message}");
            assert!(message.contains("Unauthorized"), "{message}");
        }
        other => panic!("expected a Load backend error, got {other:?}"),
    }
    assert!(irys.blobs.lock().unwrap().is_empty(), "no failover on 4xx");
}

#[tokio::test]
async fn load_413_is_an_error_without_failover() {
    let load = load_answering(413, r#"{"error":"File too large"}"#).await;
    let irys = FakeIrys::start().await;
    let store = store(
        agent_at(&load, Duration::from_secs(10)),
        &irys,
        BreakerConfig::default(),
    )
    .await;
    let err = store
        .put(bytes(100, 4), "image/png", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("load_upload_failed:413:"), "{err}");
    assert!(irys.blobs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn missing_key_is_the_originals_error() {
    let fake = FakeLoad::start().await;
    let store = BlobStore::new(
        fake.agent(None, dead_arweave()),
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let err = store.put(bytes(10, 5), "image/png", &[]).await.unwrap_err();
    assert!(
        matches!(&err, PortabilityError::InvalidInput(m) if m == "LOAD_S3_AGENT_API_KEY not configured"),
        "{err:?}"
    );
}

#[tokio::test]
async fn breaker_opens_after_n_outages_and_closes_after_a_good_probe() {
    let load = MockServer::start().await;
    let outage = Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount_as_scoped(&load)
        .await;
    let irys = FakeIrys::start().await;
    let breaker = BreakerConfig {
        threshold: 2,
        cooldown: Duration::from_millis(400),
    };
    let store = store(agent_at(&load, Duration::from_secs(10)), &irys, breaker).await;
    for seed in 0..2 {
        assert_eq!(
            store
                .put(bytes(100, 10 + seed), "a/b", &[])
                .await
                .unwrap()
                .backend,
            "irys"
        );
    }
    assert!(store.backend().breaker().is_open());
    assert_eq!(
        store.put(bytes(100, 20), "a/b", &[]).await.unwrap().backend,
        "irys"
    );
    assert_eq!(
        upload_requests(&load).await,
        2,
        "an open breaker skips Load"
    );
    drop(outage);
    Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "load-id-1"})),
        )
        .mount(&load)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let probe = store.put(bytes(100, 21), "a/b", &[]).await.unwrap();
    assert_eq!(probe.backend, "load");
    assert_eq!(probe.id, "load-id-1");
    assert!(!store.backend().breaker().is_open());
}

#[tokio::test]
async fn failed_probe_reopens_the_breaker() {
    let load = load_answering(503, "down").await;
    let irys = FakeIrys::start().await;
    let breaker = BreakerConfig {
        threshold: 1,
        cooldown: Duration::from_millis(200),
    };
    let store = store(agent_at(&load, Duration::from_secs(10)), &irys, breaker).await;
    store.put(bytes(10, 30), "a/b", &[]).await.unwrap();
    assert!(store.backend().breaker().is_open());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        store.put(bytes(10, 31), "a/b", &[]).await.unwrap().backend,
        "irys"
    );
    assert_eq!(upload_requests(&load).await, 2, "the probe tried Load");
    assert_eq!(
        store.put(bytes(10, 32), "a/b", &[]).await.unwrap().backend,
        "irys"
    );
    assert_eq!(
        upload_requests(&load).await,
        2,
        "reopened after the failed probe"
    );
}

#[tokio::test]
async fn irys_errors_carry_their_body() {
    let load = load_answering(503, "down").await;
    let irys = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tx/ethereum"))
        .respond_with(
            ResponseTemplate::new(402).set_body_string("Not enough balance for transaction"),
        )
        .mount(&irys)
        .await;
    let config = blob_store::IrysConfig {
        node_url: irys.uri(),
        gateway_url: irys.uri(),
        ..Default::default()
    };
    let signer = blob_store::ans104::EthereumSigner::from_hex(common::IRYS_KEY).unwrap();
    let bundler = blob_store::IrysBundler::new(common::http(), config, signer, dead_arweave());
    let backend = FailoverBackend::new(
        agent_at(&load, Duration::from_secs(10)),
        Some(bundler),
        BreakerConfig::default(),
    );
    let store = BlobStore::new(
        backend,
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let err = store.put(bytes(10, 40), "a/b", &[]).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("irys_upload_failed:402:Not enough balance for transaction"),
        "{err}"
    );
}

#[tokio::test]
async fn load_sends_the_originals_multipart_and_anchors_small_blobs() {
    let fake = FakeLoad::start().await;
    let store = BlobStore::new(
        fake.agent(Some(LOAD_KEY), dead_arweave()),
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let tags = [
        portability::BlobTag {
            name: "File-Name".into(),
            value: "cover.png".into(),
        },
        portability::BlobTag {
            name: "App-Name".into(),
            value: "Heaven".into(),
        },
    ];
    let stored = store
        .put(bytes(1000, 50), "image/png", &tags)
        .await
        .unwrap();
    assert_eq!(
        stored.gateway_url,
        format!("{}/resolve/{}", fake.server.uri(), stored.id)
    );
    let parts = fake.requests.lock().unwrap()[0].clone();
    let names: Vec<_> = parts.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["file", "content_type", "tags"]);
    assert_eq!(parts[0].1.as_deref(), Some("cover.png"));
    assert_eq!(parts[0].2.as_deref(), Some("image/png"));
    assert_eq!(parts[1].3, b"image/png");
    assert_eq!(
        String::from_utf8(parts[2].3.clone()).unwrap(),
        r#"[{"name":"App-Name","value":"Heaven"}]"#
    );
    let anchor = store.anchor(&stored.id).await.unwrap();
    assert_eq!(
        anchor.arweave_url,
        format!("http://127.0.0.1:9/{}", stored.id)
    );
    assert!(!anchor.available);
    let posts = fake.server.received_requests().await.unwrap();
    let post = posts
        .iter()
        .find(|r| r.url.path().starts_with("/post/"))
        .unwrap();
    assert_eq!(post.url.path(), format!("/post/{}", stored.id));
    assert_eq!(
        post.headers.get("authorization").unwrap(),
        &format!("Bearer {LOAD_KEY}")
    );
}

#[tokio::test]
async fn load_refuses_anchors_over_the_free_tier() {
    let fake = FakeLoad::start().await;
    let store = BlobStore::new(
        fake.agent(Some(LOAD_KEY), dead_arweave()),
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let stored = store
        .put(bytes(100 * 1024 + 1, 60), "audio/mpeg", &[])
        .await
        .unwrap();
    let err = store.anchor(&stored.id).await.unwrap_err();
    assert!(
        err.to_string().contains("free only up to 102400 bytes"),
        "{err}"
    );
    let posted = fake
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.url.path().starts_with("/post/"));
    assert!(!posted, "nothing was posted");
}

#[tokio::test]
async fn size_limit_is_enforced_before_upload() {
    let fake = FakeLoad::start().await;
    let mut config = LoadConfig::new(Some(LOAD_KEY.to_owned()));
    config.agent_url = fake.server.uri();
    config.max_size = 1000;
    let agent = LoadAgent::new(common::http(), config, dead_arweave());
    let store = BlobStore::new(
        agent,
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let err = store.put(bytes(1001, 70), "a/b", &[]).await.unwrap_err();
    assert!(
        matches!(&err, PortabilityError::InvalidInput(m) if m.contains("more than 1000 bytes")),
        "{err:?}"
    );
    assert_eq!(upload_requests(&fake.server).await, 0);
}
