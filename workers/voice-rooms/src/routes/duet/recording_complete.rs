//! `POST /duet/:id/recording/complete` (host bridge ticket; while live or up to 30 min after
//! the end) → stores the recording and clears both bridge tickets.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::{bearer, duet, forward};
use crate::duet::DuetCommand;
use crate::duet::body::error;
use crate::error::AppError;
use crate::routes::rooms_shared::json_text;
use crate::state::AppState;

/// Handler.
pub async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let Some(ticket) = bearer(&headers) else {
        return Ok(json_text(401, error("bridge_ticket_required")));
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(forward(
        duet.call(&id, DuetCommand::RecordingComplete { ticket, body })
            .await?,
    ))
}
