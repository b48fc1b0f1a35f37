//! Tests of the proof of work.

use super::*;

#[test]
fn difficulty_follows_label_length() {
    assert_eq!(difficulty(4, 6), 4);
    assert_eq!(difficulty(4, 7), 3);
    assert_eq!(difficulty(4, 8), 2);
    assert_eq!(difficulty(4, 30), 2);
    assert_eq!(difficulty(2, 7), 2);
    assert_eq!(difficulty(1, 6), 1);
    assert_eq!(difficulty(12, 9), 10);
}

#[test]
fn known_digest_and_nibble_counting() {
    // keccak256("abc:1") = 0x5e8c9652... : no leading zero.
    assert!(satisfies("abc", "1", 0));
    assert!(!satisfies("abc", "1", 1));
    assert_eq!(leading_zero_nibbles(&[0x00, 0x0f]), 3);
    assert_eq!(leading_zero_nibbles(&[0x10]), 0);
    assert_eq!(leading_zero_nibbles(&[0x00, 0x00, 0x01]), 5);
}

#[test]
fn solved_nonce_verifies_and_a_neighbour_usually_does_not() {
    let challenge = "9f".repeat(32);
    let nonce = solve(&challenge, 3);
    assert!(satisfies(&challenge, &nonce, 3));
    let digest = heaven_eth::keccak256(format!("{challenge}:{nonce}").as_bytes());
    assert!(hex::encode(digest).starts_with("000"));
    // Every smaller decimal nonce fails (solve returns the first).
    let n: u64 = nonce.parse().unwrap();
    assert!((0..n).all(|m| !satisfies(&challenge, &m.to_string(), 3)));
}
