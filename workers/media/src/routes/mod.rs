//! The routes, one file per action, in the order of the contract's tables
//! (contracts/api-core.md §1.6, §1.9–§1.12, §5.2). Paths, form fields, JSON members, statuses and error
//! texts are the original's.

pub mod anchor;
pub mod artifacts_stage;
pub mod arweave_cover;
pub mod finalize;
pub mod job_status;
pub mod load_health;
pub mod load_upload;
pub mod metadata;
pub mod music_health;
pub mod photos;
pub mod preflight;
pub mod publish_start;
pub mod register;
pub mod scrobble_batches;
pub mod scrobble_submit;
pub mod study_set_get;
pub mod study_sets;

use axum::Router;
use axum::routing::{get, post};

use crate::error::{MediaError, MediaResult};
use crate::state::MediaState;

/// The original's 500 `{"error": message}` when uploads are not configured.
pub fn require_uploads(state: &MediaState, message: &str) -> MediaResult<()> {
    if state.config().uploads_configured {
        Ok(())
    } else {
        Err(MediaError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            message,
        ))
    }
}

/// Every media route over `state`.
pub fn router(state: MediaState) -> Router {
    Router::new()
        .route("/api/music/health", get(music_health::handle))
        .route("/api/music/publish/start", post(publish_start::handle))
        .route(
            "/api/music/publish/{job_id}/artifacts/stage",
            post(artifacts_stage::handle),
        )
        .route("/api/music/preflight", post(preflight::handle))
        .route("/api/music/publish/{job_id}", get(job_status::handle))
        .route("/api/music/publish/{job_id}/anchor", post(anchor::handle))
        .route(
            "/api/music/publish/{job_id}/metadata",
            post(metadata::handle),
        )
        .route(
            "/api/music/publish/{job_id}/register",
            post(register::handle),
        )
        .route(
            "/api/music/publish/{job_id}/finalize",
            post(finalize::handle),
        )
        .route("/api/load/upload", post(load_upload::handle))
        .route("/api/load/health", get(load_health::handle))
        .route("/api/arweave/cover", post(arweave_cover::handle))
        .merge(photos::router())
        .route("/api/scrobble/submit", post(scrobble_submit::handle))
        .route("/api/scrobble/batches", get(scrobble_batches::handle))
        .route(
            "/api/study-sets/generate",
            post(study_sets::not_implemented),
        )
        .route(
            "/api/study-sets/debug-generate",
            post(study_sets::not_implemented),
        )
        .route("/api/study-sets/{track_id}", get(study_set_get::handle))
        .with_state(state)
}
