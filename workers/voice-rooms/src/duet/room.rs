//! One duet room as the original's DuetRoomDO ran it (contract §4), as a [`RoomLogic`] for the
//! room's actor: every command is applied alone, with no external await, and the new `meta`
//! is persisted before the answer leaves. Payments are not settled here: the route asks the
//! room for a [`EnterQuote`], settles through the credits canister and the facilitator outside
//! the actor (claim → settle → commit, §9), and reports the first settlement of a segment back
//! with [`DuetCommand::LockSegment`], so a heartbeat or a segment start is never held behind a
//! facilitator call and never overwritten by a stale copy of `meta`.

use std::time::Duration;

use async_trait::async_trait;
use portability::{Applied, PortabilityError, RoomLogic};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::body::{Body, error};
use super::meta::*;
use crate::rooms::AgoraKeys;
use crate::state::Clock;

/// A command to a duet room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DuetCommand {
    /// Create the room (validated again, as the DO did).
    Init(Box<InitRoom>),
    /// The caller accepts the guest seat.
    GuestAccept {
        /// Caller (lowercase).
        wallet: String,
    },
    /// The accepted guest starts its seat (a new guest ticket each time).
    GuestStart {
        /// Caller.
        wallet: String,
    },
    /// The host revokes the guest's ticket.
    GuestRemove {
        /// Caller.
        wallet: String,
    },
    /// The host starts the room (idempotent while live).
    Start {
        /// Caller.
        wallet: String,
    },
    /// The host ends the room (idempotent).
    End {
        /// Caller.
        wallet: String,
    },
    /// The host starts a new segment with its own payee.
    SegmentStart {
        /// Caller.
        wallet: String,
        /// Payee (lowercase, checked by the route).
        pay_to: String,
        /// Rights input (the song's, when a song id was given).
        rights: Option<Value>,
        /// The song lookup's refusal (`song_not_found`, ...), answered after the host checks.
        song_error: Option<String>,
    },
    /// A publisher token for the ticket's seat.
    BridgeToken {
        /// The bearer ticket.
        ticket: String,
    },
    /// A seat's heartbeat.
    Heartbeat {
        /// The bearer ticket.
        ticket: String,
        /// The body (`{}` when it was not JSON).
        body: Value,
    },
    /// The host's recording finished.
    RecordingComplete {
        /// The bearer ticket.
        ticket: String,
        /// The body.
        body: Value,
    },
    /// `GET /public-info`.
    PublicInfo,
    /// What a viewer would pay now, for `enter`, `public-enter` and `replay`.
    Quote {
        /// A segment the payer was quoted earlier (checkout token), if any.
        segment_id: Option<String>,
    },
    /// The first settlement of a segment.
    LockSegment {
        /// Segment.
        segment_id: String,
        /// Its transaction.
        transaction_hash: Option<String>,
    },
}

/// The terms of a new room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitRoom {
    /// Room id.
    pub room_id: String,
    /// Host (lowercase).
    pub host_wallet: String,
    /// Invited guest (lowercase).
    pub guest_wallet: Option<String>,
    /// Payee.
    pub split_address: String,
    /// Network.
    pub network: String,
    /// Asset.
    pub asset_usdc: String,
    /// Base units.
    pub live_amount: String,
    /// Base units.
    pub replay_amount: String,
    /// Minutes (> 0).
    pub access_window_minutes: i64,
    /// Replay mode.
    pub replay_mode: String,
    /// Recording mode.
    pub recording_mode: String,
    /// Channel.
    pub agora_channel: String,
}

/// A segment as a payer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedSegment {
    /// Id.
    pub id: String,
    /// Payee.
    pub pay_to: String,
    /// Price (base units).
    pub live_amount: String,
}

/// The room's terms at one moment, for a payment decided outside the actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnterQuote {
    /// Room id.
    pub room_id: String,
    /// Status.
    pub status: RoomStatus,
    /// Channel.
    pub agora_channel: String,
    /// Network.
    pub network: String,
    /// Asset.
    pub asset_usdc: String,
    /// Default payee (replays).
    pub split_address: String,
    /// Replay price.
    pub replay_amount: String,
    /// Replay mode.
    pub replay_mode: String,
    /// Entitlement window.
    pub access_window_minutes: i64,
    /// The segment being sold now.
    pub current: QuotedSegment,
    /// The segment asked for, when it exists.
    pub requested: Option<QuotedSegment>,
    /// The recording, when done.
    pub recording: Option<Recording>,
}

/// What a room answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuetAnswer {
    /// HTTP status.
    pub status: u16,
    /// JSON body text.
    pub body: String,
    /// The terms, for [`DuetCommand::Quote`].
    #[serde(default)]
    pub quote: Option<Box<EnterQuote>>,
    /// The room has no state (an unknown id): its actor can stop.
    #[serde(default)]
    pub absent: bool,
}

impl DuetAnswer {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            body,
            quote: None,
            absent: false,
        }
    }

    fn error(status: u16, code: &str) -> Self {
        Self::json(status, error(code))
    }

    fn not_live(status: RoomStatus) -> Self {
        Self::json(
            400,
            Body::new()
                .field("error", "room_not_live")
                .field("status", status.as_str())
                .finish(),
        )
    }
}

/// The room logic: Agora keys and the clock.
pub struct DuetRoom {
    /// Agora keys.
    pub agora: AgoraKeys,
    /// Time.
    pub clock: Clock,
}

/// sha256 hex of a ticket or token.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// 24 random bytes as 48 hex characters (bridge tickets, replay tokens).
pub fn random_ticket() -> String {
    hex::encode(rand::thread_rng().r#gen::<[u8; 24]>())
}

/// A random Agora uid (u32 modulo 4294967295).
pub fn random_uid() -> u32 {
    (rand::thread_rng().r#gen::<u32>() as u64 % 0xffff_ffff) as u32
}

/// `0x` + 40 hex.
pub fn is_address(text: &str) -> bool {
    text.len() == 42 && text.starts_with("0x") && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

type Step = (DuetAnswer, Option<DuetMeta>);

impl DuetRoom {
    fn publisher(&self, meta: &DuetMeta, uid: u32, now: i64) -> String {
        self.agora
            .publisher_token(&meta.agora_channel, uid, now, BRIDGE_TOKEN_TTL_SECONDS)
    }

    fn step(&self, meta: Option<DuetMeta>, command: DuetCommand) -> Step {
        let now = self.clock.now();
        if let DuetCommand::Init(init) = command {
            return init_room(meta, *init, now);
        }
        let Some(mut meta) = meta else {
            let mut answer = DuetAnswer::error(404, "room_not_found");
            answer.absent = true;
            return (answer, None);
        };
        let answer = match command {
            DuetCommand::Init(_) => unreachable!("handled above"),
            DuetCommand::GuestAccept { wallet } => guest_accept(&mut meta, &wallet, now),
            DuetCommand::GuestStart { wallet } => self.guest_start(&mut meta, &wallet, now),
            DuetCommand::GuestRemove { wallet } => guest_remove(&mut meta, &wallet, now),
            DuetCommand::Start { wallet } => self.start(&mut meta, &wallet, now),
            DuetCommand::End { wallet } => end(&mut meta, &wallet, now),
            DuetCommand::SegmentStart {
                wallet,
                pay_to,
                rights,
                song_error,
            } => segment_start(&mut meta, &wallet, pay_to, rights, song_error, now),
            DuetCommand::BridgeToken { ticket } => self.bridge_token(&mut meta, &ticket, now),
            DuetCommand::Heartbeat { ticket, body } => heartbeat(&mut meta, &ticket, &body, now),
            DuetCommand::RecordingComplete { ticket, body } => {
                recording_complete(&mut meta, &ticket, &body, now)
            }
            DuetCommand::PublicInfo => public_info(&meta, now),
            DuetCommand::Quote { segment_id } => quote(&meta, segment_id.as_deref()),
            DuetCommand::LockSegment {
                segment_id,
                transaction_hash,
            } => {
                meta.segment_locks.entry(segment_id).or_insert(SegmentLock {
                    locked_at: now,
                    first_settlement_tx_hash: transaction_hash,
                });
                DuetAnswer::json(200, Body::new().field("ok", true).finish())
            }
        };
        (answer, Some(meta))
    }

    fn guest_start(&self, meta: &mut DuetMeta, wallet: &str, now: i64) -> DuetAnswer {
        if meta.status != RoomStatus::Live {
            return DuetAnswer::not_live(meta.status);
        }
        let Some(guest) = meta
            .guest_wallet
            .clone()
            .filter(|_| meta.guest_accepted_at.is_some())
        else {
            return DuetAnswer::error(403, "guest_not_accepted");
        };
        if wallet != guest {
            return DuetAnswer::error(403, "forbidden");
        }
        let ticket = random_ticket();
        let uid = *meta.guest_bridge_agora_uid.get_or_insert_with(random_uid);
        meta.guest_bridge_ticket_hash = Some(sha256_hex(&ticket));
        meta.guest_bridge_ticket = Some(ticket.clone());
        meta.guest_bridge_ticket_revoked_hash = None;
        meta.guest_broadcast = SeatBroadcast::idle();
        meta.recompute_aggregate();
        DuetAnswer::json(
            200,
            Body::new()
                .field("ok", true)
                .field("seat", "guest")
                .field("room_id", &meta.room_id)
                .field("guest_wallet", &guest)
                .field("guest_bridge_ticket", &ticket)
                .field("agora_app_id", &self.agora.app_id)
                .field("agora_channel", &meta.agora_channel)
                .field("agora_broadcaster_uid", uid)
                .field("agora_broadcaster_token", self.publisher(meta, uid, now))
                .field("token_expires_in_seconds", BRIDGE_TOKEN_TTL_SECONDS)
                .field("audience_media_mode", &meta.audience_media_mode)
                .finish(),
        )
    }

    fn start(&self, meta: &mut DuetMeta, wallet: &str, now: i64) -> DuetAnswer {
        if wallet != meta.host_wallet {
            return DuetAnswer::error(403, "forbidden");
        }
        match meta.status {
            RoomStatus::Ended => return DuetAnswer::error(400, "room_already_ended"),
            RoomStatus::Live => {
                if meta.bridge_ticket.is_none() || meta.bridge_ticket_hash.is_none() {
                    let ticket = random_ticket();
                    meta.bridge_ticket_hash = Some(sha256_hex(&ticket));
                    meta.bridge_ticket = Some(ticket);
                }
                let uid = *meta.bridge_agora_uid.get_or_insert_with(random_uid);
                return DuetAnswer::json(
                    200,
                    Body::new()
                        .field("ok", true)
                        .field("already_live", true)
                        .field("status", "live")
                        .opt("live_started_at", meta.live_started_at)
                        .field("agora_app_id", &self.agora.app_id)
                        .field("bridge_ticket", &meta.bridge_ticket)
                        .field("agora_channel", &meta.agora_channel)
                        .field("agora_broadcaster_uid", uid)
                        .field("agora_broadcaster_token", self.publisher(meta, uid, now))
                        .field("token_expires_in_seconds", BRIDGE_TOKEN_TTL_SECONDS)
                        .field("recording_mode", &meta.recording_mode)
                        .field("audience_media_mode", &meta.audience_media_mode)
                        .finish(),
                );
            }
            RoomStatus::Created => {}
        }
        let ticket = random_ticket();
        let uid = *meta.bridge_agora_uid.get_or_insert_with(random_uid);
        meta.status = RoomStatus::Live;
        meta.live_started_at = Some(now);
        meta.bridge_ticket_hash = Some(sha256_hex(&ticket));
        meta.bridge_ticket = Some(ticket.clone());
        meta.bridge_ticket_valid_until = None;
        meta.host_broadcast = SeatBroadcast::idle();
        meta.guest_broadcast = SeatBroadcast::idle();
        meta.broadcast = SeatBroadcast::idle();
        meta.recompute_aggregate();
        DuetAnswer::json(
            200,
            Body::new()
                .field("ok", true)
                .field("status", "live")
                .field("agora_app_id", &self.agora.app_id)
                .field("bridge_ticket", &ticket)
                .field("agora_channel", &meta.agora_channel)
                .field("agora_broadcaster_uid", uid)
                .field("agora_broadcaster_token", self.publisher(meta, uid, now))
                .field("token_expires_in_seconds", BRIDGE_TOKEN_TTL_SECONDS)
                .field("recording_mode", &meta.recording_mode)
                .field("audience_media_mode", &meta.audience_media_mode)
                .finish(),
        )
    }

    fn bridge_token(&self, meta: &mut DuetMeta, ticket: &str, now: i64) -> DuetAnswer {
        let seat = match verify_ticket(meta, ticket, false, true, now) {
            Ok(seat) => seat,
            Err(answer) => return answer,
        };
        if meta.status != RoomStatus::Live {
            return DuetAnswer::error(400, "room_not_live");
        }
        let uid = match seat {
            Seat::Host => *meta.bridge_agora_uid.get_or_insert_with(random_uid),
            Seat::Guest => *meta.guest_bridge_agora_uid.get_or_insert_with(random_uid),
        };
        DuetAnswer::json(
            200,
            Body::new()
                .field("ok", true)
                .field("seat", seat)
                .field("agora_app_id", &self.agora.app_id)
                .field("agora_channel", &meta.agora_channel)
                .field("agora_broadcaster_uid", uid)
                .field("agora_broadcaster_token", self.publisher(meta, uid, now))
                .field("token_expires_in_seconds", BRIDGE_TOKEN_TTL_SECONDS)
                .finish(),
        )
    }
}

fn init_room(existing: Option<DuetMeta>, init: InitRoom, now: i64) -> Step {
    if let Some(meta) = existing {
        let body = Body::new()
            .field("ok", true)
            .field("already_initialized", true)
            .field("room_id", &meta.room_id)
            .field("agora_channel", &meta.agora_channel)
            .finish();
        return (DuetAnswer::json(200, body), Some(meta));
    }
    let refuse = |code: &str| (DuetAnswer::error(400, code), None);
    if !is_address(&init.host_wallet) {
        return refuse("invalid_host_wallet");
    }
    if init.guest_wallet.as_deref().is_some_and(|g| !is_address(g)) {
        return refuse("invalid_guest_wallet");
    }
    if !is_address(&init.split_address) {
        return refuse("invalid_split_address");
    }
    if !is_address(&init.asset_usdc) {
        return refuse("invalid_asset_usdc");
    }
    if init.network != "eip155:8453" && init.network != ALLOWED_NETWORK {
        return refuse("invalid_network");
    }
    if init.network != ALLOWED_NETWORK {
        return refuse("network_not_allowed");
    }
    if init.asset_usdc.to_lowercase() != BASE_SEPOLIA_USDC {
        return refuse("asset_not_allowed");
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(&init.live_amount) || !digits(&init.replay_amount) {
        return refuse("invalid_amount");
    }
    if init.access_window_minutes <= 0 {
        return refuse("invalid_access_window");
    }
    if !matches!(init.replay_mode.as_str(), "load_gated" | "worker_gated") {
        return refuse("invalid_replay_mode");
    }
    if !matches!(init.recording_mode.as_str(), "host_local" | "agora_cloud") {
        return refuse("invalid_recording_mode");
    }
    let split = init.split_address.to_lowercase();
    let meta = DuetMeta {
        room_id: init.room_id,
        status: RoomStatus::Created,
        host_wallet: init.host_wallet.to_lowercase(),
        guest_wallet: init.guest_wallet.map(|g| g.to_lowercase()),
        guest_accepted_at: None,
        split_address: split.clone(),
        network: init.network,
        asset_usdc: init.asset_usdc.to_lowercase(),
        live_amount: init.live_amount.clone(),
        replay_amount: init.replay_amount.clone(),
        access_window_minutes: init.access_window_minutes,
        replay_mode: init.replay_mode,
        recording_mode: init.recording_mode,
        audience_media_mode: "bridge".to_owned(),
        agora_channel: init.agora_channel,
        bridge_ticket: None,
        bridge_ticket_hash: None,
        bridge_ticket_valid_until: None,
        bridge_agora_uid: None,
        guest_bridge_ticket: None,
        guest_bridge_ticket_hash: None,
        guest_bridge_ticket_revoked_hash: None,
        guest_bridge_agora_uid: None,
        host_broadcast: SeatBroadcast::idle(),
        guest_broadcast: SeatBroadcast::idle(),
        broadcast: SeatBroadcast::idle(),
        live_started_at: None,
        ended_at: None,
        recording: None,
        segments: vec![Segment {
            id: "seg-1".to_owned(),
            started_at: now,
            pay_to: split,
            pricing: SegmentPricing {
                live_amount: init.live_amount,
                replay_amount: Some(init.replay_amount),
            },
            rights: Some(serde_json::json!({"kind": "original"})),
        }],
        current_segment_id: "seg-1".to_owned(),
        segment_locks: Default::default(),
        created_at: now,
    };
    let body = Body::new()
        .field("ok", true)
        .field("room_id", &meta.room_id)
        .field("agora_channel", &meta.agora_channel)
        .field("status", "created")
        .finish();
    (DuetAnswer::json(200, body), Some(meta))
}

fn guest_accept(meta: &mut DuetMeta, wallet: &str, now: i64) -> DuetAnswer {
    if meta.guest_wallet.as_deref().is_some_and(|g| g != wallet) {
        return DuetAnswer::error(403, "guest_wallet_locked");
    }
    if meta.guest_accepted_at.is_some() {
        return DuetAnswer::json(
            200,
            Body::new()
                .field("ok", true)
                .field("already_accepted", true)
                .opt("guest_wallet", meta.guest_wallet.as_deref())
                .finish(),
        );
    }
    meta.guest_wallet = Some(wallet.to_owned());
    meta.guest_accepted_at = Some(now);
    DuetAnswer::json(
        200,
        Body::new()
            .field("ok", true)
            .field("guest_wallet", wallet)
            .field("guest_accepted_at", now)
            .finish(),
    )
}

fn guest_remove(meta: &mut DuetMeta, wallet: &str, now: i64) -> DuetAnswer {
    if wallet != meta.host_wallet {
        return DuetAnswer::error(403, "forbidden");
    }
    let had_ticket = meta.guest_bridge_ticket_hash.is_some();
    if let Some(hash) = meta.guest_bridge_ticket_hash.take() {
        meta.guest_bridge_ticket_revoked_hash = Some(hash);
    }
    meta.guest_bridge_ticket = None;
    meta.guest_broadcast = SeatBroadcast {
        state: BroadcastState::Stopped,
        mode: None,
        heartbeat_at: Some(now),
        started_at: meta.guest_broadcast.started_at,
        media: Media::default(),
    };
    if !meta.host_broadcast.media.video {
        meta.audience_media_mode = "bridge".to_owned();
    }
    meta.recompute_aggregate();
    DuetAnswer::json(
        200,
        Body::new()
            .field("ok", true)
            .field("revoked", had_ticket)
            .field("already_revoked", !had_ticket)
            .field("audience_media_mode", &meta.audience_media_mode)
            .finish(),
    )
}

fn end(meta: &mut DuetMeta, wallet: &str, now: i64) -> DuetAnswer {
    if wallet != meta.host_wallet {
        return DuetAnswer::error(403, "forbidden");
    }
    if meta.status == RoomStatus::Ended {
        return DuetAnswer::json(
            200,
            Body::new()
                .field("ok", true)
                .field("already_ended", true)
                .opt("ended_at", meta.ended_at)
                .finish(),
        );
    }
    meta.status = RoomStatus::Ended;
    meta.ended_at = Some(now);
    let host_mode = meta
        .host_broadcast
        .mode
        .clone()
        .or_else(|| meta.broadcast.mode.clone());
    meta.host_broadcast.state = BroadcastState::Stopped;
    meta.host_broadcast.mode = host_mode;
    meta.host_broadcast.heartbeat_at = Some(now);
    meta.host_broadcast.media = Media::default();
    meta.guest_broadcast.state = BroadcastState::Stopped;
    meta.guest_broadcast.mode = None;
    meta.guest_broadcast.heartbeat_at = Some(now);
    meta.guest_broadcast.media = Media::default();
    meta.audience_media_mode = "bridge".to_owned();
    meta.recompute_aggregate();
    if meta.bridge_ticket_hash.is_some() {
        meta.bridge_ticket_valid_until = Some(now + BRIDGE_TICKET_GRACE_AFTER_END_SECONDS);
    }
    DuetAnswer::json(
        200,
        Body::new()
            .field("ok", true)
            .field("status", "ended")
            .field("ended_at", now)
            .opt("bridge_ticket_valid_until", meta.bridge_ticket_valid_until)
            .finish(),
    )
}

fn segment_start(
    meta: &mut DuetMeta,
    wallet: &str,
    pay_to: String,
    rights: Option<Value>,
    song_error: Option<String>,
    now: i64,
) -> DuetAnswer {
    if meta.status != RoomStatus::Live {
        return DuetAnswer::not_live(meta.status);
    }
    if wallet != meta.host_wallet {
        return DuetAnswer::error(403, "forbidden");
    }
    if !is_address(&pay_to) {
        return DuetAnswer::error(400, "invalid_pay_to");
    }
    if meta.segments.len() >= MAX_SEGMENTS {
        return DuetAnswer::json(
            400,
            Body::new()
                .field("error", "max_segments_reached")
                .field("max", MAX_SEGMENTS)
                .finish(),
        );
    }
    if let Some(code) = song_error {
        return DuetAnswer::error(400, &code);
    }
    let segment = Segment {
        id: uuid::Uuid::new_v4().to_string(),
        started_at: now,
        pay_to: pay_to.to_lowercase(),
        pricing: SegmentPricing {
            live_amount: meta.live_amount.clone(),
            replay_amount: Some(meta.replay_amount.clone()),
        },
        rights: rights.as_ref().and_then(super::rights::normalize),
    };
    meta.current_segment_id = segment.id.clone();
    let answer = Body::new()
        .field("ok", true)
        .field("current_segment_id", &segment.id)
        .field("segment", &segment)
        .finish();
    meta.segments.push(segment);
    DuetAnswer::json(200, answer)
}

/// The ticket check of §4.6: the seat, or the refusal.
fn verify_ticket(
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

fn heartbeat(meta: &mut DuetMeta, ticket: &str, body: &Value, now: i64) -> DuetAnswer {
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

fn recording_complete(meta: &mut DuetMeta, ticket: &str, body: &Value, now: i64) -> DuetAnswer {
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

fn public_info(meta: &DuetMeta, now: i64) -> DuetAnswer {
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

fn quoted(s: &Segment) -> QuotedSegment {
    QuotedSegment {
        id: s.id.clone(),
        pay_to: s.pay_to.clone(),
        live_amount: s.pricing.live_amount.clone(),
    }
}

fn quote(meta: &DuetMeta, segment_id: Option<&str>) -> DuetAnswer {
    let mut answer = DuetAnswer::json(200, Body::new().field("ok", true).finish());
    answer.quote = Some(Box::new(EnterQuote {
        room_id: meta.room_id.clone(),
        status: meta.status,
        agora_channel: meta.agora_channel.clone(),
        network: meta.network.clone(),
        asset_usdc: meta.asset_usdc.clone(),
        split_address: meta.split_address.clone(),
        replay_amount: meta.replay_amount.clone(),
        replay_mode: meta.replay_mode.clone(),
        access_window_minutes: meta.access_window_minutes,
        current: quoted(meta.current_segment()),
        requested: segment_id.and_then(|id| meta.segment(id)).map(quoted),
        recording: meta.recording.clone(),
    }));
    answer
}

#[async_trait]
impl RoomLogic for DuetRoom {
    async fn apply(
        &self,
        _room_id: &str,
        state: Option<&[u8]>,
        command: &[u8],
    ) -> Result<Applied, PortabilityError> {
        let invalid = |e: serde_json::Error| PortabilityError::InvalidInput(e.to_string());
        let command: DuetCommand = serde_json::from_slice(command).map_err(invalid)?;
        let meta = state
            .map(serde_json::from_slice::<DuetMeta>)
            .transpose()
            .map_err(invalid)?;
        let (answer, meta) = self.step(meta, command);
        let state = meta
            .map(|m| serde_json::to_vec(&m))
            .transpose()
            .map_err(invalid)?;
        Ok(Applied {
            state,
            event: serde_json::to_vec(&answer).map_err(invalid)?,
        })
    }

    fn alarm_after(&self, _state: Option<&[u8]>) -> Option<Duration> {
        // Duet rooms never end by themselves (§4.2).
        None
    }

    fn alarm_command(&self) -> Vec<u8> {
        serde_json::to_vec(&DuetCommand::PublicInfo).expect("a command serialises")
    }
}
