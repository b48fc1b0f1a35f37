//! Irys, the fallback bundler (same Arweave destination, other upload path): data items are
//! signed here ([`ans104`](crate::ans104), Ethereum signature type) and sent as
//! `POST {node}/tx/{token}` with `Content-Type: application/octet-stream`. Irys replies JSON
//! with the item's `id`; errors are plain-text bodies (e.g. 402 `Not enough balance for
//! transaction`). Reads go through `{gateway}/{id}`; Irys bundles to Arweave itself, so
//! anchoring only reports whether Arweave serves the id yet.
//!
//! The data is hashed in one pass over the spooled file, then the header and the file are
//! streamed, so memory stays flat.

use std::ops::Range;

use async_trait::async_trait;
use futures_util::StreamExt;
use portability::{Anchor, BlobStream, BlobTag, PortabilityError, Result};

use crate::ans104::{DataHasher, EthereumSigner};
use crate::arweave::ArweaveGateway;
use crate::http::{base, check, get_stream, transport};
use crate::index::BlobRecord;
use crate::spool::Spooled;
use crate::store::{BlobBackend, Uploaded};

/// Default upload node.
pub const DEFAULT_IRYS_NODE_URL: &str = "https://uploader.irys.xyz";
/// Default read gateway.
pub const DEFAULT_IRYS_GATEWAY_URL: &str = "https://gateway.irys.xyz";
/// Default payment token (the key is an Ethereum key).
pub const DEFAULT_IRYS_TOKEN: &str = "ethereum";
/// Default largest upload: 500 MiB, as Load.
pub const DEFAULT_IRYS_MAX_SIZE: u64 = 500 << 20;

/// Irys settings.
#[derive(Debug, Clone)]
pub struct IrysConfig {
    /// `IRYS_NODE_URL`.
    pub node_url: String,
    /// `IRYS_GATEWAY_URL`.
    pub gateway_url: String,
    /// `IRYS_TOKEN`.
    pub token: String,
    /// `IRYS_MAX_BYTES`.
    pub max_size: u64,
}

impl Default for IrysConfig {
    fn default() -> Self {
        Self {
            node_url: DEFAULT_IRYS_NODE_URL.to_owned(),
            gateway_url: DEFAULT_IRYS_GATEWAY_URL.to_owned(),
            token: DEFAULT_IRYS_TOKEN.to_owned(),
            max_size: DEFAULT_IRYS_MAX_SIZE,
        }
    }
}

/// An Irys bundler client with its signing key.
#[derive(Clone)]
pub struct IrysBundler {
    http: reqwest::Client,
    config: IrysConfig,
    signer: EthereumSigner,
    arweave: ArweaveGateway,
}

impl std::fmt::Debug for IrysBundler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IrysBundler")
            .field("node_url", &self.config.node_url)
            .finish_non_exhaustive()
    }
}

impl IrysBundler {
    /// A client uploading to `config.node_url` signed by `signer`.
    pub fn new(
        http: reqwest::Client,
        mut config: IrysConfig,
        signer: EthereumSigner,
        arweave: ArweaveGateway,
    ) -> Self {
        config.node_url = base(&config.node_url);
        config.gateway_url = base(&config.gateway_url);
        Self {
            http,
            config,
            signer,
            arweave,
        }
    }

    fn server(&self) -> String {
        format!("Irys node at {}", self.config.node_url)
    }
}

#[async_trait]
impl BlobBackend for IrysBundler {
    fn max_size(&self) -> u64 {
        self.config.max_size
    }

    async fn upload(
        &self,
        blob: Spooled,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<Uploaded> {
        let mut hasher = DataHasher::new();
        let mut data = blob.stream().await?;
        while let Some(chunk) = data.next().await {
            hasher.update(&chunk?);
        }
        let mut item_tags = vec![BlobTag {
            name: "Content-Type".to_owned(),
            value: content_type.to_owned(),
        }];
        item_tags.extend(tags.iter().filter(|t| t.name != "Content-Type").cloned());
        let header = self.signer.sign(&item_tags, None, hasher.finish())?;
        let id = header.id();
        let head = header.to_bytes();
        let length = head.len() as u64 + blob.size;
        let body = futures_util::stream::once(async move { Ok(bytes::Bytes::from(head)) })
            .chain(blob.stream().await?);
        let response = self
            .http
            .post(format!("{}/tx/{}", self.config.node_url, self.config.token))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, length)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        let response = check(response, "irys", &self.server(), "irys_upload_failed", None).await?;
        let reply: serde_json::Value = response
            .json()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        match reply.get("id").and_then(serde_json::Value::as_str) {
            Some(got) if got == id => {}
            other => {
                return Err(PortabilityError::Backend {
                    backend: "irys",
                    message: format!("Irys answered id {other:?} for data item {id}: {reply}"),
                });
            }
        }
        Ok(Uploaded {
            gateway_url: format!("{}/{id}", self.config.gateway_url),
            id,
            backend: "irys".to_owned(),
        })
    }

    async fn read(&self, record: &BlobRecord, range: Option<Range<u64>>) -> Result<BlobStream> {
        let url = format!("{}/{}", self.config.gateway_url, record.id);
        let server = format!("Irys gateway at {}", self.config.gateway_url);
        get_stream(&self.http, &url, range, "irys", &server, &record.id).await
    }

    async fn anchor(&self, record: &BlobRecord) -> Result<Anchor> {
        Ok(Anchor {
            arweave_url: self.arweave.url_of(&record.id),
            available: self.arweave.available(&record.id).await,
        })
    }
}
