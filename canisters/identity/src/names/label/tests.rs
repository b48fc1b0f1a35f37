//! Tests of the label rules.

use super::*;

#[test]
fn legacy_reasons_in_the_original_order() {
    assert_eq!(validate_legacy(""), Err(LabelReason::Empty));
    assert_eq!(validate_legacy("   "), Err(LabelReason::TooShort));
    assert_eq!(validate_legacy("abc"), Err(LabelReason::TooShort));
    assert_eq!(validate_legacy(&"a".repeat(64)), Err(LabelReason::TooLong));
    assert_eq!(validate_legacy("-abcd"), Err(LabelReason::InvalidChars));
    assert_eq!(validate_legacy("abcd-"), Err(LabelReason::InvalidChars));
    assert_eq!(validate_legacy("ab_cd"), Err(LabelReason::InvalidChars));
    assert_eq!(validate_legacy("Al ice"), Err(LabelReason::InvalidChars));
    assert_eq!(validate_legacy(" Admin "), Err(LabelReason::Reserved));
    assert_eq!(validate_legacy(" Alice "), Ok("alice".into()));
    assert_eq!(validate_legacy(&"a".repeat(63)), Ok("a".repeat(63)));
    assert_eq!(validate_legacy("a-b-c"), Ok("a-b-c".into()));
    assert_eq!(LabelReason::TooShort.as_str(), "too_short");
}

#[test]
fn policy_labels_allow_one_char_and_refuse_edges() {
    assert_eq!(normalize_policy(" A "), Some("a".into()));
    assert_eq!(normalize_policy("alice-long"), Some("alice-long".into()));
    assert_eq!(normalize_policy(""), None);
    assert_eq!(normalize_policy("-a"), None);
    assert_eq!(normalize_policy("a.b"), None);
    assert_eq!(normalize_policy(&"a".repeat(64)), None);
    assert_eq!(normalize_policy("é"), None);
}

#[test]
fn relay_labels_need_three_chars_and_no_uppercase() {
    assert!(valid_relay_label("abc"));
    assert!(!valid_relay_label("ab"));
    assert!(!valid_relay_label("Abc"));
    assert!(valid_relay_label(&"a".repeat(100)));
}
