//! `POST /duet/:id/guest/start` (JWT, the accepted guest) → a new guest bridge ticket and
//! publisher token for the guest seat (live rooms only).

use axum::extract::{Path, State};
use axum::response::Response;

use super::{duet, forward};
use crate::duet::DuetCommand;
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::state::AppState;

/// Handler.
pub async fn start(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let command = DuetCommand::GuestStart {
        wallet: sub.to_lowercase(),
    };
    Ok(forward(duet(&state)?.call(&id, command).await?))
}
