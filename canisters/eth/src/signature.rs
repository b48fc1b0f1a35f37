//! secp256k1 signatures in Ethereum's 65-byte `r || s || v` form: recovery, and shaping of the
//! 64-byte `r || s` a threshold-ECDSA signer returns.

use alloy_primitives::{Address, B256};
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use crate::{EthError, address};

#[cfg(test)]
mod tests;

/// Recovers the signer of a 32-byte digest from `r || s || v` (`v` in {0, 1, 27, 28}); a high
/// `s` is accepted and normalised, flipping the parity, as in [`crate::eip191::recover`].
pub fn recover_prehash(digest: &B256, sig65: &[u8]) -> Result<Address, EthError> {
    if sig65.len() != 65 {
        return Err(EthError::InvalidSignature("length is not 65 bytes"));
    }
    let parity = parity_of_v(sig65[64])?;
    let (sig, parity) = low_s(parse_rs(&sig65[..64])?, parity);
    let key = recover_key(digest, &sig, parity)?;
    Ok(address::from_verifying_key(&key))
}

/// Turns a threshold-ECDSA `r || s` (64 bytes; `s` may be high) into the 65-byte `r || s || v`
/// clients expect: `s` normalised to low-s and `v = 27 + recovery id`, the id found by trying
/// both parities against `public_key_sec1` (compressed or uncompressed). Errs if neither parity
/// recovers that key.
pub fn from_threshold(
    rs: &[u8; 64],
    digest: &B256,
    public_key_sec1: &[u8],
) -> Result<[u8; 65], EthError> {
    let expected =
        VerifyingKey::from_sec1_bytes(public_key_sec1).map_err(|_| EthError::InvalidPublicKey)?;
    let sig = parse_rs(rs)?;
    let sig = sig.normalize_s().unwrap_or(sig);
    for parity in [false, true] {
        if recover_key(digest, &sig, parity).is_ok_and(|key| key == expected) {
            let mut out = [0u8; 65];
            out[..64].copy_from_slice(&sig.to_bytes());
            out[64] = 27 + u8::from(parity);
            return Ok(out);
        }
    }
    Err(EthError::KeyMismatch)
}

/// `"0x"` followed by the 130 lowercase hex digits of the signature.
pub fn to_hex(sig: &[u8; 65]) -> String {
    format!("0x{}", hex::encode(sig))
}

/// The y-parity bit encoded by `v` (0/1 raw, 27/28 legacy).
pub(crate) fn parity_of_v(v: u8) -> Result<bool, EthError> {
    match v {
        0 | 27 => Ok(false),
        1 | 28 => Ok(true),
        _ => Err(EthError::InvalidSignature("v is not 0, 1, 27 or 28")),
    }
}

/// Parses `r || s`; both must be in `1..n`.
pub(crate) fn parse_rs(rs: &[u8]) -> Result<Signature, EthError> {
    Signature::from_slice(rs).map_err(|_| EthError::InvalidSignature("r or s out of range"))
}

/// The low-s form of the signature and the parity that goes with it.
fn low_s(sig: Signature, parity: bool) -> (Signature, bool) {
    match sig.normalize_s() {
        Some(normalised) => (normalised, !parity),
        None => (sig, parity),
    }
}

fn recover_key(digest: &B256, sig: &Signature, parity: bool) -> Result<VerifyingKey, EthError> {
    let id = RecoveryId::new(parity, false);
    VerifyingKey::recover_from_prehash(digest.as_slice(), sig, id).map_err(|_| EthError::Recovery)
}
