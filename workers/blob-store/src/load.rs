//! The Load S3 agent, primary backend, called exactly as the original worker calls it:
//! `POST {agent}/upload` with `Authorization: Bearer {LOAD_S3_AGENT_API_KEY}` and multipart
//! parts `file` (file name from the `File-Name` tag, default `upload.bin`), `content_type` and
//! `tags` (JSON array of `{name, value}`, default `[]`); the id is the first non-empty string of
//! `id`, `dataitem_id`, `dataitemId`, `result.id`, `result.dataitem_id`, `result.dataitemId`.
//! Reads go through `{gateway}/resolve/{id}`; anchoring is `POST {agent}/post/{id}` (Arweave via
//! Turbo, free only up to 100 KB), then `HEAD {arweave}/{id}` for availability.
//!
//! The file part is streamed from the spooled file with its length, so memory stays flat.

use std::ops::Range;

use async_trait::async_trait;
use portability::{
    Anchor, BlobStream, BlobTag, LOAD_UPLOAD_FAILED, LOAD_UPLOAD_MISSING_ID, PortabilityError,
    Result,
};
use serde_json::Value;

use crate::arweave::ArweaveGateway;
use crate::http::{base, check, get_stream, transport};
use crate::index::BlobRecord;
use crate::spool::Spooled;
use crate::store::{BlobBackend, Uploaded};

/// Default agent URL.
pub const DEFAULT_AGENT_URL: &str = "https://load-s3-agent.load.network";
/// Default gateway URL.
pub const DEFAULT_GATEWAY_URL: &str = "https://gateway.s3-node-1.load.network";
/// The tag naming the multipart file; it is not sent as a tag.
pub use portability::FILE_NAME_TAG;
/// The error when no API key is configured (the original's text).
pub const KEY_MISSING: &str = "LOAD_S3_AGENT_API_KEY not configured";
/// Largest upload by default: 500 MiB, the original upload route's limit.
pub const DEFAULT_LOAD_MAX_SIZE: u64 = 500 << 20;
/// Largest anchor Turbo does for free: 100 KB.
pub const FREE_ANCHOR_MAX_SIZE: u64 = 100 * 1024;

/// Load agent settings.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// `LOAD_S3_AGENT_URL`.
    pub agent_url: String,
    /// `LOAD_GATEWAY_URL`.
    pub gateway_url: String,
    /// `LOAD_S3_AGENT_API_KEY`; `None` makes every put fail with [`KEY_MISSING`].
    pub api_key: Option<String>,
    /// `LOAD_MAX_BYTES`.
    pub max_size: u64,
    /// `LOAD_ANCHOR_MAX_BYTES`: larger anchors are refused (default: the free tier, 100 KB).
    pub anchor_max_size: u64,
}

impl LoadConfig {
    /// The production URLs, the given key and the default limits.
    pub fn new(api_key: Option<String>) -> Self {
        Self {
            agent_url: DEFAULT_AGENT_URL.to_owned(),
            gateway_url: DEFAULT_GATEWAY_URL.to_owned(),
            api_key,
            max_size: DEFAULT_LOAD_MAX_SIZE,
            anchor_max_size: FREE_ANCHOR_MAX_SIZE,
        }
    }
}

/// The upload id of a Load agent reply (see the module docs for the field order).
pub fn upload_id(payload: &Value) -> Option<String> {
    let keys = ["id", "dataitem_id", "dataitemId"];
    let top = keys.iter().map(|k| payload.get(k));
    let nested = keys
        .iter()
        .map(|k| payload.get("result").and_then(|r| r.get(k)));
    top.chain(nested)
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The Load S3 agent and its gateway.
#[derive(Clone)]
pub struct LoadAgent {
    http: reqwest::Client,
    config: LoadConfig,
    arweave: ArweaveGateway,
}

impl std::fmt::Debug for LoadAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadAgent")
            .field("agent_url", &self.config.agent_url)
            .field("gateway_url", &self.config.gateway_url)
            .finish_non_exhaustive()
    }
}

impl LoadAgent {
    /// An agent client (URLs trimmed of trailing slashes) anchoring to `arweave`.
    pub fn new(http: reqwest::Client, mut config: LoadConfig, arweave: ArweaveGateway) -> Self {
        config.agent_url = base(&config.agent_url);
        config.gateway_url = base(&config.gateway_url);
        Self {
            http,
            config,
            arweave,
        }
    }

    fn server(&self) -> String {
        format!("Load S3 agent at {}", self.config.agent_url)
    }

    fn key(&self) -> Result<&str> {
        self.config
            .api_key
            .as_deref()
            .ok_or_else(|| PortabilityError::InvalidInput(KEY_MISSING.to_owned()))
    }

    /// The gateway URL of `id`.
    pub fn gateway_url(&self, id: &str) -> String {
        format!("{}/resolve/{id}", self.config.gateway_url)
    }

    /// Uploads a spooled blob and returns its id (errors as documented on
    /// [`crate::http::check`]; a reply without id is a backend error).
    pub async fn upload_spooled(
        &self,
        blob: &Spooled,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<String> {
        let key = self.key()?;
        let file_name = tags
            .iter()
            .find(|t| t.name == FILE_NAME_TAG)
            .map_or("upload.bin", |t| t.value.as_str());
        let sent: Vec<Value> = tags
            .iter()
            .filter(|t| t.name != FILE_NAME_TAG)
            .map(|t| serde_json::json!({ "name": t.name, "value": t.value }))
            .collect();
        let body = reqwest::Body::wrap_stream(blob.stream().await?);
        let file = reqwest::multipart::Part::stream_with_length(body, blob.size)
            .file_name(file_name.to_owned())
            .mime_str(content_type)
            .map_err(|_| {
                PortabilityError::InvalidInput(format!("invalid content type {content_type:?}"))
            })?;
        let form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("content_type", content_type.to_owned())
            .text("tags", Value::Array(sent).to_string());
        let response = self
            .http
            .post(format!("{}/upload", self.config.agent_url))
            .bearer_auth(key)
            .multipart(form)
            .send()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        let response = check(response, "load", &self.server(), LOAD_UPLOAD_FAILED, None).await?;
        let text = response
            .text()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        let payload: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!({ "raw": text }));
        upload_id(&payload).ok_or_else(|| PortabilityError::Backend {
            backend: "load",
            message: format!("{LOAD_UPLOAD_MISSING_ID}:{payload}"),
        })
    }

    /// Whether the agent answers (`GET /`, then the legacy `/health`), as the original's
    /// health route probes it.
    pub async fn probe(&self) -> bool {
        for path in ["/", "/health"] {
            if let Ok(r) = self
                .http
                .get(format!("{}{path}", self.config.agent_url))
                .send()
                .await
                && r.status().is_success()
            {
                return true;
            }
        }
        false
    }
}

#[async_trait]
impl BlobBackend for LoadAgent {
    fn max_size(&self) -> u64 {
        self.config.max_size
    }

    async fn upload(
        &self,
        blob: Spooled,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<Uploaded> {
        let id = self.upload_spooled(&blob, content_type, tags).await?;
        Ok(Uploaded {
            gateway_url: self.gateway_url(&id),
            id,
            backend: "load".to_owned(),
        })
    }

    async fn read(&self, record: &BlobRecord, range: Option<Range<u64>>) -> Result<BlobStream> {
        let url = self.gateway_url(&record.id);
        let server = format!("Load gateway at {}", self.config.gateway_url);
        get_stream(&self.http, &url, range, "load", &server, &record.id).await
    }

    async fn anchor(&self, record: &BlobRecord) -> Result<Anchor> {
        if record.size > self.config.anchor_max_size {
            return Err(PortabilityError::InvalidInput(format!(
                "blob {} is {} bytes; Load anchors through Turbo for free only up to {} bytes. Raise LOAD_ANCHOR_MAX_BYTES once a paid Turbo path is configured on the agent",
                record.id, record.size, self.config.anchor_max_size
            )));
        }
        let key = self.key()?;
        let url = format!("{}/post/{}", self.config.agent_url, encode_path(&record.id));
        let response = self
            .http
            .post(url)
            .bearer_auth(key)
            .send()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        check(response, "load", &self.server(), "load_post_failed", None).await?;
        Ok(Anchor {
            arweave_url: self.arweave.url_of(&record.id),
            available: self.arweave.available(&record.id).await,
        })
    }
}

/// Percent-encodes an id for a URL path segment (ids are base64url, so this rarely changes
/// anything).
fn encode_path(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
