//! `POST /api/photos/access` (development only, as the original: the matching system would
//! call it): grants a viewer every photo of an owner for a match, stores the viewer's overlay
//! and corner stamp (`wm/tiles|stamps/<viewer>/<match>.png`) and one access per photo with its
//! fingerprint (§5.1).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::error::{Fields, MediaError, MediaResult};
use crate::photos::fingerprint::{photo_fingerprint, viewer_fingerprint};
use crate::photos::model::{PhotoAccess, new_uuid, objects};
use crate::photos::watermark::{corner_stamp, full_overlay};
use crate::photos::{PhotoService, watermark};
use crate::routes::photos::reveal::date;
use crate::state::MediaState;

/// The body (missing members read as empty).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessBody {
    #[serde(default)]
    match_id: Option<serde_json::Value>,
    #[serde(default)]
    owner_user_id: Option<serde_json::Value>,
    #[serde(default)]
    viewer_user_id: Option<serde_json::Value>,
    #[serde(default)]
    viewer_wallet: Option<serde_json::Value>,
}

/// A member as JavaScript's truthiness and template strings see it: `None` when falsy.
fn truthy(value: &Option<serde_json::Value>) -> Option<String> {
    match value.as_ref()? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) if n.as_f64() != Some(0.0) => Some(n.to_string()),
        serde_json::Value::Bool(true) => Some("true".to_owned()),
        _ => None,
    }
}

/// Stores the viewer's overlay and stamp; `None` (logged) when they could not be drawn or
/// stored, as the original carried on without them.
async fn store_watermarks(
    photos: &PhotoService,
    viewer: &str,
    match_id: &str,
    wallet: &str,
    code: &str,
) -> (Option<String>, Option<String>) {
    let drawn = (|| -> Result<_, watermark::WatermarkError> {
        let overlay = full_overlay(photos.face(), wallet)?.to_png()?;
        let today = date(photos.now().div_euclid(86_400));
        let stamp = corner_stamp(photos.face(), wallet, code, &today)?.to_png()?;
        Ok((overlay, stamp))
    })();
    let (overlay, stamp) = match drawn {
        Ok(drawn) => drawn,
        Err(err) => {
            tracing::error!(%err, "watermark generation error");
            return (None, None);
        }
    };
    let tile_key = objects::wm_tile(viewer, match_id);
    let stamp_key = objects::wm_stamp(viewer, match_id);
    let stored = async {
        photos.hot().put(&tile_key, Bytes::from(overlay)).await?;
        photos.hot().put(&stamp_key, Bytes::from(stamp)).await
    }
    .await;
    match stored {
        Ok(()) => (Some(tile_key), Some(stamp_key)),
        Err(err) => {
            tracing::error!(%err, "watermark storage error");
            (None, None)
        }
    }
}

/// The handler.
pub async fn handle(State(state): State<MediaState>, body: Bytes) -> MediaResult<Fields> {
    let photos = super::service(&state)?;
    if !photos.config().development {
        return Err(MediaError::new(
            StatusCode::FORBIDDEN,
            "Not available in production",
        ));
    }
    // Unparseable JSON is the original's uncaught 500.
    let body: AccessBody = serde_json::from_slice(&body).map_err(MediaError::internal)?;
    let (Some(match_id), Some(owner), Some(viewer), Some(wallet)) = (
        truthy(&body.match_id),
        truthy(&body.owner_user_id),
        truthy(&body.viewer_user_id),
        truthy(&body.viewer_wallet),
    ) else {
        return Err(MediaError::bad_request("Missing required fields"));
    };
    let owned = photos.store().photos_of(&owner).await?;
    if owned.is_empty() {
        return Err(MediaError::new(
            StatusCode::NOT_FOUND,
            "No photos found for owner",
        ));
    }
    let secret = &photos.config().watermark_secret;
    let viewer_code = viewer_fingerprint(secret, &match_id, &wallet);
    let (wm_tile_key, wm_stamp_key) =
        store_watermarks(photos, &viewer, &match_id, &wallet, viewer_code.as_str()).await;
    let now = photos.now();
    let mut access_ids = Vec::new();
    for photo in owned {
        let access = PhotoAccess {
            access_id: new_uuid(),
            match_id: match_id.clone(),
            fingerprint_code: photo_fingerprint(secret, &match_id, &photo.photo_id, &wallet)
                .to_string(),
            photo_id: photo.photo_id,
            owner_user_id: owner.clone(),
            viewer_user_id: viewer.clone(),
            viewer_wallet_full: wallet.clone(),
            viewer_wallet_short: wallet.clone(),
            wm_tile_key: wm_tile_key.clone(),
            variant_key: None,
            created_at: now,
        };
        photos.store().put_access(&access).await?;
        access_ids.push(access.access_id);
    }
    Ok(Fields::default()
        .with("success", true)
        .with("accessIds", access_ids)
        .with("wmTileKey", wm_tile_key)
        .with("wmStampKey", wm_stamp_key))
}
