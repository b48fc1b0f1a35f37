//! Ethereum addresses: strict parsing, lowercase and EIP-55 forms, derivation from a public key.

use alloy_primitives::{Address, keccak256};
use k256::ecdsa::VerifyingKey;

use crate::EthError;

#[cfg(test)]
mod tests;

/// Parses `^0x[0-9a-fA-F]{40}$` (any case, checksum not enforced) into an [`Address`];
/// `None` for anything else (no missing `0x`, no whitespace).
pub fn parse(s: &str) -> Option<Address> {
    let digits = s.strip_prefix("0x")?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 20];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(Address::from(out))
}

/// `"0x"` followed by the 40 lowercase hex digits of the address.
pub fn to_lower_hex(a: &Address) -> String {
    format!("0x{}", hex::encode(a.as_slice()))
}

/// The EIP-55 mixed-case checksum form of the address.
pub fn to_checksum(a: &Address) -> String {
    a.to_checksum(None)
}

/// Address of a SEC1 public key (33-byte compressed or 65-byte uncompressed): the last 20 bytes
/// of keccak256 of the 64-byte uncompressed point.
pub fn from_public_key(sec1: &[u8]) -> Result<Address, EthError> {
    let key = VerifyingKey::from_sec1_bytes(sec1).map_err(|_| EthError::InvalidPublicKey)?;
    Ok(from_verifying_key(&key))
}

/// Address of an already parsed public key.
pub(crate) fn from_verifying_key(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let hash = keccak256(&point.as_bytes()[1..]);
    Address::from_slice(&hash[12..])
}
