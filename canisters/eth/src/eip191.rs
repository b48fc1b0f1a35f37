//! EIP-191 `personal_sign` messages: the digest and signer recovery, as wallets and viem do them.

use alloy_primitives::{Address, B256};

use crate::{EthError, signature};

#[cfg(test)]
mod tests;

/// keccak256(`"\x19Ethereum Signed Message:\n"` + decimal byte length + message).
pub fn message_hash(message: &str) -> B256 {
    alloy_primitives::eip191_hash_message(message)
}

/// Recovers the signer of `message` like viem's `recoverMessageAddress`: the signature is hex
/// with or without `0x`, exactly 65 bytes `r || s || v` with `v` in {0, 1, 27, 28}; a high `s` is
/// accepted (normalised before recovery, flipping the parity). Anything else is an error.
pub fn recover(message: &str, signature_hex: &str) -> Result<Address, EthError> {
    let digits = signature_hex.strip_prefix("0x").unwrap_or(signature_hex);
    let bytes = hex::decode(digits).map_err(|_| EthError::InvalidSignature("not hex"))?;
    signature::recover_prehash(&message_hash(message), &bytes)
}
