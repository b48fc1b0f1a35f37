//! Reading the webhook's `userContextData`: the session id (the original's extraction rules,
//! first match wins) and, in mock mode, the `dob:` / `nat:` segments.

/// Whether `s` is 16–64 hex digits (either case).
fn is_session_hex(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `decodeURIComponent`: `%XX` sequences decoded as UTF-8; `None` where JavaScript throws (a
/// `%` not followed by two hex digits, or bytes that are not UTF-8).
fn decode_uri_component(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The query of `raw` when it parses as an absolute URL (`scheme:` then anything), as
/// WHATWG's URL parser would find it.
fn url_query(raw: &str) -> Option<&str> {
    let colon = raw.find(':')?;
    let scheme = &raw[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let rest = raw[colon + 1..].split('#').next().unwrap_or("");
    Some(rest.split_once('?').map_or("", |(_, q)| q))
}

/// The leading run of up to 64 hex digits of `s`.
fn hex_run(s: &str) -> &str {
    let n = s.bytes().take(64).take_while(u8::is_ascii_hexdigit).count();
    &s[..n]
}

/// `(?:^|[?&])(sessionId|session)=([a-f0-9]{16,64})` (case-insensitive), first match.
fn query_style(segment: &str) -> Option<String> {
    let lower = segment.to_ascii_lowercase();
    for (i, _) in lower.char_indices() {
        let at_boundary = i == 0 || matches!(lower.as_bytes()[i - 1], b'?' | b'&');
        if !at_boundary {
            continue;
        }
        for name in ["sessionid=", "session="] {
            if let Some(rest) = lower[i..].strip_prefix(name) {
                let run = hex_run(rest);
                if run.len() >= 16 {
                    return Some(run.to_string());
                }
            }
        }
    }
    None
}

/// `^(sessionId|session)\s*:\s*([a-f0-9]{16,64})$` (case-insensitive).
fn colon_style(segment: &str) -> Option<String> {
    let lower = segment.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sessionid")
        .or_else(|| lower.strip_prefix("session"))?;
    let value = rest.trim_start().strip_prefix(':')?.trim_start();
    is_session_hex(value).then(|| value.to_string())
}

/// The first 16–64 hex run of the UTF-8 text packed after Self's `bytes32 chainId ‖ bytes32
/// userId` (when `segment` is longer hex than those two words).
fn packed_style(segment: &str) -> Option<String> {
    let hex = segment
        .strip_prefix("0x")
        .or_else(|| segment.strip_prefix("0X"))
        .unwrap_or(segment);
    if hex.len() <= 128 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let user_data = &hex[128..];
    if !user_data.len().is_multiple_of(2) {
        return None;
    }
    let bytes = hex::decode(user_data).ok()?;
    let decoded = String::from_utf8_lossy(&bytes);
    let decoded = decoded.trim();
    let mut rest = decoded;
    while !rest.is_empty() {
        let start = rest.find(|c: char| c.is_ascii_hexdigit())?;
        let run = hex_run(&rest[start..]);
        if run.len() >= 16 {
            return Some(run.to_ascii_lowercase());
        }
        rest = &rest[start + run.len().max(1)..];
    }
    None
}

/// The session id in `user_context_data`, lowercased, by the original's rules in order: URL
/// query (`sessionId`, then `session`), then on the part before the first `|`: query style,
/// `sessionId:<hex>` style, bare hex, then Self's packed hex encoding.
pub fn extract_session_id(user_context_data: &str) -> Option<String> {
    let trimmed = user_context_data.trim();
    if trimmed.is_empty() {
        return None;
    }
    let raw = decode_uri_component(trimmed).unwrap_or_else(|| trimmed.to_string());
    if let Some(query) = url_query(&raw) {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        if let Some(value) = get("sessionId").or_else(|| get("session"))
            && is_session_hex(value.trim())
        {
            return Some(value.trim().to_ascii_lowercase());
        }
    }
    let first = raw.split('|').next().unwrap_or("").trim();
    if let Some(id) = query_style(first).or_else(|| colon_style(first)) {
        return Some(id);
    }
    if is_session_hex(first) {
        return Some(first.to_ascii_lowercase());
    }
    packed_style(first)
}

/// Mock mode's disclosures: the last `dob:` and `nat:` segments of `userContextData` split on
/// `|` (as sent: not decoded, not trimmed), defaulting to `1995-01-15` and `USA`.
pub fn mock_disclosures(user_context_data: &str) -> (String, String) {
    let mut dob = None;
    let mut nationality = None;
    for part in user_context_data.split('|') {
        if let Some(v) = part.strip_prefix("dob:") {
            dob = Some(v.to_string());
        } else if let Some(v) = part.strip_prefix("nat:") {
            nationality = Some(v.to_string());
        }
    }
    (
        dob.filter(|d| !d.is_empty())
            .unwrap_or_else(|| "1995-01-15".into()),
        nationality
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "USA".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn session_id_forms_in_the_originals_order() {
        let up = ID.to_uppercase();
        assert_eq!(extract_session_id(ID).as_deref(), Some(ID));
        assert_eq!(extract_session_id(&format!(" {up} ")).as_deref(), Some(ID));
        assert_eq!(
            extract_session_id(&format!("sessionId:{ID}|dob:1990-01-01|nat:FRA")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            extract_session_id(&format!("SESSION : {up}")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            extract_session_id(&format!("heaven://self/callback?sessionId={ID}")).as_deref(),
            Some(ID)
        );
        // URL-encoded once, then a URL.
        assert_eq!(
            extract_session_id(&format!("https%3A%2F%2Fx.y%2Fcb%3Fsession%3D{ID}")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            extract_session_id(&format!("foo&session={ID}")).as_deref(),
            Some(ID)
        );
        // Query style has no end anchor: the first 64 hex digits of a longer run.
        let long = "a".repeat(70);
        assert_eq!(
            extract_session_id(&format!("sessionId={long}")).as_deref(),
            Some(&long[..64])
        );
        // Too short, too long for the bare form, not hex.
        assert_eq!(extract_session_id("abc123"), None);
        assert_eq!(extract_session_id(&"a".repeat(65)), None);
        assert_eq!(extract_session_id(""), None);
        assert_eq!(extract_session_id("sessionId:xyz"), None);
        // A bad percent sequence keeps the raw text.
        assert_eq!(
            extract_session_id(&format!("{ID}|x=%zz")).as_deref(),
            Some(ID)
        );
    }

    #[test]
    fn packed_user_context_data_yields_the_user_defined_session() {
        let chain = format!("{:064x}", 42220);
        let user = format!("{:064x}", 0xf39fu64);
        let packed = format!("0x{chain}{user}{}", hex::encode(ID));
        assert_eq!(extract_session_id(&packed).as_deref(), Some(ID));
        // Exactly 128 hex digits carry no user data.
        assert_eq!(extract_session_id(&format!("{chain}{user}")), None);
        // Odd-length user data is not decoded.
        assert_eq!(extract_session_id(&format!("{chain}{user}abc")), None);
    }

    #[test]
    fn mock_disclosures_default_and_override() {
        assert_eq!(
            mock_disclosures(ID),
            ("1995-01-15".to_string(), "USA".to_string())
        );
        assert_eq!(
            mock_disclosures(&format!("{ID}|dob:2001-02-03|nat:DEU|nat:FRA")),
            ("2001-02-03".to_string(), "FRA".to_string())
        );
    }
}
