//! Tests of the typed addresses and hashes.

use super::*;

const HARDHAT0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const CHECKSUMMED: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

#[test]
fn addresses_parse_strictly_or_normalized_and_show_lowercase() {
    let a = Address::parse(CHECKSUMMED).unwrap();
    assert_eq!(a.to_string(), HARDHAT0);
    assert_eq!(a.checksum(), CHECKSUMMED);
    assert_eq!(Address::parse(HARDHAT0), Some(a));
    for bad in [
        " 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "0Xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "0xf39f",
        "",
    ] {
        assert_eq!(Address::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        Address::parse_normalized(" 0XF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266 "),
        Some(a)
    );
    assert_eq!(Address::parse_normalized("0x12"), None);
}

#[test]
fn bytes32_and_label_hashes() {
    let node = "0x8EDF6F47E89D05C0E21320161FDA1FD1FABD0081A66C959691EA17102E39FB27";
    let parsed = Bytes32::parse(node).unwrap();
    assert_eq!(parsed.to_string(), node.to_lowercase());
    assert_eq!(Bytes32::parse("0x12"), None);
    assert_eq!(Bytes32::parse(&node[2..]), None);
    assert_eq!(
        Bytes32::label_hash("alice").hex(),
        "0x9c0257114eb9399a2985f8e75dad7600c5d89fe3824ffa99ec1c3eb8bf3b0501"
    );
}

#[test]
fn embedded_text_keeps_to_its_alphabet() {
    assert!(is_signed_nonce("0f8d4e3a-2b1c-4d5e-8f90-a1b2c3d4e5f6"));
    assert!(is_signed_nonce("abcdef0123456789"));
    assert!(!is_signed_nonce("abcdef012345678"));
    assert!(!is_signed_nonce(&"a".repeat(129)));
    assert!(!is_signed_nonce("abcdef0123456789\n"));
    assert!(is_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"));
    assert!(is_cid(""));
    assert!(!is_cid("bafy;v=2"));
    assert!(is_profile_id("shadow-alex-sf"));
    assert!(!is_profile_id(""));
    assert!(!is_profile_id("shadow alex"));
}
