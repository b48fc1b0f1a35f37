//! The broadcast side of a duet room (§4.6, §4.7): the bridge-ticket check, seat heartbeats
//! with their media and the audience media mode, recording-complete, and public-info.

use serde_json::Value;

use super::body::Body;
use super::command::DuetAnswer;
use super::meta::*;
use super::room::sha256_hex;

/// The ticket check of §4.6: the seat, or the refusal.
pub(super) fn verify_ticket(
    meta: &DuetMeta,
    ticket: &str,
    allow_after_end: bool,
    allow_guest: bool,
    now: i64,
) -> Result<Seat, DuetAnswer> {
    if meta.bridge_ticket_hash.is_none() && meta.guest_bridge_ticket_hash.is_none() {
        return Err(DuetAnswer::error(400, "bridge_not_started"));
    }
    let hash = sha256_hex(ticket);
    if meta.guest_bridge_ticket_revoked_hash.as_deref() == Some(hash.as_str()) {
        return Err(DuetAnswer::error(403, "guest_revoked"));
    }
    let seat = if meta.bridge_ticket_hash.as_deref() == Some(hash.as_str()) {
        Seat::Host
    } else if meta.guest_bridge_ticket_hash.as_deref() == Some(hash.as_str()) {
        Seat::Guest
    } else {
        return Err(DuetAnswer::error(403, "forbidden"));
    };
    if seat == Seat::Guest && !allow_guest {
        return Err(DuetAnswer::error(403, "forbidden"));
    }
    if meta.status == RoomStatus::Ended {
        if !allow_after_end {
            return Err(DuetAnswer::error(400, "room_not_live"));
        }
        if seat == Seat::Guest || now > meta.bridge_ticket_valid_until.unwrap_or(0) {
            return Err(DuetAnswer::error(401, "bridge_ticket_expired"));
        }
    }
    Ok(seat)
}

pub(super) fn heartbeat(meta: &mut DuetMeta, ticket: &str, body: &Value, now: i64) -> DuetAnswer {
    let seat = match verify_ticket(meta, ticket, false, true, now) {
        Ok(seat) => seat,
        Err(answer) => return answer,
    };
    if meta.status != RoomStatus::Live {
        return DuetAnswer::not_live(meta.status);
    }
    let stopped = body.get("status").and_then(Value::as_str) == Some("stopped");
    let mode = body
        .get("mode")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(|m| m.chars().take(24).collect::<String>());
    let truthy = |v: Option<&Value>| match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    };
    let seat_state = meta.seat_mut(seat);
    let media = if stopped {
        Media::default()
    } else {
        match body.get("media").filter(|m| truthy(Some(m))) {
            Some(m) => Media {
                audio: truthy(m.get("audio")),
                video: truthy(m.get("video")),
            },
            None => seat_state.media,
        }
    };
    seat_state.state = if stopped {
        BroadcastState::Stopped
    } else {
        BroadcastState::Live
    };
    if mode.is_some() {
        seat_state.mode = mode;
    }
    seat_state.heartbeat_at = Some(now);
    if !stopped && seat_state.started_at.is_none() {
        seat_state.started_at = Some(now);
    }
    seat_state.media = media;
    let video = |s: &SeatBroadcast| s.state == BroadcastState::Live && s.media.video;
    meta.audience_media_mode = if video(&meta.host_broadcast) || video(&meta.guest_broadcast) {
        "direct"
    } else {
        "bridge"
    }
    .to_owned();
    meta.recompute_aggregate();
    DuetAnswer::json(
        200,
        Body::new()
            .field("ok", true)
            .field("seat", seat)
            .field("room_id", &meta.room_id)
            .field("broadcast_state", meta.broadcast.state)
            .field("broadcast_mode", &meta.broadcast.mode)
            .opt("broadcast_heartbeat_at", meta.broadcast.heartbeat_at)
            .field("broadcaster_online", meta.broadcaster_online(now))
            .field("audience_media_mode", &meta.audience_media_mode)
            .field("host_broadcaster_online", meta.seat_online(Seat::Host, now))
            .field(
                "guest_broadcaster_online",
                meta.seat_online(Seat::Guest, now),
            )
            .finish(),
    )
}

pub(super) fn recording_complete(
    meta: &mut DuetMeta,
    ticket: &str,
    body: &Value,
    now: i64,
) -> DuetAnswer {
    if let Err(answer) = verify_ticket(meta, ticket, true, false, now) {
        return answer;
    }
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let Some(load_dataitem_id) = text("load_dataitem_id") else {
        return DuetAnswer::error(400, "missing_load_dataitem_id");
    };
    let replay_url = text("replay_url");
    let replay_x402_url = text("replay_x402_url");
    if meta.replay_mode == "load_gated" && replay_x402_url.is_none() {
        return DuetAnswer::error(400, "missing_replay_x402_url");
    }
    if meta.replay_mode == "worker_gated" && replay_url.is_none() {
        return DuetAnswer::error(400, "missing_replay_url");
    }
    let created_at = body
        .get("created_at")
        .and_then(Value::as_f64)
        .filter(|f| f.is_finite())
        .map(|f| f.floor() as i64)
        .unwrap_or(now);
    let recording = Recording {
        load_dataitem_id,
        replay_url,
        replay_x402_url,
        created_at,
    };
    meta.recording = Some(recording.clone());
    meta.bridge_ticket = None;
    meta.bridge_ticket_hash = None;
    meta.guest_bridge_ticket = None;
    meta.guest_bridge_ticket_hash = None;
    meta.guest_broadcast.state = BroadcastState::Stopped;
    meta.guest_broadcast.media = Media::default();
    meta.recompute_aggregate();
    DuetAnswer::json(
        200,
        Body::new()
            .field("ok", true)
            .field("replay_mode", &meta.replay_mode)
            .field("recording", &recording)
            .finish(),
    )
}

fn seat_info(meta: &DuetMeta, seat: Seat, now: i64) -> String {
    let s = meta.seat(seat);
    Body::new()
        .field("state", s.state)
        .field("mode", &s.mode)
        .field("heartbeat_at", s.heartbeat_at)
        .raw(
            "media",
            Body::new()
                .field("audio", s.media.audio)
                .field("video", s.media.video)
                .finish(),
        )
        .field("online", meta.seat_online(seat, now))
        .finish()
}

pub(super) fn public_info(meta: &DuetMeta, now: i64) -> DuetAnswer {
    let audience = if meta.live_amount == "0" {
        "free"
    } else {
        "ticketed"
    };
    let body = Body::new()
        .field("room_id", &meta.room_id)
        .field("status", meta.status)
        .field("audience_mode", audience)
        .field("can_enter", meta.status == RoomStatus::Live)
        .field("broadcast_state", meta.broadcast.state)
        .field("broadcast_mode", &meta.broadcast.mode)
        .field("broadcast_heartbeat_at", meta.broadcast.heartbeat_at)
        .field("broadcaster_online", meta.broadcaster_online(now))
        .field("audience_media_mode", &meta.audience_media_mode)
        .raw(
            "broadcaster_uids",
            Body::new()
                .field("host", meta.bridge_agora_uid)
                .field("guest", meta.guest_bridge_agora_uid)
                .finish(),
        )
        .raw("host_broadcast", seat_info(meta, Seat::Host, now))
        .raw("guest_broadcast", seat_info(meta, Seat::Guest, now))
        .finish();
    DuetAnswer::json(200, body)
}
