//! Numbers that mean different things get different types: an amount of voice credit
//! ([`Seconds`]) and a point in time ([`UnixSeconds`]). Arithmetic on credit is checked or
//! saturating, never wrapping.

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// An amount of voice credit, in whole seconds of room time.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    CandidType,
    Serialize,
    Deserialize,
)]
#[cbor(transparent)]
#[serde(transparent)]
pub struct Seconds(#[n(0)] pub u64);

impl Seconds {
    /// No credit.
    pub const ZERO: Seconds = Seconds(0);

    /// `self + other`, saturating (credit totals are far below `u64::MAX`).
    pub fn saturating_add(self, other: Seconds) -> Seconds {
        Seconds(self.0.saturating_add(other.0))
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Seconds) -> Seconds {
        Seconds(self.0.saturating_sub(other.0))
    }

    /// `self - other` when it does not go below zero.
    pub fn checked_sub(self, other: Seconds) -> Option<Seconds> {
        self.0.checked_sub(other.0).map(Seconds)
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// A point in time, in whole seconds since the Unix epoch (the original's `floor(ms / 1000)`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    CandidType,
    Serialize,
    Deserialize,
)]
#[cbor(transparent)]
#[serde(transparent)]
pub struct UnixSeconds(#[n(0)] pub u64);

impl UnixSeconds {
    /// The second containing `ns` nanoseconds since the epoch.
    pub fn from_nanos(ns: u64) -> UnixSeconds {
        UnixSeconds(ns / 1_000_000_000)
    }

    /// The time `seconds` later (saturating).
    pub fn plus(self, seconds: u64) -> UnixSeconds {
        UnixSeconds(self.0.saturating_add(seconds))
    }

    /// Whole seconds from `earlier` to `self` (zero when `earlier` is not earlier).
    pub fn since(self, earlier: UnixSeconds) -> Seconds {
        Seconds(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_arithmetic_never_wraps() {
        assert_eq!(Seconds(5).saturating_sub(Seconds(9)), Seconds::ZERO);
        assert_eq!(
            Seconds(u64::MAX).saturating_add(Seconds(1)),
            Seconds(u64::MAX)
        );
        assert_eq!(Seconds(5).checked_sub(Seconds(9)), None);
        assert_eq!(UnixSeconds(10).since(UnixSeconds(20)), Seconds::ZERO);
        assert_eq!(UnixSeconds(20).since(UnixSeconds(10)), Seconds(10));
        assert_eq!(UnixSeconds::from_nanos(1_999_999_999), UnixSeconds(1));
    }

    #[test]
    fn newtypes_encode_as_their_number() {
        let bytes = minicbor::to_vec(Seconds(1800)).unwrap();
        assert_eq!(bytes, minicbor::to_vec(1800u64).unwrap());
        assert_eq!(serde_json::to_string(&UnixSeconds(7)).unwrap(), "7");
    }
}
