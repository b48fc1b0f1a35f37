//! `/api/photos/*` (contracts/api-core.md §5.2), one file per action. Paths, form fields,
//! JSON members, statuses and error texts are the original's; where the answer changed
//! (the pipeline is a job) the module says so.

pub mod access;
pub mod anime_tile;
pub mod internal_source;
pub mod pipeline_start;
pub mod pipeline_status;
pub mod reveal;

use axum::Router;
use axum::routing::{get, post};

use crate::error::{MediaError, MediaResult};
use crate::photos::PhotoService;
use crate::state::MediaState;

/// The photo service, or 501 when the binary did not configure one.
pub fn service(state: &MediaState) -> MediaResult<&PhotoService> {
    state.photos().ok_or_else(MediaError::not_implemented)
}

async fn not_implemented() -> MediaError {
    MediaError::not_implemented()
}

/// The photo routes.
pub fn router() -> Router<MediaState> {
    Router::new()
        .route("/api/photos/pipeline", post(pipeline_start::handle))
        .route(
            "/api/photos/pipeline/{job_id}",
            get(pipeline_status::handle),
        )
        .route(
            "/api/photos/anime/{user_id}/{slot}",
            get(anime_tile::handle),
        )
        .route(
            "/api/photos/internal/source/{photo_id}",
            get(internal_source::handle),
        )
        .route("/api/photos/reveal/{photo_id}", get(reveal::handle))
        .route("/api/photos/access", post(access::handle))
        // The original's public test renders are not carried over yet.
        .route("/api/photos/debug/overlay", get(not_implemented))
        .route("/api/photos/debug/stamp", get(not_implemented))
        .route("/api/photos/debug/draw", get(not_implemented))
}
