//! `POST /api/music/publish/:jobId/anchor`: anchors the staged audio on Arweave through the
//! blob store (§6.5). The step is leased; a job left `anchoring` by a dead worker is taken
//! over by the next call (or the sweep) once its lease expired.

use axum::extract::{Path, State};
use axum::http::HeaderMap;

use crate::access::require_music_access;
use crate::error::{Fields, MediaResult};
use crate::jobs::anchor::{self, AnchorStart};
use crate::jobs::lease::new_owner;
use crate::state::MediaState;

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> MediaResult<Fields> {
    let user = require_music_access(&state, &headers).await?;
    super::require_uploads(
        &state,
        "Arweave anchor not configured (LOAD_S3_AGENT_API_KEY)",
    )?;
    let owner = new_owner();
    let job = match anchor::begin(&state, &user, &job_id, &owner).await? {
        AnchorStart::Answer(job) => job,
        AnchorStart::Run(taken) => anchor::run(&state, taken, &owner).await?,
    };
    Ok(Fields::default().with_job("job", &job))
}
