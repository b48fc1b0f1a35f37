//! Arweave, read side: the gateway's `GET /{tx}` (bytes), `HEAD /{tx}` (whether the bytes are
//! served: the original's `arweaveAvailable`), `GET /tx/{id}/status` (confirmations) and the
//! GraphQL lookup of transactions by tag.

use std::ops::Range;

use portability::{BlobStream, PortabilityError, Result};
use serde_json::json;

use crate::http::{base, check, get_stream, transport};

/// The default gateway.
pub const DEFAULT_ARWEAVE_URL: &str = "https://arweave.net";

/// Confirmation status of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// Unknown to the gateway.
    NotFound,
    /// Received, not mined yet.
    Pending,
    /// Mined, with this many confirmations.
    Confirmed {
        /// Block height it was mined in.
        block_height: u64,
        /// Confirmations so far.
        confirmations: u64,
    },
}

/// An Arweave gateway.
#[derive(Debug, Clone)]
pub struct ArweaveGateway {
    http: reqwest::Client,
    url: String,
}

impl ArweaveGateway {
    /// A gateway at `url` (trailing slashes trimmed).
    pub fn new(http: reqwest::Client, url: &str) -> Self {
        Self {
            http,
            url: base(url),
        }
    }

    fn server(&self) -> String {
        format!("Arweave gateway at {}", self.url)
    }

    /// The permanent URL of `id`.
    pub fn url_of(&self, id: &str) -> String {
        format!("{}/{id}", self.url)
    }

    /// Whether the gateway serves `id` now (`HEAD /{id}` is 2xx; network errors count as no).
    pub async fn available(&self, id: &str) -> bool {
        match self.http.head(self.url_of(id)).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    }

    /// Streams the bytes of `id` (or `range` of them).
    pub async fn get(&self, id: &str, range: Option<Range<u64>>) -> Result<BlobStream> {
        get_stream(
            &self.http,
            &self.url_of(id),
            range,
            "arweave",
            &self.server(),
            id,
        )
        .await
    }

    /// `GET /tx/{id}/status`: 200 with `block_height` and `number_of_confirmations`, 202
    /// pending, 404 unknown.
    pub async fn status(&self, id: &str) -> Result<TxStatus> {
        let url = format!("{}/tx/{id}/status", self.url);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        match response.status().as_u16() {
            404 => return Ok(TxStatus::NotFound),
            202 => return Ok(TxStatus::Pending),
            _ => {}
        }
        let response = check(response, "arweave", &self.server(), "status_failed", None).await?;
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        let field = |name: &str| body.get(name).and_then(serde_json::Value::as_u64);
        match (field("block_height"), field("number_of_confirmations")) {
            (Some(block_height), Some(confirmations)) => Ok(TxStatus::Confirmed {
                block_height,
                confirmations,
            }),
            _ => Err(PortabilityError::Encoding(format!(
                "unexpected status body from {url}: {body}"
            ))),
        }
    }

    /// Ids of transactions carrying tag `name` = `value` (newest first, at most 100), via
    /// `POST /graphql`.
    pub async fn find_by_tag(&self, name: &str, value: &str) -> Result<Vec<String>> {
        let query = "query($name: String!, $values: [String!]!) { transactions(first: 100, tags: [{name: $name, values: $values}]) { edges { node { id } } } }";
        let body = json!({ "query": query, "variables": { "name": name, "values": [value] } });
        let url = format!("{}/graphql", self.url);
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        let response = check(response, "arweave", &self.server(), "graphql_failed", None).await?;
        let reply: serde_json::Value = response
            .json()
            .await
            .map_err(|e| transport(&self.server(), e))?;
        let edges = reply
            .pointer("/data/transactions/edges")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| {
                PortabilityError::Encoding(format!("unexpected GraphQL reply: {reply}"))
            })?;
        Ok(edges
            .iter()
            .filter_map(|e| e.pointer("/node/id").and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .collect())
    }
}
