//! Keys of the maps whose key has parts. Their formats are part of the stable layout.

use crate::duet::{RoomId, Sha256Hex};
use crate::wallet::Wallet;

/// `markers` and `entitlements` key: `<room>|<signature hash or wallet>`.
pub fn room_key(room: &RoomId, second: &str) -> String {
    format!("{}|{second}", room.as_str())
}

/// `markers` key.
pub fn marker_key(room: &RoomId, signature_hash: &Sha256Hex) -> String {
    room_key(room, signature_hash.as_str())
}

/// `entitlements` key.
pub fn entitlement_key(room: &RoomId, wallet: &Wallet) -> String {
    room_key(room, wallet.as_str())
}

/// A booking id as a sortable key: 30 digits, zero-padded (ids are uint256 on chain but
/// decimal text up to 30 digits here; more is refused where ids come in).
pub fn booking_key(booking_id: &str) -> String {
    format!("{booking_id:0>30}")
}

/// `presence` key: `<booking key>|<wallet>`.
pub fn presence_key(booking_id: &str, wallet: &Wallet) -> String {
    format!("{}|{}", booking_key(booking_id), wallet.as_str())
}

/// `credit_events` key: `<wallet>|<id, 20 digits>`.
pub fn credit_event_key(wallet: &Wallet, id: u64) -> String {
    format!("{}|{id:020}", wallet.as_str())
}

/// The prefix of every `credit_events` key of `wallet`.
pub fn credit_events_prefix(wallet: &Wallet) -> String {
    format!("{}|", wallet.as_str())
}
