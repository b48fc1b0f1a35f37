//! Test fakes: a Load S3 agent + gateway and an Irys node + gateway on `wiremock` servers that
//! answer like the documented APIs (multipart upload with Bearer key and JSON id; ANS-104
//! items that must parse and verify; the plain-text and JSON error bodies), and helpers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blob_store::ans104::{DataItemHeader, EthereumSigner};
use blob_store::testing::Gateway;
#[allow(unused_imports)] // each suite uses a different part
pub use blob_store::testing::{Blobs, FakeLoad, LOAD_KEY};
use blob_store::{ArweaveGateway, BlobIndex, IrysBundler, IrysConfig, LoadAgent};
use bytes::Bytes;
use futures_util::StreamExt;
use portability::{BlobStream, SqliteStateStore};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A fixed Irys signing key (a test key, holds nothing).
pub const IRYS_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

/// Collects a stream.
pub async fn collect(mut stream: BlobStream) -> portability::Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// An index over a fresh in-memory SQLite state store.
pub async fn memory_index() -> BlobIndex {
    BlobIndex::new(Arc::new(SqliteStateStore::open_in_memory().await.unwrap()))
}

/// A client with generous timeouts (debug builds verify signatures slowly).
pub fn http() -> reqwest::Client {
    client(Duration::from_secs(20))
}

/// A client whose reads time out after `read_timeout`.
pub fn client(read_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(read_timeout)
        .build()
        .unwrap()
}

impl FakeLoadExt for FakeLoad {
    fn agent(&self, key: Option<&str>, arweave: ArweaveGateway) -> LoadAgent {
        self.agent_with(http(), key, arweave)
    }
}

/// The blob store's suites build their Load client with [`http`].
pub trait FakeLoadExt {
    /// A Load client for the fake, anchoring to `arweave`.
    fn agent(&self, key: Option<&str>, arweave: ArweaveGateway) -> LoadAgent;
}

struct IrysUpload {
    blobs: Blobs,
    items: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Respond for IrysUpload {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok((header, offset)) = DataItemHeader::parse(&request.body) else {
            return ResponseTemplate::new(400).set_body_string("Invalid Data Item");
        };
        let data = &request.body[offset..];
        if header.verify(data).is_err() {
            return ResponseTemplate::new(400).set_body_string("Invalid Data Item");
        }
        let id = header.id();
        let ct = header
            .tags
            .iter()
            .find(|t| t.name == "Content-Type")
            .map(|t| t.value.clone())
            .unwrap_or_default();
        self.blobs
            .lock()
            .unwrap()
            .insert(id.clone(), (data.to_vec(), ct));
        self.items
            .lock()
            .unwrap()
            .insert(id.clone(), request.body.clone());
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": id, "timestamp": 1_700_000_000_000u64, "version": "1.0.0", "public": "", "signature": "", "deadlineHeight": 1
        }))
    }
}

/// A fake Irys node and gateway on one server.
pub struct FakeIrys {
    /// The server.
    pub server: MockServer,
    /// The verified items' data by id.
    pub blobs: Blobs,
    /// The whole items as received, by id.
    pub items: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl FakeIrys {
    /// Starts it: `POST /tx/ethereum` takes ANS-104 items that parse and verify, `GET /{id}`
    /// serves their data.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let blobs: Blobs = Arc::default();
        let items: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        Mock::given(method("POST"))
            .and(path("/tx/ethereum"))
            .respond_with(IrysUpload {
                blobs: blobs.clone(),
                items: Arc::clone(&items),
            })
            .with_priority(5)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(Gateway {
                blobs: blobs.clone(),
                prefix: "/",
            })
            .with_priority(10)
            .mount(&server)
            .await;
        Self {
            server,
            blobs,
            items,
        }
    }

    /// An Irys client for it.
    pub fn bundler(&self, arweave: ArweaveGateway) -> IrysBundler {
        let config = IrysConfig {
            node_url: self.server.uri(),
            gateway_url: self.server.uri(),
            ..IrysConfig::default()
        };
        IrysBundler::new(
            http(),
            config,
            EthereumSigner::from_hex(IRYS_KEY).unwrap(),
            arweave,
        )
    }
}

/// A gateway URL nothing listens on.
pub fn dead_arweave() -> ArweaveGateway {
    ArweaveGateway::new(http(), "http://127.0.0.1:9")
}

/// `n` pseudo-random bytes.
pub fn bytes(n: usize, seed: u8) -> Bytes {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect::<Vec<_>>()
        .into()
}
