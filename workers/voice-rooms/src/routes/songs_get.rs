//! `GET /songs/:id` (no auth): the whole `song_registry` row, or 404 `{"error":"not_found"}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_common::json_error;

use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn get_song(
    State(state): State<AppState>,
    Path(song_id): Path<String>,
) -> Result<Response, AppError> {
    Ok(
        match state
            .songs()
            .get(&song_id)
            .await
            .map_err(AppError::internal)?
        {
            Some(song) => Json(song).into_response(),
            None => json_error(StatusCode::NOT_FOUND, "not_found"),
        },
    )
}
