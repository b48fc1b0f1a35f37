//! `GET /rooms/active` (no auth) → `{"rooms":[{room_id, host_wallet, participant_count,
//! created_at}]}`: active free rooms whose visibility is `open` (or without metadata), newest
//! first, at most 50.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::rooms_shared::{json_text, rooms};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize)]
struct ActiveRoom {
    room_id: String,
    host_wallet: String,
    participant_count: i64,
    created_at: String,
}

#[derive(Serialize)]
struct ActiveRooms {
    rooms: Vec<ActiveRoom>,
}

/// Handler.
pub async fn active_rooms(State(state): State<AppState>) -> Result<Response, AppError> {
    let rooms = rooms(&state)?
        .db()
        .open_active_rooms()
        .await?
        .into_iter()
        .map(
            |(room_id, host_wallet, participant_count, created_at)| ActiveRoom {
                room_id,
                host_wallet,
                participant_count,
                created_at,
            },
        )
        .collect();
    let body = serde_json::to_string(&ActiveRooms { rooms }).map_err(AppError::internal)?;
    Ok(json_text(200, body))
}
