//! The two kinds of record replicas share to agree on who runs a room, and the clock they are
//! read against.
//!
//! - A **replica record** (`<prefix>replica/<id>`) says a replica is alive until `expires_ms`
//!   and where its peers reach it. Only that replica writes it (compare-and-swap on its own
//!   version), every `renew_every`; one write per replica, however many rooms it runs.
//! - A **room lease** (`<prefix>room/<room>`) names the replica that runs the room and an
//!   epoch. It has no expiry of its own: it is live while its replica's record is. Another
//!   replica takes a room over by compare-and-swap on the lease, raising the epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A replica's liveness record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaRecord {
    /// Base URL its peers forward room commands to.
    pub peer_url: String,
    /// Random per process start: tells a restarted replica from a second live one with the
    /// same id.
    pub incarnation: String,
    /// Unix milliseconds after which the replica counts as dead.
    pub expires_ms: u64,
}

impl ReplicaRecord {
    /// Whether the replica still counts as alive at `now_ms`.
    pub fn is_live(&self, now_ms: u64) -> bool {
        now_ms < self.expires_ms
    }
}

/// Which replica runs a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLease {
    /// The replica's id.
    pub replica: String,
    /// Raised by every takeover.
    pub epoch: u64,
}

/// The keys of one coordinator's records.
#[derive(Clone, Debug)]
pub(super) struct LeaseKeys {
    prefix: String,
}

impl LeaseKeys {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(super) fn replica(&self, id: &str) -> String {
        format!("{}replica/{id}", self.prefix)
    }

    pub(super) fn room_prefix(&self) -> String {
        format!("{}room/", self.prefix)
    }

    pub(super) fn room(&self, room_id: &str) -> String {
        format!("{}room/{room_id}", self.prefix)
    }
}

/// Unix milliseconds of the wall clock: replica records are compared across processes, so
/// the leases assume the replicas' clocks agree to well within `ttl - renew_every`.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `now + d` in Unix milliseconds.
pub(super) fn ms_after(now_ms: u64, d: Duration) -> u64 {
    now_ms.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_is_live_strictly_before_its_expiry() {
        let record = ReplicaRecord {
            peer_url: "http://a".into(),
            incarnation: "x".into(),
            expires_ms: 1_000,
        };
        assert!(record.is_live(999));
        assert!(!record.is_live(1_000));
    }

    #[test]
    fn keys_keep_replicas_and_rooms_apart() {
        let keys = LeaseKeys::new("voice-rooms/lease/");
        assert_eq!(keys.replica("a"), "voice-rooms/lease/replica/a");
        assert_eq!(keys.room("r1"), "voice-rooms/lease/room/r1");
        assert!(keys.room("r1").starts_with(&keys.room_prefix()));
        assert!(!keys.replica("a").starts_with(&keys.room_prefix()));
    }
}
