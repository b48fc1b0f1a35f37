//! `POST /rooms/heartbeat` (JWT), body `{room_id, connection_id}`: 400 `missing room_id or
//! connection_id`, 403 `not_your_connection`, then the room's answer (200 `{ok,
//! remaining_seconds, events}`, 404 `participant_not_found`, 400 `room_not_initialized`).

use axum::extract::State;
use axum::response::Response;

use super::extract::{JsonBody, Session};
use super::rooms_shared::{forward, owned_connection, rooms};
use crate::error::AppError;
use crate::rooms::RoomCommand;
use crate::state::AppState;

/// Handler.
pub async fn heartbeat(
    State(state): State<AppState>,
    Session(sub): Session,
    body: JsonBody,
) -> Result<Response, AppError> {
    let (room_id, connection_id) =
        match owned_connection(&state, &sub.to_lowercase(), &body).await? {
            Ok(ids) => ids,
            Err(refusal) => return Ok(refusal),
        };
    let answer = rooms(&state)?
        .call(&room_id, RoomCommand::Heartbeat { connection_id })
        .await?;
    Ok(forward(answer))
}
