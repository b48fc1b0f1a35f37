//! `GET /api/photos/internal/source/:photoId?t=`: the sanitized photo for fal, behind a token
//! of 32 random bytes stored as its SHA-256, valid 300 s and — unlike the original — usable
//! once (it is deleted by a compare-and-set before the bytes are sent).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{MediaError, MediaResult};
use crate::state::MediaState;

/// `?t=`.
#[derive(Debug, Deserialize)]
pub struct SourceQuery {
    t: Option<String>,
}

fn unauthorized(message: &str) -> MediaError {
    MediaError::new(StatusCode::UNAUTHORIZED, message)
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(photo_id): Path<String>,
    Query(query): Query<SourceQuery>,
) -> MediaResult<Response> {
    let photos = super::service(&state)?;
    let token = query
        .t
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("Missing token"))?;
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let (stored, version) = photos
        .store()
        .token(&hash)
        .await?
        .ok_or_else(|| unauthorized("Invalid token"))?;
    if stored.expires_at < photos.now() {
        return Err(unauthorized("Token expired"));
    }
    if stored.photo_id != photo_id {
        return Err(unauthorized("Token/photo mismatch"));
    }
    let photo = photos
        .store()
        .photo(&photo_id)
        .await?
        .ok_or_else(|| MediaError::new(StatusCode::NOT_FOUND, "Photo not found"))?;
    if !photos.store().consume_token(&hash, version).await? {
        return Err(unauthorized("Invalid token"));
    }
    let bytes = photos
        .read_hot(&photo.orig_key)
        .await?
        .ok_or_else(|| MediaError::new(StatusCode::NOT_FOUND, "Photo not found in storage"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}
