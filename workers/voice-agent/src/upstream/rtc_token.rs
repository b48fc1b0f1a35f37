//! Agora RTC tokens: the AccessToken2 builder lives in the shared `agora` crate
//! (workers/agora), also used by voice-rooms.

pub use agora::{RtcGrant, build_rtc_token};
