//! The verdict on a booked session, as the original's cron computed it: which outcome the
//! presence supports, whether the contract's window for it is open, and the `metricsHash` the
//! escrow records. Pure functions; the sweep that reads the chain and sends the transaction
//! uses them.

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::presence::Stay;
use crate::units::UnixSeconds;

/// The outcomes the oracle attests (the escrow's `Outcome` codes).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, CandidType, Serialize, Deserialize,
)]
pub enum Outcome {
    /// Both met for at least the minimum overlap (`completed`, code 1).
    #[n(1)]
    Completed,
    /// The host did not show (`no-show-host`, code 2).
    #[n(2)]
    NoShowHost,
    /// The guest did not show (`no-show-guest`, code 3).
    #[n(3)]
    NoShowGuest,
}

impl Outcome {
    /// The escrow's `uint8` code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Completed => 1,
            Outcome::NoShowHost => 2,
            Outcome::NoShowGuest => 3,
        }
    }

    /// The name the HTTP route uses (`completed`, `no-show-host`, `no-show-guest`).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::NoShowHost => "no-show-host",
            Outcome::NoShowGuest => "no-show-guest",
        }
    }

    /// The outcome called `name`.
    pub fn from_name(name: &str) -> Option<Outcome> {
        match name {
            "completed" => Some(Outcome::Completed),
            "no-show-host" => Some(Outcome::NoShowHost),
            "no-show-guest" => Some(Outcome::NoShowGuest),
            _ => None,
        }
    }
}

/// The slot terms the verdict depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotTerms {
    /// Start (Unix seconds).
    pub start: UnixSeconds,
    /// Length in minutes.
    pub duration_mins: u64,
    /// Grace before a no-show can be called, in minutes.
    pub grace_mins: u64,
    /// Minimum overlap for a completed session, in minutes.
    pub min_overlap_mins: u64,
}

/// When each kind of verdict is accepted by the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// `start + grace`.
    pub no_show_earliest: UnixSeconds,
    /// `start + grace + duration`.
    pub no_show_latest: UnixSeconds,
    /// `start + min overlap`.
    pub completed_earliest: UnixSeconds,
    /// `start + duration + 2 h`.
    pub completed_latest: UnixSeconds,
}

impl SlotTerms {
    /// The contract's windows for this slot.
    pub fn windows(&self) -> Windows {
        let duration = self.duration_mins * 60;
        let grace_end = self.start.plus(self.grace_mins * 60);
        Windows {
            no_show_earliest: grace_end,
            no_show_latest: grace_end.plus(duration),
            completed_earliest: self.start.plus(self.min_overlap_mins * 60),
            completed_latest: self.start.plus(duration).plus(2 * 60 * 60),
        }
    }

    /// The slot's end.
    pub fn end(&self) -> UnixSeconds {
        self.start.plus(self.duration_mins * 60)
    }
}

/// Why a verdict cannot be sent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, CandidType, Serialize, Deserialize)]
pub enum TimingError {
    /// Completed, before `start + min overlap` (`overlap_not_met`).
    OverlapNotMet,
    /// Completed, after `end + 2 h` (`completed_too_late`).
    CompletedTooLate,
    /// No-show, before `start + grace` (`grace_not_over`).
    GraceNotOver,
    /// No-show, after `start + grace + duration` (`no_show_too_late`).
    NoShowTooLate,
}

impl TimingError {
    /// The original's error code.
    pub fn code(self) -> &'static str {
        match self {
            TimingError::OverlapNotMet => "overlap_not_met",
            TimingError::CompletedTooLate => "completed_too_late",
            TimingError::GraceNotOver => "grace_not_over",
            TimingError::NoShowTooLate => "no_show_too_late",
        }
    }

    /// Whether a later sweep may still succeed (`not_due_yet`) rather than never
    /// (`window_missed`).
    pub fn is_retryable(self) -> bool {
        matches!(self, TimingError::OverlapNotMet | TimingError::GraceNotOver)
    }
}

/// Checks that `outcome` may be attested at `now`.
pub fn check_window(outcome: Outcome, now: UnixSeconds, w: &Windows) -> Result<(), TimingError> {
    match outcome {
        Outcome::Completed if now < w.completed_earliest => Err(TimingError::OverlapNotMet),
        Outcome::Completed if now > w.completed_latest => Err(TimingError::CompletedTooLate),
        Outcome::Completed => Ok(()),
        _ if now < w.no_show_earliest => Err(TimingError::GraceNotOver),
        _ if now > w.no_show_latest => Err(TimingError::NoShowTooLate),
        _ => Ok(()),
    }
}

/// The outcome the presence supports at `now`.
pub fn derive_outcome(
    terms: &SlotTerms,
    host: Option<Stay>,
    guest: Option<Stay>,
    now: UnixSeconds,
) -> Outcome {
    match (host, guest) {
        (Some(host), Some(guest)) => {
            let host_end = host.left_at.unwrap_or(now);
            let guest_end = guest.left_at.unwrap_or(now);
            let overlap = overlap_seconds(host, guest, now);
            if overlap >= terms.min_overlap_mins * 60 {
                Outcome::Completed
            } else if host_end < guest_end && host_end < terms.end() {
                Outcome::NoShowHost
            } else {
                Outcome::NoShowGuest
            }
        }
        (None, _) => Outcome::NoShowHost,
        (Some(_), None) => Outcome::NoShowGuest,
    }
}

fn overlap_seconds(host: Stay, guest: Stay, now: UnixSeconds) -> u64 {
    let start = host.joined_at.max(guest.joined_at);
    let end = host
        .left_at
        .unwrap_or(now)
        .min(guest.left_at.unwrap_or(now));
    end.0.saturating_sub(start.0)
}

/// The metrics the escrow stores a hash of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metrics {
    /// The booking id as decimal text.
    pub booking_id: String,
    /// Host join (0 when absent).
    pub host_joined_at: u64,
    /// Host leave, else `now` (also `now` when absent).
    pub host_left_at: u64,
    /// Guest join (0 when absent).
    pub guest_joined_at: u64,
    /// Guest leave, else `now`.
    pub guest_left_at: u64,
    /// Overlap (0 unless both were present).
    pub overlap_seconds: u64,
}

impl Metrics {
    /// The metrics of a session at `now`.
    pub fn of(
        booking_id: &str,
        host: Option<Stay>,
        guest: Option<Stay>,
        now: UnixSeconds,
    ) -> Metrics {
        let joined = |s: Option<Stay>| s.map_or(0, |s| s.joined_at.0);
        let left = |s: Option<Stay>| s.and_then(|s| s.left_at).unwrap_or(now).0;
        Metrics {
            booking_id: booking_id.to_owned(),
            host_joined_at: joined(host),
            host_left_at: left(host),
            guest_joined_at: joined(guest),
            guest_left_at: left(guest),
            overlap_seconds: match (host, guest) {
                (Some(h), Some(g)) => overlap_seconds(h, g, now),
                _ => 0,
            },
        }
    }

    /// The compact JSON the original hashed, keys in its order, `bookingId` a string.
    pub fn json(&self) -> String {
        format!(
            "{{\"bookingId\":{},\"hostJoinedAt\":{},\"hostLeftAt\":{},\"guestJoinedAt\":{},\"guestLeftAt\":{},\"overlapSeconds\":{}}}",
            serde_json::Value::from(self.booking_id.as_str()),
            self.host_joined_at,
            self.host_left_at,
            self.guest_joined_at,
            self.guest_left_at,
            self.overlap_seconds
        )
    }

    /// `keccak256` of [`Metrics::json`].
    pub fn hash(&self) -> [u8; 32] {
        heaven_eth::keccak256(self.json().as_bytes()).0
    }
}

/// Whether a send error means the booking was settled already (a race with another attest).
pub fn is_already_settled_error(error: &str) -> bool {
    let error = error.to_lowercase();
    [
        "expected booked",
        "status is not booked",
        "booking status",
        "already attested",
    ]
    .iter()
    .any(|needle| error.contains(needle))
}

#[cfg(test)]
mod tests;
