//! ANS-104 test vectors: items we sign parse back, their signature verifies, their id is
//! base64url(sha256(signature)), and any change to data, tags or signature is caught.
//! (`arweave.rs` also has arlocal's arbundles parse our items inside a bundle.)

use base64::Engine as _;
use blob_store::ans104::{DataHasher, DataItemHeader, EthereumSigner, decode_tags, encode_tags};
use portability::BlobTag;
use sha2::{Digest, Sha256};

const KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

fn tags() -> Vec<BlobTag> {
    vec![
        BlobTag {
            name: "Content-Type".into(),
            value: "image/png".into(),
        },
        BlobTag {
            name: "App-Name".into(),
            value: "Heaven ✓".into(),
        },
    ]
}

fn item(data: &[u8], tags: &[BlobTag], anchor: Option<[u8; 32]>) -> Vec<u8> {
    let signer = EthereumSigner::from_hex(KEY).unwrap();
    let mut h = DataHasher::new();
    for chunk in data.chunks(7) {
        h.update(chunk);
    }
    let header = signer.sign(tags, anchor, h.finish()).unwrap();
    let mut out = header.to_bytes();
    out.extend_from_slice(data);
    out
}

#[test]
fn signed_item_parses_verifies_and_has_the_sha256_id() {
    let data = b"hello heaven";
    let raw = item(data, &tags(), Some([7; 32]));
    let (header, offset) = DataItemHeader::parse(&raw).unwrap();
    assert_eq!(&raw[offset..], data);
    assert_eq!(header.tags, tags());
    assert_eq!(header.anchor, Some([7; 32]));
    assert_eq!(header.target, None);
    assert_eq!(
        u16::from_le_bytes([raw[0], raw[1]]),
        3,
        "Ethereum signature type"
    );
    assert_eq!(header.owner[0], 4, "uncompressed secp256k1 key");
    assert!(matches!(header.signature[64], 27 | 28));
    header.verify(data).unwrap();
    let expected =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(header.signature));
    assert_eq!(header.id(), expected);
    assert_eq!(header.id().len(), 43);
}

#[test]
fn signing_is_deterministic_per_content() {
    assert_eq!(item(b"x", &[], None), item(b"x", &[], None));
    assert_ne!(item(b"x", &[], None), item(b"y", &[], None));
}

#[test]
fn tampering_is_detected() {
    let raw = item(b"original bytes", &tags(), None);
    let (header, offset) = DataItemHeader::parse(&raw).unwrap();
    assert!(header.verify(b"original byteS").is_err(), "data changed");
    let mut other_tags = header.clone();
    other_tags.tags[1].value = "Hell".into();
    assert!(other_tags.verify(&raw[offset..]).is_err(), "tags changed");
    let mut bad_sig = header.clone();
    bad_sig.signature[10] ^= 1;
    assert!(bad_sig.verify(&raw[offset..]).is_err(), "signature changed");
    let mut other_owner = header;
    other_owner.owner = EthereumSigner::from_hex(&"11".repeat(32)).unwrap().owner();
    assert!(other_owner.verify(&raw[offset..]).is_err(), "owner changed");
}

#[test]
fn empty_tags_encode_as_nothing_and_tags_round_trip() {
    assert!(encode_tags(&[]).is_empty());
    let raw = item(b"", &[], None);
    let (header, offset) = DataItemHeader::parse(&raw).unwrap();
    assert_eq!(offset, raw.len());
    assert_eq!(offset, 2 + 65 + 65 + 1 + 1 + 8 + 8);
    header.verify(b"").unwrap();
    let encoded = encode_tags(&tags());
    // Avro: block count 2 (zigzag 4), "Content-Type" (len 12 -> 24), ...
    assert_eq!(&encoded[..2], &[4, 24]);
    assert_eq!(*encoded.last().unwrap(), 0);
    assert_eq!(decode_tags(&encoded).unwrap(), tags());
}

#[test]
fn malformed_items_are_refused() {
    let raw = item(b"data", &tags(), None);
    assert!(DataItemHeader::parse(&raw[..100]).is_err());
    let mut wrong_type = raw.clone();
    wrong_type[0] = 1;
    assert!(DataItemHeader::parse(&wrong_type).is_err());
    assert!(EthereumSigner::from_hex("zz").is_err());
    assert!(EthereumSigner::from_hex(&"00".repeat(32)).is_err());
}
