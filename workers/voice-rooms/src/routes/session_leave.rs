//! `POST /session/:id/leave` (JWT): the caller's first active participant row in
//! `booked-<id>`; none → 200 `{"ok":true,"duration_ms":0}`. Else the leave is recorded in the
//! credits canister (503 `service unavailable` when it does not answer, nothing changed), the
//! room's actor lets the connection go (a refusal → 500 with its `error`, else
//! `leave_failed`), and 200 `{"ok":true,"duration_ms":(now − joined) × 1000}`.

use axum::extract::{Path, State};
use axum::response::Response;

use super::extract::Session;
use super::rooms_shared::{error, json_text, rooms};
use crate::auth::Wallet;
use crate::credits::PresenceChange;
use crate::error::AppError;
use crate::rooms::RoomCommand;
use crate::state::AppState;

/// Handler.
pub async fn leave_session(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(booking_id): Path<String>,
) -> Result<Response, AppError> {
    let rooms = rooms(&state)?;
    let wallet = sub.to_lowercase();
    let room_id = format!("booked-{booking_id}");
    let now = state.now();
    let Some((connection_id, joined_at)) = rooms.db().active_connection(&room_id, &wallet).await?
    else {
        return Ok(json_text(200, r#"{"ok":true,"duration_ms":0}"#.to_owned()));
    };
    if let Some(parsed) = Wallet::parse(&wallet) {
        state
            .credits()
            .record_presence(&booking_id, &parsed, PresenceChange::Left, now)
            .await?;
    }
    let answer = rooms
        .call(&room_id, RoomCommand::Leave { connection_id })
        .await?;
    if answer.status != 200 {
        let code = serde_json::from_str::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "leave_failed".to_owned());
        tracing::error!(room = %room_id, %code, "session leave failed in the room");
        return Ok(error(500, &code));
    }
    let duration_ms = (now - joined_at) * 1000;
    tracing::info!(booking = %booking_id, %wallet, duration_ms, "booked session left");
    Ok(json_text(
        200,
        format!(r#"{{"ok":true,"duration_ms":{duration_ms}}}"#),
    ))
}
