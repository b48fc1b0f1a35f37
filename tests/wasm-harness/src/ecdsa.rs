//! The harness's threshold-ECDSA stand-in: a deterministic secp256k1 key per (key name, canister,
//! derivation path), derived by hashing, not BIP32. `ecdsa_public_key` and `sign_with_ecdsa`
//! use the same key, so signatures verify against the public key, as on the IC.

use candid::Principal;
use k256::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use sha2::{Digest, Sha256};

fn hash_parts(
    domain: &[u8],
    key_name: &str,
    canister: &Principal,
    path: &[Vec<u8>],
    n: u32,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(domain);
    for part in [key_name.as_bytes(), canister.as_slice()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update((path.len() as u64).to_be_bytes());
    for part in path {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(n.to_be_bytes());
    h.finalize().into()
}

/// The signing key of `canister` for `key_name` and `path`.
pub fn signing_key(key_name: &str, canister: &Principal, path: &[Vec<u8>]) -> SigningKey {
    (0u32..)
        .find_map(|n| {
            let bytes = hash_parts(b"ic-wasm-harness/ecdsa/key/v1", key_name, canister, path, n);
            SigningKey::from_bytes(&bytes.into()).ok()
        })
        .expect("a valid scalar is found within a few tries")
}

/// The 33-byte SEC1 compressed public key and a 32-byte chain code.
pub fn public_key(key_name: &str, canister: &Principal, path: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
    let key = signing_key(key_name, canister, path);
    let public = key
        .verifying_key()
        .to_encoded_point(true)
        .as_bytes()
        .to_vec();
    let chain = hash_parts(
        b"ic-wasm-harness/ecdsa/chain/v1",
        key_name,
        canister,
        path,
        0,
    );
    (public, chain.to_vec())
}

/// A 64-byte `r‖s` (low-s) signature of the 32-byte `message_hash`.
pub fn sign(
    key_name: &str,
    canister: &Principal,
    path: &[Vec<u8>],
    message_hash: &[u8],
) -> Result<Vec<u8>, String> {
    let key = signing_key(key_name, canister, path);
    let signature: Signature = key
        .sign_prehash(message_hash)
        .map_err(|e| format!("signing failed: {e}"))?;
    let signature = signature.normalize_s().unwrap_or(signature);
    Ok(signature.to_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

    use super::*;

    #[test]
    fn signature_verifies_and_keys_differ_by_path_and_canister() {
        let canister = Principal::from_slice(&[1, 2, 3]);
        let path = vec![b"a".to_vec()];
        let (public, chain) = public_key("dfx_test_key", &canister, &path);
        assert_eq!((public.len(), chain.len()), (33, 32));
        let hash = [7u8; 32];
        let sig = sign("dfx_test_key", &canister, &path, &hash).unwrap();
        let key = VerifyingKey::from_sec1_bytes(&public).unwrap();
        key.verify_prehash(&hash, &Signature::from_slice(&sig).unwrap())
            .unwrap();
        assert_ne!(public, public_key("dfx_test_key", &canister, &[]).0);
        assert_ne!(public, public_key("key_1", &canister, &path).0);
        let other = Principal::from_slice(&[1, 2, 4]);
        assert_ne!(public, public_key("dfx_test_key", &other, &path).0);
        assert_eq!(public, public_key("dfx_test_key", &canister, &path).0);
    }
}
