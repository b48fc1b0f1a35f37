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
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::body::Body;
use super::broadcast::{heartbeat, public_info, recording_complete, verify_ticket};
pub use super::command::*;
use super::meta::*;
use crate::rooms::AgoraKeys;
use crate::state::Clock;

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
