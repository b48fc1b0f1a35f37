//! `POST /duet/:id/guest/remove` (JWT, host) → revokes the guest's bridge ticket (later calls
//! with it answer 403 `guest_revoked`) and stops the guest seat.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{duet, forward};
use crate::duet::DuetCommand;
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::state::AppState;

/// Handler.
pub async fn remove(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let command = DuetCommand::GuestRemove {
        wallet: sub.to_lowercase(),
    };
    Ok(forward(duet(&state)?.call(&id, command).await?))
}
