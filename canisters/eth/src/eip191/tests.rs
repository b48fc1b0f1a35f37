use super::*;
use k256::ecdsa::SigningKey;

const MESSAGE: &str = "heaven-claim:v1\nnonce=1";

fn signer_address() -> Address {
    crate::address::parse("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap()
}

/// `r || s` (low-s) and the parity of MESSAGE signed by the Hardhat #0 key.
fn sign() -> ([u8; 64], u8) {
    let key =
        hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap();
    let key = SigningKey::from_slice(&key).unwrap();
    let (sig, id) = key
        .sign_prehash_recoverable(message_hash(MESSAGE).as_slice())
        .unwrap();
    (sig.to_bytes().into(), id.to_byte())
}

fn hex_sig(rs: &[u8], v: u8) -> String {
    format!("0x{}{:02x}", hex::encode(rs), v)
}

#[test]
fn message_hash_prefixes_the_byte_length() {
    let expected = alloy_primitives::keccak256(b"\x19Ethereum Signed Message:\n5h\xc3\xa9ll");
    assert_eq!(message_hash("h\u{e9}ll"), expected);
}

#[test]
fn recover_accepts_v_0_1_27_28() {
    let (rs, parity) = sign();
    for v in [parity, parity + 27] {
        let sig = hex_sig(&rs, v);
        assert_eq!(recover(MESSAGE, &sig).unwrap(), signer_address());
        assert_eq!(recover(MESSAGE, &sig[2..]).unwrap(), signer_address());
        assert_eq!(
            recover(MESSAGE, &sig.to_uppercase().replace("0X", "0x")).unwrap(),
            signer_address()
        );
    }
}

#[test]
fn recover_accepts_high_s() {
    let (rs, parity) = sign();
    let sig = k256::ecdsa::Signature::from_slice(&rs).unwrap();
    let (r, s) = sig.split_scalars();
    let high =
        k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s.as_ref()).to_bytes()).unwrap();
    assert!(high.normalize_s().is_some(), "the twin is high-s");
    let sig = hex_sig(&high.to_bytes(), 27 + (1 - parity));
    assert_eq!(recover(MESSAGE, &sig).unwrap(), signer_address());
}

#[test]
fn recover_rejects_malformed() {
    let (rs, parity) = sign();
    let good = hex_sig(&rs, 27 + parity);
    assert!(recover(MESSAGE, &good).is_ok());
    // 64 bytes.
    assert!(recover(MESSAGE, &format!("0x{}", hex::encode(rs))).is_err());
    // v = 29.
    assert!(matches!(
        recover(MESSAGE, &hex_sig(&rs, 29)),
        Err(EthError::InvalidSignature(_))
    ));
    // Not hex / odd length / whitespace / empty.
    assert!(recover(MESSAGE, &good.replace('a', "g")).is_err());
    assert!(recover(MESSAGE, &good[..good.len() - 1]).is_err());
    assert!(recover(MESSAGE, &format!(" {good}")).is_err());
    assert!(recover(MESSAGE, "").is_err());
    // A different message recovers a different address.
    assert_ne!(recover("other", &good).ok(), Some(signer_address()));
}
