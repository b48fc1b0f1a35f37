//! Agora RTC tokens (AccessToken2, the `007…` format) for one channel and uid with publisher
//! privileges (join, publish audio, video and data), as `agora-token`'s `buildTokenWithUid`
//! builds them.
//!
//! Layout: `"007" + base64(zlib(pack_string(signature) + signing_info))` where `signing_info`
//! is `pack_string(app_id) u32(issue_ts) u32(expire) u32(salt) u16(1)` followed by the RTC
//! service `u16(1) map<u16,u32>(privileges) pack_string(channel) pack_string(uid or "")`;
//! integers little-endian, strings u16-length-prefixed. The signing key is
//! `HMAC(u32(salt), HMAC(u32(issue_ts), app_cert))` and the signature
//! `HMAC(key, signing_info)`, all HMAC-SHA256.
//!
//! Shared by voice-agent (agent tokens) and voice-rooms (room tokens), with the original's
//! [`address_to_uid`]; [`cai`] is the Conversational AI REST client both use.

pub mod cai;

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SERVICE_RTC: u16 = 1;
const PRIVILEGE_JOIN_CHANNEL: u16 = 1;
const PRIVILEGE_PUBLISH_AUDIO: u16 = 2;
const PRIVILEGE_PUBLISH_VIDEO: u16 = 3;
const PRIVILEGE_PUBLISH_DATA: u16 = 4;

/// What a token grants.
#[derive(Debug, Clone)]
pub struct RtcGrant<'a> {
    /// Agora app id (32 hex characters).
    pub app_id: &'a str,
    /// App certificate (32 hex characters).
    pub app_cert: &'a str,
    /// Channel name.
    pub channel: &'a str,
    /// RTC uid; 0 means any uid.
    pub uid: u32,
    /// Issue time, epoch seconds.
    pub issued_at: u32,
    /// Lifetime of the token and of each privilege, in seconds from `issued_at`.
    pub lifetime_secs: u32,
    /// Random salt in 1..=99_999_999.
    pub salt: u32,
}

/// Builds the token; empty when the app id or certificate is not 32 characters long (as
/// `agora-token` answers).
pub fn build_rtc_token(grant: &RtcGrant<'_>) -> String {
    build_with_privileges(
        grant,
        &[
            PRIVILEGE_JOIN_CHANNEL,
            PRIVILEGE_PUBLISH_AUDIO,
            PRIVILEGE_PUBLISH_VIDEO,
            PRIVILEGE_PUBLISH_DATA,
        ],
    )
}

/// A subscriber (audience) token: join privilege only, as `agora-token`'s
/// `buildTokenWithUid(..., RtcRole.SUBSCRIBER, ...)`; empty without 32-character keys.
pub fn build_rtc_subscriber_token(grant: &RtcGrant<'_>) -> String {
    build_with_privileges(grant, &[PRIVILEGE_JOIN_CHANNEL])
}

fn build_with_privileges(grant: &RtcGrant<'_>, privileges: &[u16]) -> String {
    if grant.app_id.len() != 32 || grant.app_cert.len() != 32 {
        return String::new();
    }
    let mut service = Vec::new();
    put_u16(&mut service, SERVICE_RTC);
    put_u16(&mut service, privileges.len() as u16);
    for &privilege in privileges {
        put_u16(&mut service, privilege);
        put_u32(&mut service, grant.lifetime_secs);
    }
    put_bytes(&mut service, grant.channel.as_bytes());
    let uid = if grant.uid == 0 {
        String::new()
    } else {
        grant.uid.to_string()
    };
    put_bytes(&mut service, uid.as_bytes());

    let mut signing_info = Vec::new();
    put_bytes(&mut signing_info, grant.app_id.as_bytes());
    put_u32(&mut signing_info, grant.issued_at);
    put_u32(&mut signing_info, grant.lifetime_secs);
    put_u32(&mut signing_info, grant.salt);
    put_u16(&mut signing_info, 1);
    signing_info.extend_from_slice(&service);

    let key = hmac(&grant.issued_at.to_le_bytes(), grant.app_cert.as_bytes());
    let key = hmac(&grant.salt.to_le_bytes(), &key);
    let signature = hmac(&key, &signing_info);

    let mut content = Vec::new();
    put_bytes(&mut content, &signature);
    content.extend_from_slice(&signing_info);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&content)
        .expect("writing to a Vec cannot fail");
    let compressed = encoder.finish().expect("writing to a Vec cannot fail");
    format!("007{}", STANDARD.encode(compressed))
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn put_u16(buf: &mut Vec<u8>, value: u16) {
    buf.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(buf: &mut Vec<u8>, value: u32) {
    buf.extend_from_slice(&value.to_le_bytes());
}

fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    put_u16(buf, bytes.len() as u16);
    buf.extend_from_slice(bytes);
}

/// The original's `addressToUid`: the last 8 characters of the address as hex, modulo
/// 4294967295 (so `…ffffffff` is 0, Agora's wildcard); 0 when they are not hex.
pub fn address_to_uid(wallet: &str) -> u32 {
    let tail = wallet.get(wallet.len().saturating_sub(8)..).unwrap_or("");
    let value = u64::from_str_radix(tail, 16).unwrap_or(0);
    (value % 4_294_967_295) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const APP_ID: &str = "970CA35de60c44645bbae8a215061b33";
    const APP_CERT: &str = "5CFd2fd1755d40ecb72977518be15d3b";

    fn decode(token: &str) -> Vec<u8> {
        let compressed = STANDARD.decode(&token[3..]).unwrap();
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&compressed[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn token_layout_and_signature() {
        let grant = RtcGrant {
            app_id: APP_ID,
            app_cert: APP_CERT,
            channel: "7d72365eb983485397e3e3f9d460bdda",
            uid: 2882341273,
            issued_at: 1111111,
            lifetime_secs: 600,
            salt: 1,
        };
        let token = build_rtc_token(&grant);
        assert!(token.starts_with("007"));
        let content = decode(&token);
        assert_eq!(&content[..2], &32u16.to_le_bytes());
        let (signature, info) = content[2..].split_at(32);
        let expected_key = hmac(
            &1u32.to_le_bytes(),
            &hmac(&1111111u32.to_le_bytes(), APP_CERT.as_bytes()),
        );
        assert_eq!(signature, hmac(&expected_key, info).as_slice());
        assert_eq!(&info[2..34], APP_ID.as_bytes());
        assert_eq!(&info[34..38], &1111111u32.to_le_bytes());
        assert!(info.ends_with(b"\x0a\x002882341273"));
    }

    #[test]
    fn subscriber_tokens_carry_the_join_privilege_only() {
        let grant = RtcGrant {
            app_id: APP_ID,
            app_cert: APP_CERT,
            channel: "c",
            uid: 7,
            issued_at: 1,
            lifetime_secs: 90,
            salt: 5,
        };
        let info = |token: String| decode(&token)[34..].to_vec();
        let publisher = info(build_rtc_token(&grant));
        let subscriber = info(build_rtc_subscriber_token(&grant));
        // After the app id, times, salt and service count: the service type, then the
        // privilege count and the first privilege.
        assert_eq!(&publisher[50..52], &4u16.to_le_bytes());
        assert_eq!(&subscriber[50..52], &1u16.to_le_bytes());
        assert_eq!(&subscriber[52..54], &PRIVILEGE_JOIN_CHANNEL.to_le_bytes());
        assert_eq!(&subscriber[54..58], &90u32.to_le_bytes());
        assert!(subscriber.ends_with(b"\x01\x007"));
    }

    #[test]
    fn uid_zero_is_any_and_bad_ids_give_empty() {
        let mut grant = RtcGrant {
            app_id: APP_ID,
            app_cert: APP_CERT,
            channel: "c",
            uid: 0,
            issued_at: 1,
            lifetime_secs: 1,
            salt: 5,
        };
        assert!(decode(&build_rtc_token(&grant)).ends_with(b"\x01\x00c\x00\x00"));
        grant.app_id = "short";
        assert_eq!(build_rtc_token(&grant), "");
    }

    #[test]
    fn uid_is_the_address_tail_modulo_u32_max() {
        assert_eq!(
            address_to_uid("0x00000000000000000000000000000000000000aa"),
            0xaa
        );
        assert_eq!(
            address_to_uid("0x00000000000000000000000000000000ffffffff"),
            0
        );
        assert_eq!(
            address_to_uid("0x000000000000000000000000000000001234abcd"),
            0x1234abcd
        );
    }
}
