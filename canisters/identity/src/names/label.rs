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
    /// Outside `[a-z0-9-]`, a hyphen at either end, or (ours) a punycode `xn--` label.
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
    // Ours: punycode (`xn--`) labels are refused rather than checked for confusables. The
    // registry has only ever held ASCII names, so an A-label can only be there to look like
    // another name once a resolver shows it as Unicode.
    if !has_label_shape(&label) || label.starts_with("xn--") {
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
mod tests;
