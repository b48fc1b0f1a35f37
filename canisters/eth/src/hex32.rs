//! `bytes32` values as `0x`-prefixed hex strings.

use alloy_primitives::B256;

/// Parses `"0x"` followed by exactly 64 hex digits (any case) into a [`B256`].
pub fn parse_b256(s: &str) -> Option<B256> {
    let digits = s.strip_prefix("0x")?;
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(B256::from(out))
}

/// `"0x"` followed by the 64 lowercase hex digits of the value.
pub fn b256_hex(b: &B256) -> String {
    format!("0x{}", hex::encode(b.as_slice()))
}
