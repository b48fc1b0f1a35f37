//! What a duet room's actor keeps (contract §4.1): the original's `meta` record, field for
//! field (JSON, absent fields omitted as `JSON.stringify` drops `undefined`), with the broadcast
//! aggregate and online rules of §4.6. Entitlements, settlement markers and replay tokens are
//! not here: they are the credits canister's.

use serde::{Deserialize, Serialize};

/// Base Sepolia, the only network duet rooms accept.
pub const ALLOWED_NETWORK: &str = "eip155:84532";
/// Base Sepolia USDC, the only asset duet rooms accept (lowercase).
pub const BASE_SEPOLIA_USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
/// Publisher tokens of the bridge seats.
pub const BRIDGE_TOKEN_TTL_SECONDS: u32 = 7200;
/// How long the host ticket stays usable for recording-complete after the room ended.
pub const BRIDGE_TICKET_GRACE_AFTER_END_SECONDS: i64 = 1800;
/// A seat is online while its last heartbeat is at most this old.
pub const BROADCAST_ONLINE_WINDOW_SECONDS: i64 = 20;
/// Segments per room.
pub const MAX_SEGMENTS: usize = 500;
/// Viewer tokens.
pub const VIEWER_TOKEN_TTL_SECONDS: u32 = 90;

/// created → live → ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomStatus {
    /// Created, not started.
    Created,
    /// Started by the host.
    Live,
    /// Ended by the host.
    Ended,
}

impl RoomStatus {
    /// The original's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Live => "live",
            Self::Ended => "ended",
        }
    }
}

/// A seat's broadcast state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BroadcastState {
    /// Never broadcast (or reset by a start).
    #[default]
    Idle,
    /// Heartbeating.
    Live,
    /// Stopped by the broadcaster, the host or the end of the room.
    Stopped,
}

/// A broadcast seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seat {
    /// The host's bridge.
    Host,
    /// The accepted guest's bridge.
    Guest,
}

/// Audio and video of a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Media {
    /// Audio published.
    pub audio: bool,
    /// Video published.
    pub video: bool,
}

/// The prices a segment was started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPricing {
    /// Base units.
    pub live_amount: String,
    /// Base units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_amount: Option<String>,
}

/// A part of the live set with its own payee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// `seg-1` or a UUID.
    pub id: String,
    /// Start second.
    pub started_at: i64,
    /// Payee (lowercase).
    pub pay_to: String,
    /// Prices (the room's at the time).
    pub pricing: SegmentPricing,
    /// Rights metadata (normalised, see [`super::rights`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<serde_json::Value>,
}

/// The first settlement of a segment (informational).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentLock {
    /// When.
    pub locked_at: i64,
    /// Its transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_settlement_tx_hash: Option<String>,
}

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Load Network data item.
    pub load_dataitem_id: String,
    /// Where the worker streams it from (worker_gated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_url: Option<String>,
    /// Load's own x402 URL (load_gated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_x402_url: Option<String>,
    /// When (body value or now).
    pub created_at: i64,
}

/// One seat's broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SeatBroadcast {
    /// State.
    #[serde(default)]
    pub state: BroadcastState,
    /// Mode (≤ 24 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Last heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_at: Option<i64>,
    /// First went live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// Media.
    #[serde(default)]
    pub media: Media,
}

impl SeatBroadcast {
    /// Idle with media off (a fresh start).
    pub fn idle() -> Self {
        Self::default()
    }

    fn online(&self, live: bool, now: i64) -> bool {
        live && self.state == BroadcastState::Live
            && self
                .heartbeat_at
                .is_some_and(|at| at > 0 && now - at <= BROADCAST_ONLINE_WINDOW_SECONDS)
    }
}

/// The room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuetMeta {
    /// Room id.
    pub room_id: String,
    /// State machine.
    pub status: RoomStatus,
    /// Host (lowercase).
    pub host_wallet: String,
    /// Invited or accepted guest (lowercase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_wallet: Option<String>,
    /// When the guest accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_accepted_at: Option<i64>,
    /// Default payee (lowercase).
    pub split_address: String,
    /// `eip155:84532`.
    pub network: String,
    /// USDC (lowercase).
    pub asset_usdc: String,
    /// Base units.
    pub live_amount: String,
    /// Base units.
    pub replay_amount: String,
    /// Entitlement window.
    pub access_window_minutes: i64,
    /// `load_gated` or `worker_gated`.
    pub replay_mode: String,
    /// `host_local` or `agora_cloud` (stored only).
    pub recording_mode: String,
    /// `bridge` or `direct`.
    pub audience_media_mode: String,
    /// `heaven-duet-<id>`.
    pub agora_channel: String,
    /// Host ticket in clear (a repeat start hands it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_ticket: Option<String>,
    /// sha256 hex of the host ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_ticket_hash: Option<String>,
    /// Host ticket usable until (set at end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_ticket_valid_until: Option<i64>,
    /// Host bridge uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_agora_uid: Option<u32>,
    /// Guest ticket in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_bridge_ticket: Option<String>,
    /// sha256 hex of the guest ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_bridge_ticket_hash: Option<String>,
    /// sha256 hex of the revoked guest ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_bridge_ticket_revoked_hash: Option<String>,
    /// Guest bridge uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_bridge_agora_uid: Option<u32>,
    /// Host seat.
    #[serde(default)]
    pub host_broadcast: SeatBroadcast,
    /// Guest seat.
    #[serde(default)]
    pub guest_broadcast: SeatBroadcast,
    /// Aggregate of both seats.
    #[serde(default)]
    pub broadcast: SeatBroadcast,
    /// Start second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_started_at: Option<i64>,
    /// End second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// The recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// Segments (≥ 1, ≤ 500).
    pub segments: Vec<Segment>,
    /// The segment being paid for now.
    pub current_segment_id: String,
    /// First settlement per segment.
    #[serde(default)]
    pub segment_locks: std::collections::BTreeMap<String, SegmentLock>,
    /// Creation second.
    pub created_at: i64,
}

impl DuetMeta {
    /// The current segment (the last one if the id is unknown).
    pub fn current_segment(&self) -> &Segment {
        self.segments
            .iter()
            .find(|s| s.id == self.current_segment_id)
            .or_else(|| self.segments.last())
            .expect("a room always has a segment")
    }

    /// The segment `id`.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// A seat.
    pub fn seat(&self, seat: Seat) -> &SeatBroadcast {
        match seat {
            Seat::Host => &self.host_broadcast,
            Seat::Guest => &self.guest_broadcast,
        }
    }

    /// A seat, to change.
    pub fn seat_mut(&mut self, seat: Seat) -> &mut SeatBroadcast {
        match seat {
            Seat::Host => &mut self.host_broadcast,
            Seat::Guest => &mut self.guest_broadcast,
        }
    }

    /// Whether a seat is online at `now`.
    pub fn seat_online(&self, seat: Seat, now: i64) -> bool {
        self.seat(seat).online(self.status == RoomStatus::Live, now)
    }

    /// Whether the aggregate broadcast is online at `now` (the desktop's "On Air").
    pub fn broadcaster_online(&self, now: i64) -> bool {
        self.broadcast.online(self.status == RoomStatus::Live, now)
    }

    /// Recomputes the aggregate from the seats (§4.6).
    pub fn recompute_aggregate(&mut self) {
        let (host, guest) = (&self.host_broadcast, &self.guest_broadcast);
        let live = |s: &SeatBroadcast| s.state == BroadcastState::Live;
        let stopped = |s: &SeatBroadcast| s.state == BroadcastState::Stopped;
        let state = if live(host) || live(guest) {
            BroadcastState::Live
        } else if stopped(host) || stopped(guest) || self.status == RoomStatus::Ended {
            BroadcastState::Stopped
        } else {
            BroadcastState::Idle
        };
        let mode = if live(host) && live(guest) {
            match (&host.mode, &guest.mode) {
                (Some(h), Some(g)) if h == g => Some(h.clone()),
                (Some(_), Some(_)) => Some("multi".to_owned()),
                (h, g) => h.clone().or_else(|| g.clone()),
            }
        } else if live(host) {
            host.mode.clone()
        } else if live(guest) {
            guest.mode.clone()
        } else if stopped(host) {
            host.mode.clone()
        } else if stopped(guest) {
            guest.mode.clone()
        } else {
            None
        };
        let heartbeat = host
            .heartbeat_at
            .unwrap_or(0)
            .max(guest.heartbeat_at.unwrap_or(0));
        let started_of = |s: &SeatBroadcast| s.started_at.unwrap_or(0);
        let live_started = [host, guest]
            .into_iter()
            .filter(|s| live(s))
            .map(started_of)
            .filter(|&v| v > 0)
            .min();
        let started = live_started
            .or(self.broadcast.started_at.filter(|&v| v > 0))
            .or_else(|| {
                [started_of(host), started_of(guest)]
                    .into_iter()
                    .filter(|&v| v > 0)
                    .min()
            });
        self.broadcast = SeatBroadcast {
            state,
            mode,
            heartbeat_at: (heartbeat > 0).then_some(heartbeat),
            started_at: started,
            media: Media::default(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> DuetMeta {
        DuetMeta {
            room_id: "r".into(),
            status: RoomStatus::Live,
            host_wallet: "0x1".into(),
            guest_wallet: None,
            guest_accepted_at: None,
            split_address: "0x2".into(),
            network: ALLOWED_NETWORK.into(),
            asset_usdc: BASE_SEPOLIA_USDC.into(),
            live_amount: "1".into(),
            replay_amount: "1".into(),
            access_window_minutes: 1,
            replay_mode: "worker_gated".into(),
            recording_mode: "host_local".into(),
            audience_media_mode: "bridge".into(),
            agora_channel: "c".into(),
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
                id: "seg-1".into(),
                started_at: 0,
                pay_to: "0x2".into(),
                pricing: SegmentPricing {
                    live_amount: "1".into(),
                    replay_amount: None,
                },
                rights: None,
            }],
            current_segment_id: "seg-1".into(),
            segment_locks: Default::default(),
            created_at: 0,
        }
    }

    #[test]
    fn aggregate_mode_is_multi_when_both_seats_live_with_different_modes() {
        let mut m = meta();
        m.host_broadcast = SeatBroadcast {
            state: BroadcastState::Live,
            mode: Some("mic".into()),
            heartbeat_at: Some(100),
            started_at: Some(90),
            media: Media::default(),
        };
        m.guest_broadcast = SeatBroadcast {
            state: BroadcastState::Live,
            mode: Some("tab".into()),
            heartbeat_at: Some(105),
            started_at: Some(95),
            media: Media::default(),
        };
        m.recompute_aggregate();
        assert_eq!(m.broadcast.state, BroadcastState::Live);
        assert_eq!(m.broadcast.mode.as_deref(), Some("multi"));
        assert_eq!(m.broadcast.heartbeat_at, Some(105));
        assert_eq!(m.broadcast.started_at, Some(90));
        assert!(m.broadcaster_online(125));
        assert!(!m.broadcaster_online(126));
        m.guest_broadcast.state = BroadcastState::Stopped;
        m.host_broadcast.state = BroadcastState::Stopped;
        m.recompute_aggregate();
        assert_eq!(m.broadcast.state, BroadcastState::Stopped);
        assert_eq!(m.broadcast.mode.as_deref(), Some("mic"));
        // No live seat: the previous aggregate start is kept.
        assert_eq!(m.broadcast.started_at, Some(90));
    }
}
