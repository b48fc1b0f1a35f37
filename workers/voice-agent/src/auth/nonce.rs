//! Login challenges: `neo:` plus 24 random bytes in unpadded base64url (36 characters), stored
//! only as a SHA-256 hash, valid for ten minutes, one outstanding per wallet, consumed by the
//! first successful verification.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::sha256_hex;

/// How long a nonce can be used, in milliseconds.
pub const NONCE_TTL_MS: i64 = 10 * 60 * 1000;

/// A freshly issued nonce: the text handed to the client and what is stored.
#[derive(Debug, Clone)]
pub struct NonceChallenge {
    /// The string the wallet signs verbatim.
    pub nonce: String,
    /// `sha256hex(nonce)`, the only form kept.
    pub nonce_hash: String,
    /// Issue time, epoch ms.
    pub created_at: i64,
    /// Last valid instant, epoch ms.
    pub expires_at: i64,
}

impl NonceChallenge {
    /// A new random challenge issued at `now_ms`.
    pub fn issue(now_ms: i64) -> Self {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let nonce = format!("neo:{}", URL_SAFE_NO_PAD.encode(bytes));
        Self {
            nonce_hash: sha256_hex(&nonce),
            nonce,
            created_at: now_ms,
            expires_at: now_ms + NONCE_TTL_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_shape() {
        let challenge = NonceChallenge::issue(1000);
        assert_eq!(challenge.nonce.len(), 36);
        assert!(challenge.nonce.starts_with("neo:"));
        assert!(!challenge.nonce.contains('='));
        assert_eq!(challenge.expires_at, 1000 + 600_000);
        assert_eq!(challenge.nonce_hash, sha256_hex(&challenge.nonce));
        assert_ne!(NonceChallenge::issue(1000).nonce, challenge.nonce);
    }
}
