//! `POST /rooms/create` (JWT) → `{room_id, channel, visibility}`. Checks in the original's
//! order: name (403 `heaven_name_required`), 90 s (403 `insufficient_credits`), caller in a free
//! room (409 `already_in_free_room`), caller hosting one (409 `already_hosting_free_room`).
//! The room actor is initialised first, then the row is inserted; the partial unique index
//! settles concurrent creates by one host (the loser's room is destroyed, 409). The host is not
//! joined. `ai_enabled` rooms get their AI host with the first join (rooms::ai_host).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::extract::Session;
use super::rooms_shared::{credit_refusal, error, json_text, rooms};
use crate::error::AppError;
use crate::rooms::agora::free_channel;
use crate::rooms::room::FREE_CAPACITY;
use crate::rooms::{RoomCommand, RoomsDbError};
use crate::state::AppState;

#[derive(Serialize)]
struct Metadata<'a> {
    visibility: &'a str,
    ai_enabled: bool,
}

#[derive(Serialize)]
struct Created<'a> {
    room_id: &'a str,
    channel: &'a str,
    visibility: &'a str,
}

/// Handler.
pub async fn create_room(
    State(state): State<AppState>,
    Session(sub): Session,
    body: Bytes,
) -> Result<Response, AppError> {
    let rooms = rooms(&state)?;
    let wallet = sub.to_lowercase();
    // An unparseable body is `{}`.
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let visibility = if body.get("visibility").and_then(Value::as_str) == Some("private") {
        "private"
    } else {
        "open"
    };
    let ai_enabled = body.get("ai_enabled") == Some(&Value::Bool(true));
    if let Some(refusal) = credit_refusal(&state, &wallet).await? {
        return Ok(refusal);
    }
    if rooms.db().in_free_room(&wallet).await? {
        return Ok(error(409, "already_in_free_room"));
    }
    if rooms.db().hosts_active_free_room(&wallet).await? {
        return Ok(error(409, "already_hosting_free_room"));
    }
    let room_id = uuid::Uuid::new_v4().to_string();
    let channel = free_channel(&room_id);
    let init = rooms
        .call(
            &room_id,
            RoomCommand::Init {
                host_wallet: wallet.clone(),
                capacity: FREE_CAPACITY,
                channel: channel.clone(),
                ai_enabled,
                booked: false,
            },
        )
        .await?;
    if init.status != 200 {
        let code = serde_json::from_str::<Value>(&init.body)
            .ok()
            .and_then(|b| b["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "do_init_failed".to_owned());
        return Ok(error(500, &code));
    }
    let metadata = serde_json::to_string(&Metadata {
        visibility,
        ai_enabled,
    })
    .map_err(AppError::internal)?;
    let created_at = iso_millis(state.now());
    let inserted = rooms
        .db()
        .insert_free_room(&room_id, &wallet, FREE_CAPACITY, &metadata, &created_at)
        .await;
    if let Err(err) = inserted {
        if let Err(rollback) = rooms.call(&room_id, RoomCommand::Destroy).await {
            tracing::warn!(%rollback, room = %room_id, "room rollback failed");
        }
        return match err {
            RoomsDbError::HostHasActiveRoom => Ok(error(409, "already_hosting_free_room")),
            other => Err(other.into()),
        };
    }
    let body = serde_json::to_string(&Created {
        room_id: &room_id,
        channel: &channel,
        visibility,
    })
    .map_err(AppError::internal)?;
    Ok(json_text(200, body))
}

/// JavaScript's `toISOString` of a Unix second.
fn iso_millis(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
