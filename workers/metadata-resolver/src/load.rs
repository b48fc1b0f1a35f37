//! The Load S3 agent as a [`ContentAddressedBlobStore`]: `put` uploads exactly as the original
//! worker does (`POST {agent}/upload`, `Authorization: Bearer LOAD_S3_AGENT_API_KEY`,
//! multipart part `file` plus text part `content_type`), and answers the data-item id with its
//! gateway URL `{gateway}/resolve/{id}`.
//!
//! Only `put` is here, because rehosting needs nothing else; the full store (anchoring, reads,
//! durable links, Irys and Arweave fallbacks, local disk) arrives with issue #7, and the other
//! methods say so.

use async_trait::async_trait;
use bytes::Bytes;
use portability::{
    Anchor, BlobHead, BlobStream, BlobTag, ContentAddressedBlobStore, PortabilityError, StoredBlob,
};

use crate::config::LoadConfig;
use crate::json::Json;

/// A tag that is not stored but names the multipart file (default `upload.bin`).
pub const FILE_NAME_TAG: &str = "File-Name";

/// The error text when no API key is configured (the original's).
pub const KEY_MISSING: &str = "LOAD_S3_AGENT_API_KEY not configured";

/// Uploads to the Load S3 agent.
#[derive(Clone)]
pub struct LoadBlobStore {
    http: reqwest::Client,
    config: LoadConfig,
}

impl std::fmt::Debug for LoadBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadBlobStore")
            .field("agent_url", &self.config.agent_url)
            .field("gateway_url", &self.config.gateway_url)
            .finish_non_exhaustive()
    }
}

impl LoadBlobStore {
    /// A store over `config` using `http` (no timeout of its own, as the original).
    pub fn new(http: reqwest::Client, config: LoadConfig) -> Self {
        Self { http, config }
    }

    fn deferred(what: &str) -> PortabilityError {
        PortabilityError::Backend {
            backend: "load",
            message: format!(
                "{what} is not implemented by the resolver's Load adapter; the full blob store arrives with issue #7"
            ),
        }
    }
}

/// The upload id: the first present, non-null of `id`, `dataitem_id`, `dataitemId`,
/// `result.id`, `result.dataitem_id`, `result.dataitemId`; it must be a non-blank string
/// (a present non-string value ends the search, as JavaScript's `??` chain does).
pub fn upload_id(payload: &Json) -> Option<String> {
    let result = payload.get("result");
    let candidate = ["id", "dataitem_id", "dataitemId"]
        .iter()
        .map(|k| payload.get(k))
        .chain(
            ["id", "dataitem_id", "dataitemId"]
                .iter()
                .map(|k| result.and_then(|r| r.get(k))),
        )
        .flatten()
        .find(|v| !matches!(v, Json::Null))?;
    let id = candidate.as_str()?.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// A multipart/form-data body with the `file` part and text parts, and its boundary.
fn multipart(
    bytes: &[u8],
    file_name: &str,
    content_type: &str,
    text_parts: &[(&str, &str)],
) -> (String, Vec<u8>) {
    let boundary = format!("----heaven-{:032x}", rand::random::<u128>());
    let mut body = Vec::with_capacity(bytes.len() + 512);
    let safe_name = file_name.replace('"', "%22").replace(['\r', '\n'], "");
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n");
    for (name, value) in text_parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

#[async_trait]
impl ContentAddressedBlobStore for LoadBlobStore {
    async fn put(
        &self,
        bytes: Bytes,
        content_type: &str,
        tags: &[BlobTag],
    ) -> portability::Result<StoredBlob> {
        let Some(key) = self.config.api_key.as_deref() else {
            return Err(PortabilityError::InvalidInput(KEY_MISSING.to_owned()));
        };
        let file_name = tags
            .iter()
            .find(|t| t.name == FILE_NAME_TAG)
            .map_or("upload.bin", |t| t.value.as_str());
        let stored_tags: Vec<serde_json::Value> = tags
            .iter()
            .filter(|t| t.name != FILE_NAME_TAG)
            .map(|t| serde_json::json!({ "name": t.name, "value": t.value }))
            .collect();
        let tags_json = serde_json::Value::Array(stored_tags).to_string();
        let mut text_parts = vec![("content_type", content_type)];
        if tags_json != "[]" {
            text_parts.push(("tags", tags_json.as_str()));
        }
        let (boundary, body) = multipart(&bytes, file_name, content_type, &text_parts);
        let upload_url = format!("{}/upload", self.config.agent_url);
        let response = self
            .http
            .post(&upload_url)
            .bearer_auth(key)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| PortabilityError::Unavailable {
                server: format!("Load S3 agent at {}", self.config.agent_url),
                message: e.to_string(),
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let payload = if text.is_empty() {
            Json::Null
        } else {
            Json::parse(text.as_bytes())
                .unwrap_or_else(|_| Json::Object(vec![("raw".into(), Json::String(text.clone()))]))
        };
        if !status.is_success() {
            return Err(PortabilityError::Backend {
                backend: "load",
                message: format!("Load upload failed: {} {text}", status.as_u16()),
            });
        }
        let id = upload_id(&payload).ok_or_else(|| PortabilityError::Backend {
            backend: "load",
            message: format!("Load upload returned no id: {text}"),
        })?;
        Ok(StoredBlob {
            gateway_url: format!("{}/resolve/{id}", self.config.gateway_url),
            id,
            backend: "load".to_owned(),
        })
    }

    async fn anchor(&self, _id: &str) -> portability::Result<Anchor> {
        Err(Self::deferred("anchor"))
    }

    async fn get(&self, _id: &str) -> portability::Result<BlobStream> {
        Err(Self::deferred("get"))
    }

    async fn head(&self, _id: &str) -> portability::Result<BlobHead> {
        Err(Self::deferred("head"))
    }

    async fn link(&self, _logical_key: &str, _id: &str) -> portability::Result<()> {
        Err(Self::deferred("link"))
    }

    async fn resolve(&self, _logical_key: &str) -> portability::Result<Option<String>> {
        Err(Self::deferred("resolve"))
    }
}

/// The message the original would have put in a rehost result's `error` for `err`.
pub fn error_message(err: &PortabilityError) -> String {
    match err {
        PortabilityError::Backend { message, .. }
        | PortabilityError::Unavailable { message, .. }
        | PortabilityError::InvalidInput(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Json {
        Json::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn id_comes_from_the_first_present_field() {
        assert_eq!(
            upload_id(&parse(r#"{"id":" abc "}"#)).as_deref(),
            Some("abc")
        );
        assert_eq!(
            upload_id(&parse(r#"{"id":null,"dataitemId":"x"}"#)).as_deref(),
            Some("x")
        );
        assert_eq!(
            upload_id(&parse(r#"{"result":{"dataitem_id":"r"}}"#)).as_deref(),
            Some("r")
        );
        assert_eq!(upload_id(&parse(r#"{"id":5,"dataitem_id":"x"}"#)), None);
        assert_eq!(upload_id(&parse(r#"{"id":"  "}"#)), None);
        assert_eq!(upload_id(&Json::Null), None);
    }

    #[test]
    fn multipart_has_the_file_and_text_parts() {
        let (boundary, body) = multipart(
            b"IMG",
            "abc.png",
            "image/png",
            &[("content_type", "image/png")],
        );
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains(
            "name=\"file\"; filename=\"abc.png\"\r\nContent-Type: image/png\r\n\r\nIMG\r\n"
        ));
        assert!(text.contains("name=\"content_type\"\r\n\r\nimage/png\r\n"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
