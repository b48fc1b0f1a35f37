//! `POST /session/join` (JWT), body `{booking_id}`: joins the booked session's room. Checks in
//! the original's order: 400 `missing booking_id`; not ASCII digits after trimming → 400
//! `invalid booking_id`; escrow `getBooking` none → 404 `booking not found` (also for an id
//! beyond uint256, which the original's read failed on); status not Booked → 400 `booking not
//! active`; `getSlot` none → 404 `slot not found`; caller neither slot host nor booking guest →
//! 403 `not a participant`; now < start − 300 s → 400 `too early to join`; now > start +
//! duration → 400 `session has ended`.
//!
//! Then the room `booked-<id>` (channel `heaven-<CHAIN_ID>-<id>`): its row inserted or left as
//! it is, its actor initialised (idempotent) and joined (409 `room_full` at two connections,
//! forwarded), the participant row inserted, the join recorded in the credits canister (a
//! failure of either leaves the room again; the canister's is 503 `service unavailable`).
//! 200 `{"channel","agora_token","user_uid"}` with a 3600 s publisher token.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::extract::{JsonBody, Session};
use super::rooms_shared::{error, forward, json_text, rooms};
use crate::auth::Wallet;
use crate::credits::PresenceChange;
use crate::error::AppError;
use crate::rooms::agora::address_to_uid;
use crate::rooms::db::NewParticipant;
use crate::rooms::room::{BOOKED_CAPACITY, iso};
use crate::rooms::{BookedJoinAnswer, RoomCommand, Rooms};
use crate::state::AppState;

/// Seconds before the start when the room opens.
pub const JOIN_WINDOW_BEFORE_SECONDS: i64 = 5 * 60;
/// The escrow's `Booked` booking status.
const BOOKING_BOOKED: u8 = 1;

#[derive(Serialize)]
struct Joined<'a> {
    channel: &'a str,
    agora_token: &'a str,
    user_uid: u32,
}

/// The booked session's channel.
pub fn booked_channel(chain_id: u64, booking_id: &str) -> String {
    format!("heaven-{chain_id}-{booking_id}")
}

/// Handler.
pub async fn join_session(
    State(state): State<AppState>,
    Session(sub): Session,
    body: JsonBody,
) -> Result<Response, AppError> {
    let rooms = rooms(&state)?;
    let Some(raw) = body.string("booking_id") else {
        return Ok(error(400, "missing booking_id"));
    };
    let booking_id = raw.trim();
    if booking_id.is_empty() || !booking_id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(error(400, "invalid booking_id"));
    }
    let booking = match heaven_eth::U256::from_str_radix(booking_id, 10) {
        Ok(id) => state.escrow().booking(id).await,
        Err(_) => None,
    };
    let Some(booking) = booking else {
        return Ok(error(404, "booking not found"));
    };
    if booking.status != BOOKING_BOOKED {
        return Ok(error(400, "booking not active"));
    }
    let Some(slot) = state.escrow().slot(booking.slotId).await else {
        return Ok(error(404, "slot not found"));
    };
    let wallet = sub.to_lowercase();
    let host = heaven_eth::address::to_lower_hex(&slot.host);
    let guest = heaven_eth::address::to_lower_hex(&booking.guest);
    if wallet != host && wallet != guest {
        return Ok(error(403, "not a participant"));
    }
    let now = state.now();
    let start = i64::try_from(slot.startTime.to::<u64>()).unwrap_or(i64::MAX);
    if now < start - JOIN_WINDOW_BEFORE_SECONDS {
        return Ok(error(400, "too early to join"));
    }
    if now > start + i64::from(slot.durationMins) * 60 {
        return Ok(error(400, "session has ended"));
    }
    let Some(parsed) = Wallet::parse(&wallet) else {
        // A session token's `sub` that is not an address cannot be a host or guest.
        return Ok(error(403, "not a participant"));
    };

    let room_id = format!("booked-{booking_id}");
    let channel = booked_channel(state.chain_id(), booking_id);
    let agora_uid = address_to_uid(&wallet);
    let connection_id = uuid::Uuid::new_v4().to_string();
    rooms
        .db()
        .insert_booked_room(
            &room_id,
            booking_id.parse().ok(),
            &host,
            BOOKED_CAPACITY,
            &iso(now),
        )
        .await?;
    let init = rooms
        .call(
            &room_id,
            RoomCommand::Init {
                host_wallet: host.clone(),
                capacity: BOOKED_CAPACITY,
                channel: channel.clone(),
                ai_enabled: false,
                booked: true,
            },
        )
        .await?;
    if init.status != 200 {
        let code = serde_json::from_str::<serde_json::Value>(&init.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "do_init_failed".to_owned());
        return Ok(error(500, &code));
    }
    let answer = rooms
        .call(
            &room_id,
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
    let joined: BookedJoinAnswer =
        serde_json::from_str(&answer.body).map_err(AppError::internal)?;
    let row = NewParticipant {
        connection_id: &connection_id,
        room_id: &room_id,
        wallet: &wallet,
        agora_uid,
        joined_at: now,
    };
    if let Err(err) = rooms.db().insert_participant(&row).await {
        compensate(rooms, &room_id, &connection_id).await;
        return Err(err.into());
    }
    if let Err(err) = state
        .credits()
        .record_presence(booking_id, &parsed, PresenceChange::Joined, now)
        .await
    {
        compensate(rooms, &room_id, &connection_id).await;
        return Err(err.into());
    }
    tracing::info!(booking = %booking_id, %wallet, uid = agora_uid, "booked session joined");
    let body = serde_json::to_string(&Joined {
        channel: &channel,
        agora_token: &joined.agora_token,
        user_uid: agora_uid,
    })
    .map_err(AppError::internal)?;
    Ok(json_text(200, body))
}

/// Leaves the room again after a failed join (the room's leave marks any row left).
async fn compensate(rooms: &Rooms, room_id: &str, connection_id: &str) {
    let leave = RoomCommand::Leave {
        connection_id: connection_id.to_owned(),
    };
    if let Err(err) = rooms.call(room_id, leave).await {
        tracing::warn!(%err, room = %room_id, "session join compensation failed");
    }
}
