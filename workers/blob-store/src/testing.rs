//! Test fakes shared by every crate that talks to Load (feature `test-support`): the Load S3
//! agent and its gateway on a `wiremock` server, answering at the agent's documented shape
//! (multipart `POST /upload` with the Bearer key, a JSON reply carrying `dataitem_id`;
//! `POST /post/{id}`; `GET /resolve/{id}` with ranges; `GET /` for the health probe).
//!
//! One copy for the blob store's own suites and the workers' (media) suites.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::{ArweaveGateway, LoadAgent, LoadConfig};

/// The API key the fake Load agent accepts.
pub const LOAD_KEY: &str = "test-load-key";

/// One multipart part: name, file name, content type, body.
pub type Part = (String, Option<String>, Option<String>, Vec<u8>);

/// Stored bytes (and content type) by id, shared by an upload fake and its gateway.
pub type Blobs = Arc<Mutex<HashMap<String, (Vec<u8>, String)>>>;

/// Minimal multipart/form-data parser: (name, filename, content type, body) per part.
pub fn parse_multipart(request: &Request) -> Vec<Part> {
    let ct = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = ct.split("boundary=").nth(1) else {
        return Vec::new();
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let body = &request.body;
    let mut parts = Vec::new();
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let Some(first) = find(body, delimiter.as_bytes(), 0) else {
        return parts;
    };
    let mut pos = first + delimiter.len();
    while body.get(pos..pos + 2) == Some(b"\r\n".as_slice()) {
        let Some(headers_end) = find(body, b"\r\n\r\n", pos) else {
            break;
        };
        let headers = String::from_utf8_lossy(&body[pos + 2..headers_end]).to_string();
        let Some(next) = find(body, format!("\r\n{delimiter}").as_bytes(), headers_end) else {
            break;
        };
        let content = body[headers_end + 4..next].to_vec();
        let attr = |key: &str| {
            headers
                .split(&format!("{key}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(str::to_owned)
        };
        let part_ct = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned());
        parts.push((
            attr(" name").unwrap_or_default(),
            attr("filename"),
            part_ct,
            content,
        ));
        pos = next + 2 + delimiter.len();
    }
    parts
}

struct LoadUpload {
    blobs: Blobs,
    requests: Arc<Mutex<Vec<Vec<Part>>>>,
    delay: Arc<Mutex<Duration>>,
}

impl Respond for LoadUpload {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if auth.as_deref() != Some(&format!("Bearer {LOAD_KEY}")) {
            return ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "Unauthorized"}));
        }
        let parts = parse_multipart(request);
        let Some(file) = parts.iter().find(|p| p.0 == "file").map(|p| p.3.clone()) else {
            return ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"error": "file is required"}));
        };
        let ct = parts
            .iter()
            .find(|p| p.0 == "content_type")
            .map(|p| String::from_utf8_lossy(&p.3).into_owned())
            .unwrap_or_default();
        let mut blobs = self.blobs.lock().expect("fake Load lock");
        let id = format!("load{:040}", blobs.len() + 1);
        blobs.insert(id.clone(), (file, ct));
        self.requests.lock().expect("fake Load lock").push(parts);
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"success": true, "dataitem_id": id}))
            .set_delay(*self.delay.lock().expect("fake Load lock"))
    }
}

/// Accepts anchors (`POST /post/{id}`), after the configured delay.
struct LoadPost {
    delay: Arc<Mutex<Duration>>,
}

impl Respond for LoadPost {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"success": true}))
            .set_delay(*self.delay.lock().expect("fake Load lock"))
    }
}

/// Serves stored blobs at `{prefix}{id}`, honouring `Range: bytes=a-b`.
pub struct Gateway {
    /// The blobs served.
    pub blobs: Blobs,
    /// The path prefix in front of the id.
    pub prefix: &'static str,
}

impl Respond for Gateway {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().trim_start_matches(self.prefix);
        let Some((bytes, ct)) = self
            .blobs
            .lock()
            .expect("fake gateway lock")
            .get(id)
            .cloned()
        else {
            return ResponseTemplate::new(404).set_body_string("Not Found");
        };
        if let Some(range) = request.headers.get("range").and_then(|r| r.to_str().ok()) {
            let spec = range.trim_start_matches("bytes=");
            if let Some((a, b)) = spec.split_once('-')
                && let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>())
            {
                let b = b.min(bytes.len().saturating_sub(1));
                return ResponseTemplate::new(206)
                    .insert_header("content-range", format!("bytes {a}-{b}/{}", bytes.len()))
                    .set_body_raw(bytes[a..=b].to_vec(), &ct);
            }
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
    upload_delay: Arc<Mutex<Duration>>,
    post_delay: Arc<Mutex<Duration>>,
}

impl FakeLoad {
    /// Starts it: `/upload` answers like the agent, `/post/{id}` accepts anchors,
    /// `/resolve/{id}` serves, `GET /` answers the health probe.
    pub async fn start() -> Self {
        Self::start_on(MockServer::start().await).await
    }

    /// The same on a server the caller built (e.g. on a fixed listener, to survive a
    /// restart of the process under test).
    pub async fn start_on(server: MockServer) -> Self {
        let blobs: Blobs = Arc::default();
        let requests = Arc::default();
        let upload_delay: Arc<Mutex<Duration>> = Arc::default();
        let post_delay: Arc<Mutex<Duration>> = Arc::default();
        Mock::given(method("POST"))
            .and(path("/upload"))
            .respond_with(LoadUpload {
                blobs: blobs.clone(),
                requests: Arc::clone(&requests),
                delay: Arc::clone(&upload_delay),
            })
            .with_priority(5)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex("^/post/"))
            .respond_with(LoadPost {
                delay: Arc::clone(&post_delay),
            })
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
        Mock::given(method("GET"))
            .and(path("/"))
            .respond_with(ResponseTemplate::new(200).set_body_string("load-s3-agent"))
            .with_priority(5)
            .mount(&server)
            .await;
        Self {
            server,
            blobs,
            requests,
            upload_delay,
            post_delay,
        }
    }

    /// Answers every later upload after `delay` (uploads in flight together).
    pub fn set_upload_delay(&self, delay: Duration) {
        *self.upload_delay.lock().expect("fake Load lock") = delay;
    }

    /// Answers every later anchor (`POST /post/{id}`) after `delay`: an hour makes an anchor
    /// hang while the process under test is killed; zero answers at once again.
    pub fn set_post_delay(&self, delay: Duration) {
        *self.post_delay.lock().expect("fake Load lock") = delay;
    }

    /// How many uploads it accepted.
    pub fn upload_count(&self) -> usize {
        self.requests.lock().expect("fake Load lock").len()
    }

    /// How many anchors (`POST /post/{id}`) it received, hanging ones included.
    pub async fn post_count(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == "POST" && r.url.path().starts_with("/post/"))
            .count()
    }

    /// A Load client for it (with `http`), anchoring to `arweave`.
    pub fn agent_with(
        &self,
        http: reqwest::Client,
        key: Option<&str>,
        arweave: ArweaveGateway,
    ) -> LoadAgent {
        let mut config = LoadConfig::new(key.map(str::to_owned));
        config.agent_url = format!("{}/", self.server.uri());
        config.gateway_url = self.server.uri();
        LoadAgent::new(http, config, arweave)
    }
}
