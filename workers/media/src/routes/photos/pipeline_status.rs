//! `GET /api/photos/pipeline/:jobId`: a job's status, as the original's `{jobId, status,
//! step?, photoIds?, animeTiles?, error?}` (no owner check, as the original; the caller must
//! still be authenticated).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use crate::error::{Fields, MediaError, MediaResult};
use crate::photos::auth;
use crate::photos::model::{JobStatus, PhotoJob};
use crate::state::MediaState;

/// The original's status view of `job`.
pub fn job_view(job: &PhotoJob) -> Fields {
    let mut view = Fields::default()
        .with("jobId", job.job_id.clone())
        .with("status", job.status.as_str())
        .with("step", job.step.as_str());
    match job.status {
        JobStatus::Completed => {
            view = view
                .with("photoIds", job.photo_ids.clone())
                .with("animeTiles", job.anime_tiles.clone().unwrap_or_default());
        }
        JobStatus::Failed => {
            view = view.with(
                "error",
                job.error_message
                    .clone()
                    .unwrap_or_else(|| "Unknown error".to_owned()),
            );
        }
        JobStatus::Pending | JobStatus::Processing => {}
    }
    view
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> MediaResult<Fields> {
    let photos = super::service(&state)?;
    auth::caller(photos.config(), &headers, photos.now())?;
    let (job, _) = photos
        .store()
        .job(&job_id)
        .await?
        .ok_or_else(|| MediaError::new(StatusCode::NOT_FOUND, "Job not found"))?;
    Ok(job_view(&job))
}
