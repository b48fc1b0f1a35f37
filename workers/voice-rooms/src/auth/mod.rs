//! Wallet login as voice-control-plane does it: a 64-hex nonce per request (several may be
//! live per wallet, each for 300 s, single use), an EIP-191 `personal_sign` of it, and an
//! HS256 JWT for one hour whose `sub` is the lowercase wallet.

pub mod jwt;
pub mod nonce;
pub mod signature;

pub use jwt::{JwtError, SessionToken, TOKEN_TTL_SECONDS};
pub use nonce::{NONCE_TTL_SECONDS, NonceBook, NonceRecord, new_nonce};
pub use signature::signature_matches;

use std::fmt;

/// A wallet as the original stores and compares it: `0x` and 40 hex digits, lower case (any
/// case accepted on the way in, no checksum check: viem's `isAddress(.., {strict: false})`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Wallet(String);

impl Wallet {
    /// `0x` + 40 hex digits in any case, lowercased; `None` for anything else.
    pub fn parse(text: &str) -> Option<Wallet> {
        let digits = text.strip_prefix("0x")?;
        (digits.len() == 40 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Wallet(text.to_ascii_lowercase()))
    }

    /// The lowercase text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallets_are_lowercased_and_checked_for_shape_only() {
        let mixed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert_eq!(
            Wallet::parse(mixed).unwrap().as_str(),
            mixed.to_ascii_lowercase()
        );
        // A wrong checksum is accepted, as viem's non-strict check does.
        assert!(Wallet::parse("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").is_some());
        for bad in [
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x1234",
            "alice",
            "",
        ] {
            assert_eq!(Wallet::parse(bad), None, "{bad}");
        }
    }
}
