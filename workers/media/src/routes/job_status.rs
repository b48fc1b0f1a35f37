//! `GET /api/music/publish/:jobId` → `{job}` (the caller's own jobs only; 404 otherwise).

use axum::extract::{Path, State};
use axum::http::HeaderMap;

use crate::access::require_music_access;
use crate::error::{Fields, MediaError, MediaResult};
use crate::state::MediaState;

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> MediaResult<Fields> {
    let user = require_music_access(&state, &headers).await?;
    let stored = state
        .jobs()
        .get(&user, &job_id)
        .await?
        .ok_or_else(MediaError::job_not_found)?;
    Ok(Fields::default().with_job("job", &stored.job))
}
