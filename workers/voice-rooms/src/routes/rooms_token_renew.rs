//! `POST /rooms/token/renew` (JWT), body `{room_id, connection_id}`: same checks as the
//! heartbeat; the room meters first, then answers 200 `{denied, reason, remaining_seconds,
//! events}` below 90 s or 200 `{agora_token, token_expires_in_seconds, remaining_seconds,
//! events}`.

use axum::extract::State;
use axum::response::Response;

use super::extract::{JsonBody, Session};
use super::rooms_shared::{forward, owned_connection, rooms};
use crate::error::AppError;
use crate::rooms::RoomCommand;
use crate::state::AppState;

/// Handler.
pub async fn renew_token(
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
        .call(&room_id, RoomCommand::Renew { connection_id })
        .await?;
    Ok(forward(answer))
}
