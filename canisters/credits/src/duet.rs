//! The money state of the paid duet rooms: who may watch until when ([`entitlement`]), which
//! payment signatures were already used ([`settlement`]), and one-time replay access
//! ([`replay`]). The worker's room actor decides prices and talks to the facilitator; this
//! state makes each payment count exactly once whatever the worker does (retries, crashes,
//! replicas, concurrent requests with one signature).

pub mod entitlement;
pub mod replay;
pub mod settlement;

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// What a payment buys in a room.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, CandidType, Serialize, Deserialize,
)]
pub enum EntitlementKind {
    /// Watching the live room (`enter`, `public-enter`).
    #[n(0)]
    Live,
    /// Watching the recording (`replay`).
    #[n(1)]
    Replay,
}

/// A duet room id as the worker names it (any non-empty string up to 128 bytes without `|`,
/// which separates key parts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize)]
#[cbor(transparent)]
#[serde(transparent)]
pub struct RoomId(#[n(0)] String);

/// Not a usable room id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid room id (1 to 128 bytes, no '|')")]
pub struct InvalidRoomId;

impl RoomId {
    /// Checks `text`.
    pub fn parse(text: &str) -> Result<RoomId, InvalidRoomId> {
        if text.is_empty() || text.len() > 128 || text.contains('|') {
            return Err(InvalidRoomId);
        }
        Ok(RoomId(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl CandidType for RoomId {
    fn _ty() -> candid::types::Type {
        String::_ty()
    }

    fn idl_serialize<S: candid::types::Serializer>(&self, serializer: S) -> Result<(), S::Error> {
        self.0.idl_serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RoomId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RoomId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// 32 bytes as 64 lower-case hex digits: the sha256 of a payment signature or a replay token.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize)]
#[cbor(transparent)]
#[serde(transparent)]
pub struct Sha256Hex(#[n(0)] String);

/// Not 64 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected a sha256 as 64 hex digits")]
pub struct InvalidSha256Hex;

impl Sha256Hex {
    /// Checks `text` (any case; stored lower case).
    pub fn parse(text: &str) -> Result<Sha256Hex, InvalidSha256Hex> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidSha256Hex);
        }
        Ok(Sha256Hex(text.to_ascii_lowercase()))
    }

    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256Hex {
        use sha2::Digest;
        Sha256Hex(hex::encode(sha2::Sha256::digest(bytes)))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl CandidType for Sha256Hex {
    fn _ty() -> candid::types::Type {
        String::_ty()
    }

    fn idl_serialize<S: candid::types::Serializer>(&self, serializer: S) -> Result<(), S::Error> {
        self.0.idl_serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Sha256Hex {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sha256Hex::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_hashes_are_checked() {
        assert!(RoomId::parse("room-1").is_ok());
        assert!(RoomId::parse("").is_err());
        assert!(RoomId::parse("a|b").is_err());
        assert!(RoomId::parse(&"x".repeat(129)).is_err());
        let hash = Sha256Hex::of(b"abc");
        assert_eq!(
            hash.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Sha256Hex::parse(&hash.as_str().to_uppercase()).unwrap(),
            hash
        );
        assert!(Sha256Hex::parse("abc").is_err());
    }
}
