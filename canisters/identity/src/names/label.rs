//! Label rules. The legacy registry and the on-chain names policy normalise the same way (trim,
//! lowercase) but differ in length limits and in what they report.

/// Labels the legacy registry refuses for everyone (the original's hard-coded list).
pub const RESERVED_LABELS: &[&str] = &[
    "www",
    "api",
    "ns1",
    "ns2",
    "ns3",
    "mail",
    "smtp",
    "pop",
    "imap",
    "ftp",
    "cdn",
    "static",
    "assets",
    "img",
    "images",
    "media",
    "admin",
    "root",
    "auth",
    "oauth",
    "login",
    "logout",
    "signin",
    "signout",
    "signup",
    "register",
    "account",
    "accounts",
    "user",
    "users",
    "profile",
    "settings",
    "config",
    "configuration",
    "support",
    "help",
    "contact",
    "feedback",
    "report",
    "abuse",
    "billing",
    "payments",
    "subscription",
    "status",
    "health",
    "ping",
    "dashboard",
    "metrics",
    "analytics",
    "heaven",
    "heavens",
    "official",
    "team",
    "staff",
    "moderator",
    "mod",
    "founder",
    "founders",
    "employee",
    "employees",
    "security",
    "secure",
    "ssl",
    "tls",
    "cert",
    "certs",
    "certificate",
    "postmaster",
    "webmaster",
    "hostmaster",
    "test",
    "testing",
    "demo",
    "example",
    "sample",
    "null",
    "undefined",
    "true",
    "false",
    "localhost",
    "local",
];

/// Why the legacy registry refuses a label; `as_str` is the wire value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelReason {
    /// No label at all.
    Empty,
    /// Fewer than 4 characters.
    TooShort,
    /// More than 63 characters.
    TooLong,
    /// Outside `[a-z0-9-]`, or a hyphen at either end.
    InvalidChars,
    /// On the hard-coded reserved list.
    Reserved,
}

impl LabelReason {
    /// The reason as the original reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::InvalidChars => "invalid_chars",
            Self::Reserved => "reserved",
        }
    }
}

/// Trim and lowercase, as both rule sets start.
pub fn normalize(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Length as JavaScript counts it (UTF-16 code units).
fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$` without a length bound.
fn has_label_shape(s: &str) -> bool {
    let bytes = s.as_bytes();
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            edge(first) && edge(last) && bytes.iter().all(|&b| edge(b) || b == b'-')
        }
        _ => false,
    }
}

/// The legacy registry's rule: the normalized label, or why it is refused.
pub fn validate_legacy(raw: &str) -> Result<String, LabelReason> {
    if raw.is_empty() {
        return Err(LabelReason::Empty);
    }
    let label = normalize(raw);
    let len = js_len(&label);
    if len < 4 {
        return Err(LabelReason::TooShort);
    }
    if len > 63 {
        return Err(LabelReason::TooLong);
    }
    if !has_label_shape(&label) {
        return Err(LabelReason::InvalidChars);
    }
    if RESERVED_LABELS.contains(&label.as_str()) {
        return Err(LabelReason::Reserved);
    }
    Ok(label)
}

/// The names policy's rule (same as the contract): 1–63 chars of `[a-z0-9-]`, no hyphen at
/// either end, after trim and lowercase.
pub fn normalize_policy(raw: &str) -> Option<String> {
    let label = normalize(raw);
    (js_len(&label) <= 63 && has_label_shape(&label)).then_some(label)
}

/// The wallet relay's rule: lowercase `[a-z0-9-]`, no edge hyphen, at least 3 chars, no
/// normalisation and no upper bound.
pub fn valid_relay_label(label: &str) -> bool {
    js_len(label) >= 3 && has_label_shape(label)
}

#[cfg(test)]
mod tests {
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
}
