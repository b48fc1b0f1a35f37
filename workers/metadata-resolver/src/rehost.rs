//! Rehosting one external image on Load: download it once (15 s, redirects followed, at most
//! 10 MiB), upload it through the [`ContentAddressedBlobStore`], and remember the id for a
//! year under `rehost:{sha256(url)}`. Also the background jobs that swap an artist's
//! `links.image` or a release group's `coverArtUrl` for the rehosted URL once it exists.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use portability::{
    BlobTag, FILE_NAME_TAG, LOAD_UPLOAD_FAILED, LOAD_UPLOAD_MISSING_ID, PortabilityError,
};
use serde::Serialize;

use crate::cache::{TTL_IMAGE, TTL_POSITIVE, artist_key, rehost_key, release_group_key};
use crate::state::AppState;
use http_common::OrderedJson;

/// The error when rehosting is off (the original's text).
pub const KEY_MISSING: &str = "LOAD_S3_AGENT_API_KEY not configured";

/// One URL's outcome, with the original's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RehostResult {
    /// The URL asked for.
    pub url: String,
    /// The Load gateway URL of the copy (the name is a leftover from IPFS days).
    #[serde(rename = "ipfsUrl")]
    pub ipfs_url: Option<String>,
    /// The Load data-item id.
    pub cid: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Whether the id came from the cache.
    pub cached: bool,
}

/// Rehosts `url`, reporting failures in the result.
pub async fn rehost_one(state: &AppState, url: &str) -> RehostResult {
    match try_rehost(state, url).await {
        Ok((id, copy_url, cached)) => RehostResult {
            url: url.to_owned(),
            ipfs_url: Some(copy_url),
            cid: Some(id),
            error: None,
            cached,
        },
        Err(message) => RehostResult {
            url: url.to_owned(),
            ipfs_url: None,
            cid: None,
            error: Some(message),
            cached: false,
        },
    }
}

/// Where a cached id is read: the Load gateway (cached ids may come from the original's KV).
fn gateway_url(state: &AppState, id: &str) -> String {
    format!("{}/resolve/{id}", state.config().load.gateway_url)
}

/// The copy's id, its URL and whether it came from the cache. A fresh copy's URL is the one
/// the blob store reports (the Load gateway in production).
async fn try_rehost(state: &AppState, url: &str) -> Result<(String, String, bool), String> {
    let (key, hash) = rehost_key(url);
    let lock = state.rehost_lock(&hash);
    let _turn = lock.lock().await;
    let cached = state.cache().get(&key).await.map_err(|e| e.to_string())?;
    if let Some(id) = cached.filter(|id| !id.is_empty()) {
        let id = String::from_utf8_lossy(&id).into_owned();
        let copy_url = gateway_url(state, &id);
        return Ok((id, copy_url, true));
    }
    let Some(blobs) = state.blobs() else {
        return Err(KEY_MISSING.to_owned());
    };
    let (bytes, content_type) = download(state, url).await?;
    let extension = content_type
        .split_once('/')
        .map(|(_, subtype)| subtype.split(';').next().unwrap_or(""))
        .filter(|ext| !ext.is_empty())
        .unwrap_or("jpg");
    let file_name = format!("{}.{extension}", &hash[..16]);
    let tags = [BlobTag {
        name: FILE_NAME_TAG.to_owned(),
        value: file_name,
    }];
    let stored = blobs
        .put(bytes, &content_type, &tags)
        .await
        .map_err(|e| error_message(&e))?;
    state
        .cache()
        .put(&key, stored.id.clone().into_bytes(), TTL_IMAGE)
        .await
        .map_err(|e| e.to_string())?;
    Ok((stored.id, stored.gateway_url, false))
}

/// The text the original resolver put in a result's `error` for a failed upload. The blob
/// store reports Load's refusals as [`LOAD_UPLOAD_FAILED`]`:<status>:<body>` and answers
/// without an id as [`LOAD_UPLOAD_MISSING_ID`]`:<payload>` (api-core's wording); the original
/// said `Load upload failed: <status> <body>` and `Load upload returned no id: <body>`.
/// Other failures keep the store's message.
pub fn error_message(err: &PortabilityError) -> String {
    let message = match err {
        PortabilityError::Backend { message, .. }
        | PortabilityError::Unavailable { message, .. }
        | PortabilityError::InvalidInput(message) => message.as_str(),
        other => return other.to_string(),
    };
    // The marker may follow a prefix naming the server (an outage seen through failover).
    let after = |code: &str| {
        let marker = format!("{code}:");
        message
            .find(&marker)
            .map(|at| &message[at + marker.len()..])
    };
    if let Some((status, body)) = after(LOAD_UPLOAD_FAILED).and_then(|r| r.split_once(':')) {
        return format!("Load upload failed: {status} {body}");
    }
    if let Some(payload) = after(LOAD_UPLOAD_MISSING_ID) {
        return format!("Load upload returned no id: {payload}");
    }
    message.to_owned()
}

/// Downloads `url`, stopping as soon as it exceeds the size limit.
async fn download(state: &AppState, url: &str) -> Result<(Bytes, String), String> {
    let response = state
        .images()
        .get(url)
        .header("user-agent", &state.config().user_agent)
        .send()
        .await
        .map_err(describe)?;
    if !response.status().is_success() {
        return Err(format!("Fetch failed: {}", response.status().as_u16()));
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("image/jpeg")
        .to_owned();
    let limit = state.config().image_max_bytes;
    let mut body = BytesMut::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk.map_err(describe)?);
        if body.len() > limit {
            return Err("Image too large (max 10MB)".to_owned());
        }
    }
    Ok((body.freeze(), content_type))
}

fn describe(err: reqwest::Error) -> String {
    if err.is_timeout() {
        "The operation was aborted due to timeout".to_owned()
    } else {
        err.to_string()
    }
}

/// After an artist answer: rehost its image and patch `links.image` in the cached entry.
pub fn spawn_artist_image(state: &AppState, mbid: &str, image_url: &str) {
    let (task, key, url) = (state.clone(), artist_key(mbid), image_url.to_owned());
    state
        .background()
        .spawn(format!("rehost of {key} image"), async move {
            let state = task;
            patch_cached(&state, &key, &url, |entry, new_url| {
                if let Some(links) = entry
                    .get_mut("links")
                    .filter(|l| matches!(l, OrderedJson::Object(_)))
                {
                    links.set("image", OrderedJson::String(new_url.to_owned()));
                    true
                } else {
                    false
                }
            })
            .await;
        });
}

/// After a release-group answer: rehost its cover and patch `coverArtUrl` in the cached entry.
pub fn spawn_cover_art(state: &AppState, mbid: &str, cover_url: &str) {
    let (task, key, url) = (state.clone(), release_group_key(mbid), cover_url.to_owned());
    state
        .background()
        .spawn(format!("rehost of {key} cover"), async move {
            let state = task;
            patch_cached(&state, &key, &url, |entry, new_url| {
                if matches!(entry, OrderedJson::Object(_)) {
                    entry.set("coverArtUrl", OrderedJson::String(new_url.to_owned()));
                    true
                } else {
                    false
                }
            })
            .await;
        });
}

async fn patch_cached(
    state: &AppState,
    key: &str,
    image_url: &str,
    apply: impl Fn(&mut OrderedJson, &str) -> bool,
) {
    if state.blobs().is_none() {
        tracing::debug!(key, "rehost skipped: {KEY_MISSING}");
        return;
    }
    let result = rehost_one(state, image_url).await;
    let Some(new_url) = result.ipfs_url else {
        tracing::warn!(key, error = ?result.error, "background rehost failed");
        return;
    };
    let entry = match state.cache().get(key).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(key, error = %err, "background rehost: cache read failed");
            return;
        }
    };
    let Ok(mut entry) = OrderedJson::parse(&entry) else {
        return;
    };
    if apply(&mut entry, &new_url) {
        if let Err(err) = state.cache().put(key, entry.to_vec(), TTL_POSITIVE).await {
            tracing::warn!(key, error = %err, "background rehost: cache write failed");
        } else {
            tracing::info!(key, id = ?result.cid, "rehosted image");
        }
    }
}
