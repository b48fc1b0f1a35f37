//! `POST /api/arweave/cover`: a cover image of at most 100 KiB (Turbo's free tier), stored
//! and anchored on Arweave through the blob store (§1.10).

use axum::extract::{Request, State};

use crate::error::{Fields, MediaError, MediaResult};
use crate::state::MediaState;
use crate::upload::{FileLimit, read_passthrough, stored_payload};

/// Largest cover: 100 KiB.
pub const MAX_COVER_BYTES: u64 = 100 * 1024;

fn too_large(n: u64) -> String {
    format!("Cover too large: {n} > {MAX_COVER_BYTES}")
}

/// The handler.
pub async fn handle(State(state): State<MediaState>, request: Request) -> MediaResult<Fields> {
    super::require_uploads(
        &state,
        "Arweave cover upload not configured (LOAD_S3_AGENT_API_KEY)",
    )?;
    let limit = FileLimit {
        name: "file",
        max: MAX_COVER_BYTES,
        too_large,
    };
    let upload = read_passthrough(request, &state.config().spool_dir, limit, "cover").await?;
    if !upload.content_type.starts_with("image/") {
        return Err(MediaError::bad_request(format!(
            "Unsupported content type: {}",
            upload.content_type
        )));
    }
    let body = upload.file.stream().await.map_err(MediaError::internal)?;
    let staged = state
        .blobs()
        .put_stream(body, &upload.content_type, &upload.tags)
        .await
        .map_err(|e| MediaError::upstream("LS3 agent upload failed", e.to_string()))?;
    let anchored = state.blobs().anchor(&staged.id).await.map_err(|e| {
        MediaError::upstream("LS3 agent post-to-arweave failed", e.to_string())
            .with("id", staged.id.clone())
    })?;
    let upload_payload = stored_payload(&staged);
    let post_payload = serde_json::json!({
        "arweaveUrl": anchored.arweave_url,
        "available": anchored.available,
    });
    Ok(Fields::default()
        .with("id", staged.id.clone())
        .with("ref", format!("ar://{}", staged.id))
        .with("ls3GatewayUrl", staged.gateway_url)
        .with("arweaveUrl", anchored.arweave_url)
        .with("arweaveAvailable", anchored.available)
        .with("uploadPayload", upload_payload)
        .with("postPayload", post_payload))
}
