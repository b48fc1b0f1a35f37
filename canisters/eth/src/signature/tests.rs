use super::*;
use k256::Scalar;
use k256::ecdsa::SigningKey;
use k256::elliptic_curve::ops::Neg;

fn key() -> SigningKey {
    let bytes =
        hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap();
    SigningKey::from_slice(&bytes).unwrap()
}

fn signer_address() -> Address {
    address::parse("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap()
}

/// `r || (n - s)`: the high-s twin of a low-s signature.
fn high_s(sig: &Signature) -> [u8; 64] {
    let (r, s) = sig.split_scalars();
    let s_high: Scalar = s.as_ref().neg();
    let high = Signature::from_scalars(r.to_bytes(), s_high.to_bytes()).unwrap();
    assert!(high.normalize_s().is_some(), "the twin is high-s");
    high.to_bytes().into()
}

/// A digest and the (low-s) signature and parity k256 gives for it.
fn signed(seed: u32) -> (B256, Signature, u8) {
    let digest = alloy_primitives::keccak256(seed.to_be_bytes());
    let (sig, id) = key().sign_prehash_recoverable(digest.as_slice()).unwrap();
    (digest, sig, id.to_byte())
}

/// Digests whose k256 signatures have parity 0 and parity 1.
fn one_of_each_parity() -> [(B256, Signature, u8); 2] {
    let mut found: [Option<(B256, Signature, u8)>; 2] = [None, None];
    for seed in 0.. {
        let s = signed(seed);
        let slot = usize::from(s.2);
        if found[slot].is_none() {
            found[slot] = Some(s);
        }
        if let [Some(a), Some(b)] = &found {
            return [*a, *b];
        }
    }
    unreachable!()
}

#[test]
fn from_threshold_normalises_high_s_for_both_parities() {
    let public = key().verifying_key().to_encoded_point(false);
    let compressed = key().verifying_key().to_encoded_point(true);
    for (digest, sig, parity) in one_of_each_parity() {
        let rs = high_s(&sig);
        for public in [public.as_bytes(), compressed.as_bytes()] {
            let out = from_threshold(&rs, &digest, public).unwrap();
            assert_eq!(&out[..64], &sig.to_bytes()[..], "s is the low-s form");
            assert_eq!(out[64], 27 + parity);
            assert_eq!(recover_prehash(&digest, &out).unwrap(), signer_address());
        }
        // Already low-s input gives the same answer.
        let low: [u8; 64] = sig.to_bytes().into();
        assert_eq!(
            from_threshold(&low, &digest, public.as_bytes()).unwrap()[64],
            27 + parity
        );
    }
}

#[test]
fn from_threshold_rejects_another_key() {
    let (digest, sig, _) = signed(1);
    let other = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let other_public = other.verifying_key().to_encoded_point(true);
    let rs: [u8; 64] = sig.to_bytes().into();
    assert_eq!(
        from_threshold(&rs, &digest, other_public.as_bytes()),
        Err(EthError::KeyMismatch)
    );
    assert_eq!(
        from_threshold(&rs, &digest, &[2u8; 10]),
        Err(EthError::InvalidPublicKey)
    );
    assert!(from_threshold(&[0u8; 64], &digest, other_public.as_bytes()).is_err());
}

#[test]
fn recover_prehash_accepts_every_v_form_and_high_s() {
    for (digest, sig, parity) in one_of_each_parity() {
        let mut sig65 = [0u8; 65];
        sig65[..64].copy_from_slice(&sig.to_bytes());
        for v in [parity, 27 + parity] {
            sig65[64] = v;
            assert_eq!(recover_prehash(&digest, &sig65).unwrap(), signer_address());
        }
        // High s with the parity flipped is the same signature.
        sig65[..64].copy_from_slice(&high_s(&sig));
        sig65[64] = 27 + (1 - parity);
        assert_eq!(recover_prehash(&digest, &sig65).unwrap(), signer_address());
        // The wrong parity recovers someone else.
        sig65[64] = 27 + parity;
        assert_ne!(
            recover_prehash(&digest, &sig65).ok(),
            Some(signer_address())
        );
    }
}

#[test]
fn recover_prehash_rejects_malformed() {
    let (digest, sig, parity) = signed(3);
    let mut sig65 = [0u8; 65];
    sig65[..64].copy_from_slice(&sig.to_bytes());
    sig65[64] = 29;
    assert!(matches!(
        recover_prehash(&digest, &sig65),
        Err(EthError::InvalidSignature(_))
    ));
    sig65[64] = 27 + parity;
    assert!(recover_prehash(&digest, &sig65[..64]).is_err());
    assert!(recover_prehash(&digest, &[sig65.as_slice(), &[0]].concat()).is_err());
    assert!(recover_prehash(&digest, &[0u8; 65]).is_err());
}

#[test]
fn to_hex_is_lowercase_0x_130() {
    let mut sig = [0xABu8; 65];
    sig[64] = 0x1b;
    let s = to_hex(&sig);
    assert_eq!(s.len(), 132);
    assert!(s.starts_with("0xabab"));
    assert!(s.ends_with("ab1b"));
}
