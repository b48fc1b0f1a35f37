//! Viewer fingerprints (contracts/api-core.md §5.1): the first 10 hex digits, upper case, of
//! HMAC-SHA256 under the watermark secret (`WATERMARK_SECRET`, `dev-secret` in development).
//!
//! One code per viewer and match (`<matchId>|<viewerWallet>`, drawn on the corner stamp) and
//! one per photo (`<matchId>|<photoId>|<viewerWallet>`, stored with the access and sent as
//! `X-Fingerprint`), so a leaked screenshot or file names who it was revealed to.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret the original used when `WATERMARK_SECRET` was unset (development only).
pub const DEV_WATERMARK_SECRET: &str = "dev-secret";

/// A 10-character upper-case hex fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The code, e.g. `4929099223`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn code(secret: &str, message: &str) -> Fingerprint {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message.as_bytes());
    let digest = mac.finalize().into_bytes();
    Fingerprint(hex::encode_upper(&digest[..5]))
}

/// The viewer's code for a match: HMAC of `<matchId>|<viewerWallet>` (the wallet as given).
pub fn viewer_fingerprint(secret: &str, match_id: &str, viewer_wallet: &str) -> Fingerprint {
    code(secret, &format!("{match_id}|{viewer_wallet}"))
}

/// The code of one photo revealed to a viewer: HMAC of `<matchId>|<photoId>|<viewerWallet>`.
pub fn photo_fingerprint(
    secret: &str,
    match_id: &str,
    photo_id: &str,
    viewer_wallet: &str,
) -> Fingerprint {
    code(secret, &format!("{match_id}|{photo_id}|{viewer_wallet}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected codes computed independently with Python's hmac/hashlib.
    const WALLET: &str = "0x8ba1f109551bd432803012645ac136ddd64dba72";

    #[test]
    fn viewer_code_is_the_first_ten_hex_of_the_hmac_upper_case() {
        assert_eq!(
            viewer_fingerprint(DEV_WATERMARK_SECRET, "m-42", WALLET).as_str(),
            "4929099223"
        );
        assert_eq!(
            viewer_fingerprint("s3cret", "match", "0xABC").as_str(),
            "80171E85F0"
        );
    }

    #[test]
    fn photo_code_binds_the_photo() {
        let code = photo_fingerprint(DEV_WATERMARK_SECRET, "m-42", "3f2a-photo", WALLET);
        assert_eq!(code.as_str(), "9BFA50470E");
        assert_ne!(
            code,
            photo_fingerprint(DEV_WATERMARK_SECRET, "m-42", "other", WALLET)
        );
    }
}
