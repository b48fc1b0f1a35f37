//! Wallet addresses as the original normalises them (ethers `getAddress`): `0x` plus 40 hex
//! digits, with or without the prefix; all-lowercase and all-uppercase are accepted, mixed case
//! must be a valid EIP-55 checksum. The normal form is the EIP-55 checksummed address.

use std::fmt;

use super::keccak256;

/// A checksummed (EIP-55) Ethereum address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wallet(String);

/// Why a string is not a wallet address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// Not 40 hex digits (with an optional `0x`).
    #[error("invalid address")]
    Malformed,
    /// Mixed case that is not the EIP-55 checksum.
    #[error("bad address checksum")]
    BadChecksum,
}

impl Wallet {
    /// Normalises `input` like ethers `getAddress`.
    pub fn parse(input: &str) -> Result<Self, WalletError> {
        let hex_part = input.strip_prefix("0x").unwrap_or(input);
        if hex_part.len() != 40 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WalletError::Malformed);
        }
        let checksummed = checksum(hex_part);
        let has_lower = hex_part.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = hex_part.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper && checksummed[2..] != *hex_part {
            return Err(WalletError::BadChecksum);
        }
        Ok(Self(checksummed))
    }

    /// The address of a 20-byte account.
    pub fn from_bytes(bytes: &[u8; 20]) -> Self {
        Self(checksum(&hex::encode(bytes)))
    }

    /// The checksummed form, `0x` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The all-lowercase form (Honcho pseudonyms and subgraph queries use it).
    pub fn to_lowercase(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// EIP-55: uppercase each letter whose nibble in keccak(lowercase hex) is >= 8.
fn checksum(hex_digits: &str) -> String {
    let lower = hex_digits.to_ascii_lowercase();
    let hash = keccak256(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        if c.is_ascii_alphabetic() && nibble >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `^0x[0-9a-fA-F]{40}$`: the shape `activityWallet` must have to be used.
pub fn is_plain_hex_address(value: &str) -> bool {
    value
        .strip_prefix("0x")
        .is_some_and(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // EIP-55 reference vectors.
    const VECTORS: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn lowercase_uppercase_and_unprefixed_normalise_to_eip55() {
        for expected in VECTORS {
            let hex = &expected[2..];
            assert_eq!(
                Wallet::parse(&expected.to_ascii_lowercase())
                    .unwrap()
                    .as_str(),
                expected
            );
            assert_eq!(
                Wallet::parse(&format!("0x{}", hex.to_ascii_uppercase()))
                    .unwrap()
                    .as_str(),
                expected
            );
            assert_eq!(Wallet::parse(hex).unwrap().as_str(), expected);
            assert_eq!(Wallet::parse(expected).unwrap().as_str(), expected);
        }
    }

    #[test]
    fn bad_checksum_and_malformed_are_refused() {
        assert_eq!(
            Wallet::parse("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Err(WalletError::BadChecksum)
        );
        assert_eq!(Wallet::parse("0x1234"), Err(WalletError::Malformed));
        assert_eq!(
            Wallet::parse("[object Object]"),
            Err(WalletError::Malformed)
        );
        assert_eq!(
            Wallet::parse("0xzz00000000000000000000000000000000000000"),
            Err(WalletError::Malformed)
        );
    }

    #[test]
    fn activity_wallet_shape() {
        assert!(is_plain_hex_address(
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        ));
        assert!(!is_plain_hex_address(
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        ));
        assert!(!is_plain_hex_address(
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"
        ));
    }
}
