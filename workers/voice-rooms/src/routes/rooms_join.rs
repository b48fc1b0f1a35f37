//! `POST /rooms/join` (JWT), body `{room_id}`. Checks in the original's order: 400
//! `missing room_id`, credits (403), 409 `already_in_free_room`, 404 `room_not_found`, 400
//! `room_type_mismatch`, 409 `room_full` (from the rows; the room actor checks again, exactly,
//! and its 409 / 400 answers are forwarded). The actor seats the caller first, then the row is
//! inserted with the wallet's seat in `free_room_seats`, in one transaction (a failed insert
//! is compensated by a leave and answers 500, or 409 `already_in_free_room` when a concurrent
//! join by the same wallet won the seat after the check).

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::extract::{JsonBody, Session};
use super::rooms_shared::{credit_refusal, error, forward, json_text, rooms};
use crate::error::AppError;
use crate::rooms::RoomsDbError;
use crate::rooms::agora::{address_to_uid, free_channel};
use crate::rooms::db::NewParticipant;
use crate::rooms::{JoinAnswer, RoomCommand};
use crate::state::AppState;

#[derive(Serialize)]
struct Joined<'a> {
    room_id: &'a str,
    channel: &'a str,
    connection_id: &'a str,
    agora_uid: u32,
    host_wallet: &'a str,
    is_host: bool,
    agora_token: &'a str,
    token_expires_in_seconds: u32,
    renew_after_seconds: u64,
    heartbeat_interval_seconds: i64,
    remaining_seconds: u64,
}

/// Handler.
pub async fn join_room(
    State(state): State<AppState>,
    Session(sub): Session,
    body: JsonBody,
) -> Result<Response, AppError> {
    let rooms = rooms(&state)?;
    let wallet = sub.to_lowercase();
    let Some(room_id) = body.string("room_id") else {
        return Ok(error(400, "missing room_id"));
    };
    if let Some(refusal) = credit_refusal(&state, &wallet).await? {
        return Ok(refusal);
    }
    if rooms.db().in_free_room(&wallet).await? {
        return Ok(error(409, "already_in_free_room"));
    }
    let Some(room) = rooms.db().active_room(room_id).await? else {
        return Ok(error(404, "room_not_found"));
    };
    if room.room_type != "free" {
        return Ok(error(400, "room_type_mismatch"));
    }
    if rooms.db().active_participant_count(room_id).await? >= room.capacity {
        return Ok(error(409, "room_full"));
    }
    let connection_id = uuid::Uuid::new_v4().to_string();
    let agora_uid = address_to_uid(&wallet);
    let answer = rooms
        .call(
            room_id,
            RoomCommand::Join {
                connection_id: connection_id.clone(),
                wallet: wallet.clone(),
                agora_uid,
            },
        )
        .await?;
    if answer.status != 200 {
        return Ok(forward(answer));
    }
    let joined: JoinAnswer = serde_json::from_str(&answer.body).map_err(AppError::internal)?;
    let row = NewParticipant {
        connection_id: &connection_id,
        room_id,
        wallet: &wallet,
        agora_uid,
        joined_at: state.now(),
    };
    if let Err(err) = rooms.db().insert_free_participant(&row).await {
        let leave = RoomCommand::Leave {
            connection_id: connection_id.clone(),
        };
        if let Err(compensation) = rooms.call(room_id, leave).await {
            tracing::warn!(%compensation, room = %room_id, "join compensation failed");
        }
        return match err {
            // A concurrent join by the same wallet took the seat after our check.
            RoomsDbError::WalletInFreeRoom => Ok(error(409, "already_in_free_room")),
            other => Err(other.into()),
        };
    }
    let channel = free_channel(room_id);
    let body = serde_json::to_string(&Joined {
        room_id,
        channel: &channel,
        connection_id: &connection_id,
        agora_uid,
        host_wallet: &room.host_wallet,
        is_host: room.host_wallet == wallet,
        agora_token: &joined.agora_token,
        token_expires_in_seconds: joined.token_expires_in_seconds,
        renew_after_seconds: joined.renew_after_seconds,
        heartbeat_interval_seconds: joined.heartbeat_interval_seconds,
        remaining_seconds: joined.remaining_seconds,
    })
    .map_err(AppError::internal)?;
    Ok(json_text(200, body))
}
