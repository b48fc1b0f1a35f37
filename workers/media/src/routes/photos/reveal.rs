//! `GET /api/photos/reveal/:photoId`: the photo for a matched viewer, cover-fitted to 500² with
//! the viewer's overlay drawn over it, WebP q85, cached per viewer in the hot store
//! (`reveal/<photoId>/<viewer>.webp` + its JSON sidecar). Both the fresh and the cached
//! answer carry `X-Revealed-To` and `X-Fingerprint` (the original's cached answer lacked them).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use portability::{Fit, ImageFormat, Overlay, TransformRequest};

use crate::error::MediaResult;
use crate::photos::model::{PhotoAccess, objects};
use crate::photos::watermark::full_overlay;
use crate::photos::{PhotoService, auth, photo_error};
use crate::state::MediaState;

/// The reveal rendition with `overlay` drawn at (0, 0).
pub fn reveal_request(overlay: Overlay) -> TransformRequest {
    TransformRequest::new(500, 500, Fit::Cover, ImageFormat::WebP, 85).with_overlay(overlay)
}

fn answer(access: &PhotoAccess, bytes: Vec<u8>) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "image/webp"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&access.viewer_wallet_short) {
        headers.insert("x-revealed-to", value);
    }
    if let Ok(value) = HeaderValue::from_str(&access.fingerprint_code) {
        headers.insert("x-fingerprint", value);
    }
    response
}

async fn render(photos: &PhotoService, access: &PhotoAccess, orig: Vec<u8>) -> Option<Vec<u8>> {
    let overlay =
        match full_overlay(photos.face(), &access.viewer_wallet_full).and_then(|o| o.to_layer()) {
            Ok(layer) => layer,
            Err(err) => {
                tracing::error!(%err, "full overlay generation failed");
                return None;
            }
        };
    let request = reveal_request(Overlay {
        layer: overlay,
        left: 0,
        top: 0,
        opacity: 1.0,
    });
    match photos.images().transform(orig, &request).await {
        Ok(image) => Some(image.bytes),
        Err(err) => {
            tracing::error!(%err, "reveal transform failed");
            None
        }
    }
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(photo_id): Path<String>,
    headers: HeaderMap,
) -> MediaResult<Response> {
    let photos = super::service(&state)?;
    let viewer = auth::caller(photos.config(), &headers, photos.now())?;
    let Some(mut access) = photos.store().access(&viewer, &photo_id).await? else {
        return Err(photo_error(
            StatusCode::FORBIDDEN,
            "Not authorized to view this photo",
        ));
    };
    if let Some(variant) = &access.variant_key
        && let Some(cached) = photos.read_hot(variant).await?
    {
        return Ok(answer(&access, cached));
    }
    let photo = photos
        .store()
        .photo(&photo_id)
        .await?
        .ok_or_else(|| photo_error(StatusCode::NOT_FOUND, "Photo not found"))?;
    let orig = photos
        .read_hot(&photo.orig_key)
        .await?
        .ok_or_else(|| photo_error(StatusCode::NOT_FOUND, "Photo not found in storage"))?;
    let Some(watermarked) = render(photos, &access, orig).await else {
        return Err(photo_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to generate watermarked image",
        ));
    };
    let variant_key = objects::reveal(&photo_id, &viewer);
    photos
        .hot()
        .put(&variant_key, Bytes::from(watermarked.clone()))
        .await?;
    let sidecar = serde_json::json!({
        "photoId": photo_id,
        "ownerId": access.owner_user_id,
        "viewerWallet": access.viewer_wallet_full,
        "viewerWalletShort": access.viewer_wallet_short,
        "fingerprint": access.fingerprint_code,
        "matchId": access.match_id,
        "revealedAt": iso8601(photos.now()),
        "variantKey": variant_key,
    });
    let sidecar = serde_json::to_vec_pretty(&sidecar).unwrap_or_default();
    photos
        .hot()
        .put(
            &objects::reveal_meta(&photo_id, &viewer),
            Bytes::from(sidecar),
        )
        .await?;
    access.variant_key = Some(variant_key);
    photos.store().put_access(&access).await?;
    Ok(answer(&access, watermarked))
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` for `secs` since the epoch (JavaScript's `toISOString`).
pub fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}.000Z",
        date(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (civil calendar).
pub fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        // 2026-12-04T14:00:24Z
        assert_eq!(iso8601(1_796_392_824), "2026-12-04T14:00:24.000Z");
        assert_eq!(date(11_016), "2000-02-29");
    }
}
