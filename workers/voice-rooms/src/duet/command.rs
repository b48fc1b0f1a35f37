//! The messages of a duet room's actor: its commands, the terms it quotes for a payment, and
//! its answers (status and the original's JSON body text).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::body::{Body, error};
use super::meta::{Recording, RoomStatus};

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
    pub(super) fn json(status: u16, body: String) -> Self {
        Self {
            status,
            body,
            quote: None,
            absent: false,
        }
    }

    pub(super) fn error(status: u16, code: &str) -> Self {
        Self::json(status, error(code))
    }

    pub(super) fn not_live(status: RoomStatus) -> Self {
        Self::json(
            400,
            Body::new()
                .field("error", "room_not_live")
                .field("status", status.as_str())
                .finish(),
        )
    }
}
