//! `GET /duet/:id/public-info` (no auth) → the room's public state (§4.7), polled every 5 s by
//! both HTML pages and the desktop app.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{duet, forward};
use crate::duet::DuetCommand;
use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn public_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(forward(
        duet(&state)?.call(&id, DuetCommand::PublicInfo).await?,
    ))
}
