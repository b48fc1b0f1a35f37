//! Agora pieces of the free rooms: publisher tokens in the original's AccessToken2 format
//! and `addressToUid`, both from the shared `agora` crate (workers/agora).

pub use agora::address_to_uid;
use agora::{RtcGrant, build_rtc_subscriber_token, build_rtc_token};
use rand::Rng;

/// `AGORA_APP_ID` and `AGORA_APP_CERTIFICATE`; tokens are empty strings unless both are 32
/// characters (as `agora-token` answers).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AgoraKeys {
    /// App id.
    pub app_id: String,
    /// App certificate (secret).
    pub app_certificate: String,
}

impl std::fmt::Debug for AgoraKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgoraKeys")
            .field("app_id", &self.app_id)
            .field("app_certificate", &"..")
            .finish()
    }
}

impl AgoraKeys {
    /// A publisher token for `uid` on `channel`, valid `ttl` seconds from `now` (relative TTL:
    /// the original's absolute-expiry quirk is fixed, ADR 0020).
    pub fn publisher_token(&self, channel: &str, uid: u32, now: i64, ttl: u32) -> String {
        build_rtc_token(&RtcGrant {
            app_id: &self.app_id,
            app_cert: &self.app_certificate,
            channel,
            uid,
            issued_at: u32::try_from(now).unwrap_or(0),
            lifetime_secs: ttl,
            salt: rand::thread_rng().gen_range(1..=99_999_999),
        })
    }
}

impl AgoraKeys {
    /// A subscriber (viewer) token for `uid` on `channel`, valid `ttl` seconds from `now`.
    pub fn subscriber_token(&self, channel: &str, uid: u32, now: i64, ttl: u32) -> String {
        build_rtc_subscriber_token(&RtcGrant {
            app_id: &self.app_id,
            app_cert: &self.app_certificate,
            channel,
            uid,
            issued_at: u32::try_from(now).unwrap_or(0),
            lifetime_secs: ttl,
            salt: rand::thread_rng().gen_range(1..=99_999_999),
        })
    }
}

/// The free room's channel name.
pub fn free_channel(room_id: &str) -> String {
    format!("heaven-free-{room_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_access_token2_or_empty_without_keys() {
        assert_eq!(
            AgoraKeys::default().publisher_token("c", 1, 1_767_225_600, 90),
            ""
        );
        let keys = AgoraKeys {
            app_id: "a".repeat(32),
            app_certificate: "b".repeat(32),
        };
        assert!(
            keys.publisher_token("c", 1, 1_767_225_600, 90)
                .starts_with("007")
        );
    }
}
