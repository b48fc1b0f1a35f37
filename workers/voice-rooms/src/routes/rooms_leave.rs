//! `POST /rooms/leave` (JWT), body `{room_id, connection_id}`: same checks as the heartbeat.
//! The host closes the room for everyone (`closed:true`); anyone else leaves (`closed` when the
//! room is now empty). 200 `{ok, debited_seconds, remaining_seconds, closed}`; the room's 404
//! `participant_not_found` is forwarded.

use axum::extract::State;
use axum::response::Response;

use super::extract::{JsonBody, Session};
use super::rooms_shared::{forward, owned_connection, rooms};
use crate::error::AppError;
use crate::rooms::RoomCommand;
use crate::state::AppState;

/// Handler.
pub async fn leave_room(
    State(state): State<AppState>,
    Session(sub): Session,
    body: JsonBody,
) -> Result<Response, AppError> {
    let wallet = sub.to_lowercase();
    let (room_id, connection_id) = match owned_connection(&state, &wallet, &body).await? {
        Ok(ids) => ids,
        Err(refusal) => return Ok(refusal),
    };
    let rooms = rooms(&state)?;
    let is_host = rooms.db().free_room_host(&room_id).await?.as_deref() == Some(wallet.as_str());
    let command = if is_host {
        RoomCommand::Close { connection_id }
    } else {
        RoomCommand::Leave { connection_id }
    };
    Ok(forward(rooms.call(&room_id, command).await?))
}
