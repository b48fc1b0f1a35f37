//! Wallet authentication: EIP-55 addresses, EIP-191 signatures over a one-time nonce, and the
//! HS256 session tokens the chat and agent routes require.

pub mod jwt;
pub mod nonce;
pub mod signature;
pub mod wallet;

pub use jwt::{JwtError, SessionToken};
pub use nonce::NonceChallenge;
pub use signature::recover_personal_sign;
pub use wallet::{Wallet, WalletError};

/// Lowercase hex SHA-256 of a string's UTF-8 bytes: how nonces and LLM secrets are stored.
pub fn sha256_hex(input: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(input.as_bytes()))
}

/// Keccak-256, the hash of Ethereum addresses and signed messages.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    use tiny_keccak::Hasher;
    let mut hasher = tiny_keccak::Keccak::v256();
    hasher.update(data);
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}
