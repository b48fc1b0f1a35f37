//! Candid shapes of the operator-facing methods (health, stats, controller methods and their
//! errors). The worker-facing shapes are in [`crate::api`].

use candid::CandidType;
use serde::{Deserialize, Serialize};

/// Version of this canister build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Answer of the `health` query.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// Always true when the canister answers.
    pub ok: bool,
    /// Crate version of the running wasm.
    pub version: String,
    /// The configured threshold-ECDSA key name.
    pub ecdsa_key_name: String,
    /// How many times the canister has been installed or upgraded.
    pub installs: u64,
}

/// Counters for operators and the migration dashboard.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// Entries in the audit log.
    pub events: u64,
    /// Credit accounts.
    pub accounts: u64,
    /// Metered connections kept (open, and closed within 48 h).
    pub connections: u64,
    /// Settlement markers kept.
    pub settlement_markers: u64,
    /// Booked sessions with presence.
    pub bookings: u64,
    /// Sweeps run (lifetime).
    pub sweeps: u64,
    /// Time of the last sweep (Unix seconds), 0 before the first.
    pub last_sweep_at: u64,
    /// The sweep in progress: bookings looked at so far and in all.
    pub sweep_progress: Option<(u64, u64)>,
}

/// Why a call was refused (every update answers `Result<_, CallError>`).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize, thiserror::Error)]
pub enum CallError {
    /// Only a controller may call this method.
    #[error("only a controller may call this method")]
    NotController,
    /// Only a worker principal (or a controller) may call this method.
    #[error("only a worker principal may call this method")]
    NotWorker,
    /// An argument was refused, with the reason.
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// What the audit found.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries in the log.
    pub events: u64,
    /// Structures whose live content differs from the log replayed (empty: consistent).
    pub differences: Vec<String>,
}
