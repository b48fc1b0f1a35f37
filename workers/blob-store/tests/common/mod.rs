//! Test fakes: a Load S3 agent + gateway and an Irys node + gateway on `wiremock` servers that
//! answer like the documented APIs (multipart upload with Bearer key and JSON id; ANS-104
//! items that must parse and verify; the plain-text and JSON error bodies), and helpers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blob_store::ans104::{DataItemHeader, EthereumSigner};
use blob_store::{ArweaveGateway, BlobIndex, IrysBundler, IrysConfig, LoadAgent, LoadConfig};
use bytes::Bytes;
use futures_util::StreamExt;
use portability::{BlobStream, SqliteStateStore};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API key the fake Load agent accepts.
pub const LOAD_KEY: &str = "test-load-key";
/// A fixed Irys signing key (a test key, holds nothing).
pub const IRYS_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

/// One multipart part: name, file name, content type, body.
pub type Part = (String, Option<String>, Option<String>, Vec<u8>);

/// Stored bytes by id, shared by an upload fake and its gateway.
pub type Blobs = Arc<Mutex<HashMap<String, (Vec<u8>, String)>>>;

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

/// Minimal multipart/form-data parser: (name, filename, content type, body) per part.
pub fn parse_multipart(request: &Request) -> Vec<Part> {
    let ct = request
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    let boundary = ct.split("boundary=").nth(1).unwrap().trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut parts = Vec::new();
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut pos = find(body, delimiter.as_bytes(), 0).unwrap() + delimiter.len();
    while &body[pos..pos + 2] == b"\r\n" {
        let headers_end = find(body, b"\r\n\r\n", pos).unwrap();
        let headers = String::from_utf8_lossy(&body[pos + 2..headers_end]).to_string();
        let next = find(body, format!("\r\n{delimiter}").as_bytes(), headers_end).unwrap();
        let content = body[headers_end + 4..next].to_vec();
        let attr = |key: &str| {
            headers
                .split(&format!("{key}=\""))
                .nth(1)
                .map(|s| s.split('"').next().unwrap().to_owned())
        };
        let part_ct = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))
            .map(|l| l.split_once(':').unwrap().1.trim().to_owned());
        parts.push((attr(" name").unwrap(), attr("filename"), part_ct, content));
        pos = next + 2 + delimiter.len();
    }
    parts
}

struct LoadUpload {
    blobs: Blobs,
    requests: Arc<Mutex<Vec<Vec<Part>>>>,
}

impl Respond for LoadUpload {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        if auth.as_deref() != Some(&format!("Bearer {LOAD_KEY}")) {
            return ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "Unauthorized"}));
        }
        let parts = parse_multipart(request);
        let file = parts.iter().find(|p| p.0 == "file").unwrap().3.clone();
        let ct = parts
            .iter()
            .find(|p| p.0 == "content_type")
            .map(|p| String::from_utf8(p.3.clone()).unwrap())
            .unwrap_or_default();
        let mut blobs = self.blobs.lock().unwrap();
        let id = format!("load{:040}", blobs.len() + 1);
        blobs.insert(id.clone(), (file, ct));
        self.requests.lock().unwrap().push(parts);
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"success": true, "dataitem_id": id}))
    }
}

/// Serves stored blobs at `{prefix}{id}`, honouring `Range: bytes=a-b`.
struct Gateway {
    blobs: Blobs,
    prefix: &'static str,
}

impl Respond for Gateway {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().trim_start_matches(self.prefix);
        let Some((bytes, ct)) = self.blobs.lock().unwrap().get(id).cloned() else {
            return ResponseTemplate::new(404).set_body_string("Not Found");
        };
        if let Some(range) = request.headers.get("range") {
            let spec = range.to_str().unwrap().trim_start_matches("bytes=");
            let (a, b) = spec.split_once('-').unwrap();
            let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
            let b = b.min(bytes.len() - 1);
            return ResponseTemplate::new(206)
                .insert_header("content-range", format!("bytes {a}-{b}/{}", bytes.len()))
                .set_body_raw(bytes[a..=b].to_vec(), &ct);
        }
        ResponseTemplate::new(200).set_body_raw(bytes, &ct)
    }
}

/// A fake Load agent and gateway on one server.
pub struct FakeLoad {
    /// The server.
    pub server: MockServer,
    /// What it stores.
    pub blobs: Blobs,
    /// Every accepted upload's parts.
    pub requests: Arc<Mutex<Vec<Vec<Part>>>>,
}

impl FakeLoad {
    /// Starts it; `/upload` answers like the agent, `/post/{id}` accepts anchors,
    /// `/resolve/{id}` serves.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let blobs: Blobs = Arc::default();
        let requests = Arc::default();
        Mock::given(method("POST"))
            .and(path("/upload"))
            .respond_with(LoadUpload {
                blobs: blobs.clone(),
                requests: Arc::clone(&requests),
            })
            .with_priority(5)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex("^/post/"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"success": true})),
            )
            .with_priority(5)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("^/resolve/"))
            .respond_with(Gateway {
                blobs: blobs.clone(),
                prefix: "/resolve/",
            })
            .with_priority(5)
            .mount(&server)
            .await;
        Self {
            server,
            blobs,
            requests,
        }
    }

    /// A Load client for it, anchoring to `arweave`.
    pub fn agent(&self, key: Option<&str>, arweave: ArweaveGateway) -> LoadAgent {
        let mut config = LoadConfig::new(key.map(str::to_owned));
        config.agent_url = format!("{}/", self.server.uri());
        config.gateway_url = self.server.uri();
        LoadAgent::new(http(), config, arweave)
    }
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
