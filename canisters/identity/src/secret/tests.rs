//! Tests of the secret comparison.

use super::*;

#[test]
fn whole_values_match_and_nothing_else() {
    let stored = sha256_hex("s3cret");
    assert_eq!(
        stored,
        "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"
    );
    assert!(matches(&stored, "s3cret"));
    for wrong in ["", "s3cre", "s3cret ", "S3CRET", "s3cres"] {
        assert!(!matches(&stored, wrong), "{wrong:?}");
    }
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abd", b"abc"));
    assert!(!constant_time_eq(b"ab", b"abc"));
    assert!(!constant_time_eq(b"abcd", b"abc"));
}
