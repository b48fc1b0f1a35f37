//! The harness's stand-in for the IC's root key: a BLS12-381 key (min-sig: signatures in G1,
//! the public key in G2) derived from a fixed seed, which signs every certificate the HTTP
//! interface hands out. The DER form is what `/api/v2/status` shows and what an agent's
//! `fetch_root_key` installs.

use ic_verify_bls_signature::PrivateKey;
use sha2::{Digest, Sha256};

/// The DER prefix of a BLS12-381 G2 public key as the IC wraps its root key
/// (`SubjectPublicKeyInfo` with the `bls12_381-g2` algorithm OIDs), 37 bytes before the 96-byte
/// compressed key.
const DER_PREFIX: [u8; 37] = [
    0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05,
    0x03, 0x01, 0x02, 0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03,
    0x02, 0x01, 0x03, 0x61, 0x00,
];

/// The domain separator of a certificate's signed message: `"\x0Dic-state-root"`.
const STATE_ROOT_DOMAIN: &[u8] = b"\x0Dic-state-root";

/// A BLS12-381 test root key.
#[derive(Clone, Debug)]
pub struct TestRootKey {
    secret: PrivateKey,
}

impl TestRootKey {
    /// The key derived from `seed` (SHA-256 of it, reduced below the group order).
    pub fn from_seed(seed: &[u8]) -> Self {
        let mut bytes: [u8; 32] = Sha256::digest(seed).into();
        // Big-endian; the group order starts with 0x73, so clearing the top two bits keeps the
        // scalar in range.
        bytes[0] &= 0x3f;
        let secret = PrivateKey::deserialize(&bytes).expect("a scalar below the group order");
        Self { secret }
    }

    /// The 96-byte compressed G2 public key.
    pub fn public_key(&self) -> [u8; 96] {
        self.secret.public_key().serialize()
    }

    /// The public key DER-wrapped as the IC's root key (133 bytes).
    pub fn public_key_der(&self) -> Vec<u8> {
        let mut der = DER_PREFIX.to_vec();
        der.extend_from_slice(&self.public_key());
        der
    }

    /// The 48-byte signature of a state tree with root hash `root_hash`:
    /// BLS over `"\x0Dic-state-root" ‖ root_hash`.
    pub fn sign_root_hash(&self, root_hash: &[u8; 32]) -> [u8; 48] {
        let mut message = STATE_ROOT_DOMAIN.to_vec();
        message.extend_from_slice(root_hash);
        self.secret.sign(&message).serialize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_under_the_der_key_and_fail_for_another_root() {
        let key = TestRootKey::from_seed(b"test");
        let der = key.public_key_der();
        assert_eq!(der.len(), 133);
        let root = [7u8; 32];
        let sig = key.sign_root_hash(&root);
        let mut message = STATE_ROOT_DOMAIN.to_vec();
        message.extend_from_slice(&root);
        ic_verify_bls_signature::verify_bls_signature(&sig, &message, &der[37..]).unwrap();
        message[20] ^= 1;
        assert!(ic_verify_bls_signature::verify_bls_signature(&sig, &message, &der[37..]).is_err());
        assert_ne!(
            TestRootKey::from_seed(b"other").public_key(),
            key.public_key()
        );
    }
}
