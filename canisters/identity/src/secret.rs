//! Route secrets are compared, never read back: the canister keeps their SHA-256 and checks a
//! presented value by hashing it and comparing the digests in constant time. Also the one
//! constant-time comparison of the crate.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `value` (what is stored and logged for a secret).
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Byte equality whose time does not depend on where the inputs differ (lengths are not
/// secret: both sides are digests of the same size where it matters).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `presented` is the secret whose SHA-256 (lowercase hex) is `stored`.
pub fn matches(stored: &str, presented: &str) -> bool {
    constant_time_eq(stored.as_bytes(), sha256_hex(presented).as_bytes())
}

#[cfg(test)]
mod tests;
