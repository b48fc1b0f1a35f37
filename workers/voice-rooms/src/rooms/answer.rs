//! What a room answers: the RoomDO's status and JSON body for each command, with the
//! original's field order (serialised from these structs, never from a map, whose keys
//! serde_json would sort).

use serde::{Deserialize, Serialize};
use serde_json::json;

/// A `credits_low` / `credits_exhausted` event, in the original's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditEvent {
    /// `credits_low` or `credits_exhausted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Wallet.
    pub wallet: String,
    /// Remaining after the metering (0 for `credits_exhausted`).
    pub remaining_seconds: u64,
    /// When (Unix seconds).
    pub at_epoch: i64,
}

/// The room's answer to `join` (the route adds its own fields in front).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinAnswer {
    /// Publisher token.
    pub agora_token: String,
    /// 90.
    pub token_expires_in_seconds: u32,
    /// 45.
    pub renew_after_seconds: u64,
    /// 30.
    pub heartbeat_interval_seconds: i64,
    /// Balance right after joining.
    pub remaining_seconds: u64,
}

/// A booked room's answer to `join` (renewal and heartbeat `null`, nothing remaining: the
/// DO's shape; the route keeps only the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedJoinAnswer {
    /// Publisher token.
    pub agora_token: String,
    /// 3600.
    pub token_expires_in_seconds: u32,
    /// `null`.
    pub renew_after_seconds: Option<u64>,
    /// `null`.
    pub heartbeat_interval_seconds: Option<i64>,
    /// 0.
    pub remaining_seconds: u64,
}

#[derive(Serialize)]
pub(super) struct HeartbeatAnswer {
    pub(super) ok: bool,
    pub(super) remaining_seconds: u64,
    pub(super) events: Vec<CreditEvent>,
}

#[derive(Serialize)]
pub(super) struct DeniedAnswer {
    pub(super) denied: bool,
    pub(super) reason: &'static str,
    pub(super) remaining_seconds: u64,
    pub(super) events: Vec<CreditEvent>,
}

#[derive(Serialize)]
pub(super) struct RenewAnswer {
    pub(super) agora_token: String,
    pub(super) token_expires_in_seconds: u32,
    pub(super) remaining_seconds: u64,
    pub(super) events: Vec<CreditEvent>,
}

#[derive(Serialize)]
pub(super) struct LeaveAnswer {
    pub(super) ok: bool,
    pub(super) debited_seconds: u64,
    pub(super) remaining_seconds: u64,
    pub(super) closed: bool,
}

/// A room's answer: the DO's status and JSON body (text, so the field order is kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomAnswer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
    /// The room ended with this command (its state is gone).
    #[serde(default)]
    pub ended: bool,
    /// An AI host to start on this channel (the first join of an `ai_enabled` room): the
    /// caller spawns it and reports back with `AgentStarted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_agent: Option<String>,
}

impl RoomAnswer {
    pub(super) fn ok(body: impl Serialize) -> Self {
        Self {
            status: 200,
            body: serde_json::to_string(&body).unwrap_or_default(),
            ended: false,
            start_agent: None,
        }
    }

    pub(super) fn error(status: u16, code: &str) -> Self {
        Self {
            status,
            body: json!({ "error": code }).to_string(),
            ended: false,
            start_agent: None,
        }
    }

    pub(super) fn ended(mut self) -> Self {
        self.ended = true;
        self
    }
}
