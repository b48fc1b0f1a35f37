//! EIP-191 `personal_sign` recovery: which wallet signed a message.
//!
//! The signed message is `"\x19Ethereum Signed Message:\n" + byte length + message`, hashed with
//! keccak-256. Signatures are hex (`0x` optional), 65 bytes with v in {0, 1, 27, 28}, or 64-byte
//! EIP-2098 compact signatures (the parity in the top bit of `s`), as ethers v6 accepts them.
//! Anything unparsable yields `None` (the original crashed into a 500 there).

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use super::{Wallet, keccak256};

/// The EIP-191 digest of `message`.
pub fn personal_message_hash(message: &str) -> [u8; 32] {
    let mut data = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    data.extend_from_slice(message.as_bytes());
    keccak256(&data)
}

/// The wallet whose key produced `signature_hex` over `message`, or `None` when the signature
/// cannot be parsed or recovers to no key.
pub fn recover_personal_sign(message: &str, signature_hex: &str) -> Option<Wallet> {
    let raw = signature_hex.strip_prefix("0x").unwrap_or(signature_hex);
    let bytes = hex::decode(raw).ok()?;
    let (rs, parity) = match bytes.len() {
        65 => {
            let parity = match bytes[64] {
                0 | 27 => false,
                1 | 28 => true,
                _ => return None,
            };
            (<[u8; 64]>::try_from(&bytes[..64]).ok()?, parity)
        }
        64 => {
            let mut rs = <[u8; 64]>::try_from(&bytes[..]).ok()?;
            let parity = rs[32] & 0x80 != 0;
            rs[32] &= 0x7f;
            (rs, parity)
        }
        _ => return None,
    };
    let mut signature = Signature::from_slice(&rs).ok()?;
    let mut parity = parity;
    if let Some(normalized) = signature.normalize_s() {
        // A high-s signature recovers the same key with the other parity once s is negated.
        signature = normalized;
        parity = !parity;
    }
    let recovery_id = RecoveryId::new(parity, false);
    let digest = personal_message_hash(message);
    let key = VerifyingKey::recover_from_prehash(&digest, &signature, recovery_id).ok()?;
    Some(wallet_of(&key))
}

/// The Ethereum address of a public key: the last 20 bytes of keccak(uncompressed point).
pub fn wallet_of(key: &VerifyingKey) -> Wallet {
    let point = key.to_encoded_point(false);
    let hash = keccak256(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    Wallet::from_bytes(&address)
}

/// Signs `message` as `personal_sign` does: 65 bytes, v = 27 + parity, `0x`-prefixed hex.
/// Clients do this; the tests and the benchmark use it to log in.
pub fn sign_personal_message(key: &k256::ecdsa::SigningKey, message: &str) -> String {
    let digest = personal_message_hash(message);
    let (signature, recovery_id) = key
        .sign_prehash_recoverable(&digest)
        .expect("signing a 32-byte prehash cannot fail");
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + recovery_id.to_byte());
    format!("0x{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_signature_recovers_its_signer() {
        let key = key();
        let signature = sign_personal_message(&key, "neo:abc");
        let signer = wallet_of(key.verifying_key());
        assert_eq!(
            recover_personal_sign("neo:abc", &signature),
            Some(signer.clone())
        );
        assert_ne!(recover_personal_sign("neo:abd", &signature), Some(signer));
    }

    #[test]
    fn v_as_0_1_and_compact_form_are_accepted() {
        let key = key();
        let signer = wallet_of(key.verifying_key());
        let signature = sign_personal_message(&key, "hello");
        let mut bytes = hex::decode(&signature[2..]).unwrap();
        bytes[64] -= 27;
        assert_eq!(
            recover_personal_sign("hello", &hex::encode(&bytes)),
            Some(signer.clone())
        );
        let parity = bytes[64];
        let mut compact = bytes[..64].to_vec();
        compact[32] |= parity << 7;
        assert_eq!(
            recover_personal_sign("hello", &hex::encode(&compact)),
            Some(signer)
        );
    }

    #[test]
    fn malformed_signatures_recover_nothing() {
        for bad in [
            "",
            "0x",
            "0xzz",
            "0x1234",
            &format!("0x{}", "00".repeat(65)),
        ] {
            assert_eq!(recover_personal_sign("hello", bad), None, "{bad}");
        }
    }

    #[test]
    fn known_vector() {
        // The private key 0x...01 has the address 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf.
        let mut one = [0u8; 32];
        one[31] = 1;
        let key = SigningKey::from_slice(&one).unwrap();
        assert_eq!(
            wallet_of(key.verifying_key()).as_str(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }
}
