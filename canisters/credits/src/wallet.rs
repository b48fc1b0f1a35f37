//! Wallets as the voice services store them: `0x` and 40 hex digits, lower case (any case is
//! accepted on the way in; no checksum check, as the original).

use std::fmt;

use candid::CandidType;
use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A lower-case `0x` address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize)]
#[cbor(transparent)]
#[serde(transparent)]
pub struct Wallet(#[n(0)] String);

/// Text that is not an address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a 0x address of 40 hex digits")]
pub struct InvalidWallet(pub String);

impl Wallet {
    /// Parses `0x` + 40 hex digits in any case.
    pub fn parse(text: &str) -> Result<Wallet, InvalidWallet> {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .filter(|d| d.len() == 40 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| InvalidWallet(text.chars().take(64).collect()))?;
        Ok(Wallet(format!("0x{}", digits.to_ascii_lowercase())))
    }

    /// The lower-case text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 20 bytes.
    pub fn to_bytes(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        hex::decode_to_slice(&self.0[2..], &mut out).expect("parsed as 40 hex digits");
        out
    }
}

impl fmt::Display for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl CandidType for Wallet {
    fn _ty() -> candid::types::Type {
        String::_ty()
    }

    fn idl_serialize<S: candid::types::Serializer>(&self, serializer: S) -> Result<(), S::Error> {
        self.0.idl_serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Wallet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Wallet::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_case_in_lower_case_out() {
        let w = Wallet::parse("0xAbCdEf0000000000000000000000000000000001").unwrap();
        assert_eq!(w.as_str(), "0xabcdef0000000000000000000000000000000001");
        assert_eq!(w.to_bytes()[19], 1);
        assert!(Wallet::parse("abcdef0000000000000000000000000000000001").is_err());
        assert!(Wallet::parse("0x1234").is_err());
        assert!(Wallet::parse("0xzzcdef0000000000000000000000000000000001").is_err());
    }

    #[test]
    fn candid_round_trip_checks_the_text() {
        let w = Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap();
        let bytes = candid::encode_one(&w).unwrap();
        assert_eq!(candid::decode_one::<Wallet>(&bytes).unwrap(), w);
        let bad = candid::encode_one("nope").unwrap();
        assert!(candid::decode_one::<Wallet>(&bad).is_err());
    }
}
