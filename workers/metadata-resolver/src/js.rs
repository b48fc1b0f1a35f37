//! String helpers that reproduce the original worker's JavaScript semantics:
//! `encodeURIComponent` / `decodeURIComponent`, the `toLowerCase().trim()` normalisation of
//! cache keys and UTF-16 lengths. (Order-keeping JSON is `http_common::OrderedJson`.)

/// JavaScript `encodeURIComponent`: percent-encodes UTF-8 bytes of everything except
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
pub fn encode_uri_component(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// JavaScript `decodeURIComponent`: `None` where JavaScript throws `URIError` (a `%` not
/// followed by two hex digits, or escapes that are not valid UTF-8).
pub fn decode_uri_component(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// JavaScript `s.toLowerCase().trim()`, the normalisation of search and resolve cache keys.
pub fn lower_trim(input: &str) -> String {
    input
        .to_lowercase()
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_owned()
}

/// The length JavaScript reports for a string (UTF-16 code units).
pub fn js_length(input: &str) -> usize {
    input.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_component_round_trip_matches_javascript() {
        assert_eq!(
            encode_uri_component("AC/DC & Björk (live)!*'~"),
            "AC%2FDC%20%26%20Bj%C3%B6rk%20(live)!*'~"
        );
        assert_eq!(
            decode_uri_component("Bj%C3%B6rk_2.jpg").unwrap(),
            "Björk_2.jpg"
        );
        assert_eq!(decode_uri_component("100%"), None);
        assert_eq!(decode_uri_component("%C3"), None);
    }

    #[test]
    fn normalisation_and_length() {
        assert_eq!(lower_trim("  The BEATLES \n"), "the beatles");
        assert_eq!(js_length("𝄞"), 2);
    }
}
