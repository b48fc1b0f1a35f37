//! `POST /api/load/upload`: the Load passthrough (§1.9). The file is streamed to a spool file
//! under its 500 MiB limit and stored through the blob store; `payload` describes where the
//! store put it (the blob store does not expose the Load agent's raw reply).

use axum::extract::{Request, State};

use crate::error::{Fields, MediaError, MediaResult};
use crate::state::MediaState;
use crate::upload::{FileLimit, read_passthrough, stored_payload};

/// Largest file: 500 MiB.
pub const MAX_FILE_SIZE: u64 = 500 * 1024 * 1024;

fn too_large(n: u64) -> String {
    format!("File too large: {n} > {MAX_FILE_SIZE}")
}

/// The handler.
pub async fn handle(State(state): State<MediaState>, request: Request) -> MediaResult<Fields> {
    super::require_uploads(&state, "Load upload not configured (LOAD_S3_AGENT_API_KEY)")?;
    let limit = FileLimit {
        name: "file",
        max: MAX_FILE_SIZE,
        too_large,
    };
    let upload = read_passthrough(request, &state.config().spool_dir, limit, "upload.bin").await?;
    let body = upload.file.stream().await.map_err(MediaError::internal)?;
    let stored = state
        .blobs()
        .put_stream(body, &upload.content_type, &upload.tags)
        .await
        .map_err(|e| MediaError::upstream("Load agent upload failed", e.to_string()))?;
    let payload = stored_payload(&stored);
    Ok(Fields::default()
        .with("id", stored.id)
        .with("gatewayUrl", stored.gateway_url)
        .with("payload", payload))
}
