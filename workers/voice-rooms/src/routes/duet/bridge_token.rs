//! `POST /duet/:id/bridge/token` (bridge ticket) → a fresh publisher token for the ticket's
//! seat (host or guest), live rooms only.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{bearer, duet, forward};
use crate::duet::DuetCommand;
use crate::duet::body::error;
use crate::error::AppError;
use crate::routes::rooms_shared::json_text;
use crate::state::AppState;

/// Handler.
pub async fn token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let Some(ticket) = bearer(&headers) else {
        return Ok(json_text(401, error("bridge_ticket_required")));
    };
    Ok(forward(
        duet.call(&id, DuetCommand::BridgeToken { ticket }).await?,
    ))
}
