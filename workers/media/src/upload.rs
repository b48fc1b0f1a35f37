//! Reading a multipart request body as the original's `formData()` sees it, without holding it
//! in memory: each file part (a part with a file name) is streamed to a spool file while it is
//! hashed ([`blob_store::spool::Spooled`]), text parts are kept as strings, and every part has
//! a limit enforced while reading — past it the request is answered at once and the rest of
//! the body is never read (a 2 GB upload costs one chunk of memory, not 2 GB).

use std::path::Path;

use axum::extract::Request;
use axum::http::StatusCode;
use blob_store::spool::Spooled;
use bytes::Bytes;
use futures_util::StreamExt;
use portability::{BlobStream, BlobTag, FILE_NAME_TAG, PortabilityError};
use tokio::sync::mpsc;

use crate::error::{MediaError, MediaResult};

/// Largest text part by default (1 MiB); larger is 413.
pub const TEXT_PART_MAX: u64 = 1 << 20;
/// Most parts one form may have.
pub const MAX_PARTS: usize = 64;
/// How far past its limit a file part is still read (and dropped) so that a slightly
/// oversized file is reported with its exact size, as the original does; past this the
/// request is answered with the count so far and the body is not read any further.
pub const OVERSIZE_SLACK: u64 = 1 << 20;

/// A file part's limit and the error past it.
#[derive(Clone, Copy, Debug)]
pub struct FileLimit {
    /// Part name.
    pub name: &'static str,
    /// Largest size in bytes.
    pub max: u64,
    /// The 400 text for `n` bytes read (`n > max`).
    pub too_large: fn(u64) -> String,
}

/// A text part's limit and the error past it (other text parts: [`TEXT_PART_MAX`], 413).
#[derive(Clone, Copy, Debug)]
pub struct TextLimit {
    /// Part name.
    pub name: &'static str,
    /// Largest size in bytes.
    pub max: u64,
    /// The 400 text for `n` bytes read (`n > max`).
    pub too_large: fn(u64) -> String,
}

/// A file part on disk.
#[derive(Debug)]
pub struct FilePart {
    /// The bytes, their size and sha256.
    pub spooled: Spooled,
    /// The part's file name.
    pub file_name: String,
    /// The part's content type.
    pub content_type: Option<String>,
}

impl FilePart {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.spooled.size
    }

    /// The bytes as a stream, for the blob store's `put_stream`.
    pub async fn stream(&self) -> Result<BlobStream, PortabilityError> {
        self.spooled.stream().await
    }

    /// The file name as the blob tag backends use for it.
    pub fn file_name_tag(&self, default: &str) -> BlobTag {
        BlobTag {
            name: FILE_NAME_TAG.to_owned(),
            value: if self.file_name.is_empty() {
                default.to_owned()
            } else {
                self.file_name.clone()
            },
        }
    }
}

/// A form value.
#[derive(Debug)]
pub enum FormValue {
    /// A part without file name.
    Text(String),
    /// A part with a file name.
    File(FilePart),
}

/// The parts of a form (the first part of each name; later ones are read and dropped).
#[derive(Debug, Default)]
pub struct Form {
    parts: Vec<(String, FormValue)>,
}

impl Form {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&FormValue> {
        self.parts.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The text of `name`, if it is a text part.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            FormValue::Text(t) => Some(t),
            FormValue::File(_) => None,
        }
    }

    /// The file of `name`, if it is a file part.
    pub fn file(&self, name: &str) -> Option<&FilePart> {
        match self.get(name)? {
            FormValue::File(f) => Some(f),
            FormValue::Text(_) => None,
        }
    }

    /// A non-empty text of `name`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.text(name).filter(|t| !t.is_empty())
    }
}

/// The one file of a passthrough upload (`/api/load/upload`, `/api/arweave/cover`) with the
/// content type and tags the original derives from the form.
#[derive(Debug)]
pub struct Passthrough {
    /// The `file` part.
    pub file: FilePart,
    /// Form `contentType`, else the part's type, else `application/octet-stream`.
    pub content_type: String,
    /// The file name tag (`default_name` when the part has none), then the form's `tags`.
    pub tags: Vec<BlobTag>,
}

/// Reads a passthrough form: 400 `Missing file form field` / `File is empty`, the limit's
/// 400 while streaming.
pub async fn read_passthrough(
    request: Request,
    spool_dir: &Path,
    limit: FileLimit,
    default_name: &str,
) -> MediaResult<Passthrough> {
    let mut form = read_form(request, spool_dir, &[limit], &[]).await?;
    let content_type = form.non_empty("contentType").map(str::to_owned);
    let tags_raw = form.non_empty("tags").unwrap_or("[]").to_owned();
    let position = form
        .parts
        .iter()
        .position(|(n, v)| n == limit.name && matches!(v, FormValue::File(_)));
    let Some(FormValue::File(file)) = position.map(|i| form.parts.swap_remove(i).1) else {
        return Err(MediaError::bad_request("Missing file form field"));
    };
    if file.size() == 0 {
        return Err(MediaError::bad_request("File is empty"));
    }
    let content_type = content_type
        .or(file.content_type.clone().filter(|t| !t.is_empty()))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut tags = vec![file.file_name_tag(default_name)];
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&tags_raw) {
        tags.extend(client_tags(&value));
    }
    Ok(Passthrough {
        file,
        content_type,
        tags,
    })
}

fn too_large_body() -> MediaError {
    MediaError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
}

/// Reads `request`'s multipart body, spooling file parts under `spool_dir`. A body that is not
/// multipart is the original's uncaught 500.
pub async fn read_form(
    request: Request,
    spool_dir: &Path,
    files: &[FileLimit],
    texts: &[TextLimit],
) -> MediaResult<Form> {
    let boundary = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| MediaError::internal("request body is not multipart/form-data"))?;
    let body = request.into_body().into_data_stream();
    let mut multipart = multer::Multipart::new(body, boundary);
    let mut form = Form::default();
    let mut count = 0usize;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            // A form without any part (what clients send for an empty FormData) ends before
            // its first boundary: an empty form, as the original's `formData()` sees it.
            Err(multer::Error::IncompleteStream) if count == 0 => break,
            Err(e) => return Err(MediaError::internal(format!("multipart: {e}"))),
        };
        count += 1;
        if count > MAX_PARTS {
            return Err(too_large_body());
        }
        let name = field.name().unwrap_or_default().to_owned();
        let seen = form.get(&name).is_some();
        if let Some(file_name) = field.file_name().map(str::to_owned) {
            let limit = files.iter().find(|l| l.name == name);
            let (max, too_large) = match limit {
                Some(l) => (l.max, Some(l.too_large)),
                None => (TEXT_PART_MAX, None),
            };
            let content_type = field.content_type().map(|m| m.to_string());
            let (tx, rx) = mpsc::channel::<portability::Result<Bytes>>(4);
            let stream: BlobStream = tokio_stream_from(rx);
            let spool = Spooled::write(spool_dir, stream, u64::MAX, "the media spool");
            let feed = async {
                let mut size = 0u64;
                let oversize = |size| match too_large {
                    Some(message) => MediaError::bad_request(message(size)),
                    None => too_large_body(),
                };
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            size += chunk.len() as u64;
                            if size > max {
                                drop(tx);
                                // Count (without keeping) a little further for the exact size.
                                while size <= max.saturating_add(OVERSIZE_SLACK) {
                                    match field.chunk().await {
                                        Ok(Some(more)) => size += more.len() as u64,
                                        _ => break,
                                    }
                                }
                                return Err(oversize(size));
                            }
                            if tx.send(Ok(chunk)).await.is_err() {
                                return Err(MediaError::internal("spool stopped"));
                            }
                        }
                        Ok(None) => return Ok(()),
                        Err(e) => {
                            let _ = tx
                                .send(Err(PortabilityError::InvalidInput(e.to_string())))
                                .await;
                            return Err(MediaError::internal(format!("multipart: {e}")));
                        }
                    }
                }
            };
            let (fed, spooled) = tokio::join!(feed, spool);
            fed?;
            let spooled = spooled.map_err(MediaError::internal)?;
            if !seen {
                form.parts.push((
                    name,
                    FormValue::File(FilePart {
                        spooled,
                        file_name,
                        content_type,
                    }),
                ));
            }
        } else {
            let limit = texts.iter().find(|l| l.name == name);
            let max = limit.map_or(TEXT_PART_MAX, |l| l.max.max(TEXT_PART_MAX));
            let mut text = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| MediaError::internal(format!("multipart: {e}")))?
            {
                text.extend_from_slice(&chunk);
                if text.len() as u64 > max {
                    return Err(match limit {
                        Some(l) => MediaError::bad_request((l.too_large)(text.len() as u64)),
                        None => too_large_body(),
                    });
                }
            }
            if !seen {
                form.parts.push((
                    name,
                    FormValue::Text(String::from_utf8_lossy(&text).into_owned()),
                ));
            }
        }
    }
    Ok(form)
}

fn tokio_stream_from(mut rx: mpsc::Receiver<portability::Result<Bytes>>) -> BlobStream {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

/// Client tags (a JSON array) as blob tags: members `{name|key, value}` with string values;
/// anything else is not a tag the blob store can keep and is dropped.
pub fn client_tags(tags: &serde_json::Value) -> Vec<BlobTag> {
    tags.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let name = item.get("name").or_else(|| item.get("key"))?.as_str()?;
                    let value = item.get("value")?.as_str()?;
                    Some(BlobTag {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A blob tag.
pub fn tag(name: &str, value: &str) -> BlobTag {
    BlobTag {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// What the original stored as an upload's `*_payload_json` / answered as `payload`: here the
/// blob store's description of where it put the bytes (its backends' raw replies stay inside).
pub fn stored_payload(blob: &portability::StoredBlob) -> serde_json::Value {
    serde_json::json!({ "id": blob.id, "gatewayUrl": blob.gateway_url, "backend": blob.backend })
}
