//! `GET /api/photos/anime/:userId/:slot` (public): a user's anime tile, from the blob store.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use portability::PortabilityError;

use crate::error::{MediaError, MediaResult};
use crate::state::MediaState;

/// `parseInt` of the slot: leading decimal digits after optional blanks and sign.
fn parse_slot(raw: &str) -> Option<i64> {
    let trimmed = raw.trim_start();
    let (sign, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path((user_id, slot)): Path<(String, String)>,
) -> MediaResult<Response> {
    let photos = super::service(&state)?;
    let slot = match parse_slot(&slot) {
        Some(slot @ 1..=4) => slot as usize,
        _ => return Err(MediaError::bad_request("Slot must be 1-4")),
    };
    let user = user_id.to_lowercase();
    let assets = photos
        .store()
        .anime(&user)
        .await?
        .ok_or_else(|| MediaError::new(StatusCode::NOT_FOUND, "Anime tiles not found"))?;
    let missing = || MediaError::new(StatusCode::NOT_FOUND, "Tile not found in storage");
    let id = assets.tile_ids.get(slot - 1).ok_or_else(missing)?;
    let head = match photos.blobs().head(id).await {
        Ok(head) => head,
        Err(PortabilityError::NotFound { .. }) => return Err(missing()),
        Err(err) => return Err(err.into()),
    };
    let stream = match photos.blobs().get(id).await {
        Ok(stream) => stream,
        Err(PortabilityError::NotFound { .. }) => return Err(missing()),
        Err(err) => return Err(err.into()),
    };
    let content_type = if head.content_type.is_empty() {
        "image/webp".to_owned()
    } else {
        head.content_type
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .body(Body::from_stream(stream))
        .map_err(MediaError::internal)
}

#[cfg(test)]
mod tests {
    use super::parse_slot;

    #[test]
    fn slots_parse_like_parse_int() {
        assert_eq!(parse_slot("2"), Some(2));
        assert_eq!(parse_slot("3abc"), Some(3));
        assert_eq!(parse_slot(" 4"), Some(4));
        assert_eq!(parse_slot("-1"), Some(-1));
        assert_eq!(parse_slot("x"), None);
    }
}
