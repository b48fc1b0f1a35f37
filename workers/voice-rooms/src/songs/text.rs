//! Text handling of the registry, matching the original's JavaScript: `trim()`, `slice(0, n)`
//! (UTF-16 code units) and `toLowerCase().replace(/\s+/g, ' ')`.

/// JavaScript's whitespace (`\s` and `trim`): Unicode White_Space without U+0085, plus the
/// byte-order mark U+FEFF.
pub fn is_js_whitespace(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// `s.trim()`.
pub fn trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// `s.slice(0, max)` counted in UTF-16 code units. A character whose surrogate pair would be
/// split at the limit is left out whole (JavaScript kept half of it).
pub fn cut_utf16(s: &str, max: usize) -> &str {
    let mut units = 0;
    for (at, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..at];
        }
    }
    s
}

/// Length in UTF-16 code units (JavaScript's `length`).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `normalizeText`: trimmed, lowercased, each run of whitespace one space.
pub fn normalise(s: &str) -> String {
    let lower = trim(s).to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut in_space = false;
    for c in lower.chars() {
        if is_js_whitespace(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_trims_lowercases_and_collapses_whitespace() {
        assert_eq!(normalise("  Hello \t\n  WORLD\u{a0} "), "hello world");
        assert_eq!(normalise("\u{feff}Ab\u{2003}\u{2003}Cd"), "ab cd");
        // U+0085 is not whitespace to JavaScript.
        assert_eq!(normalise("a\u{85}b"), "a\u{85}b");
    }

    #[test]
    fn cut_counts_utf16_units() {
        assert_eq!(cut_utf16("abcdef", 3), "abc");
        assert_eq!(cut_utf16("ab", 3), "ab");
        assert_eq!(cut_utf16("é😀x", 2), "é");
        assert_eq!(cut_utf16("é😀x", 3), "é😀");
        assert_eq!(utf16_len("é😀"), 3);
    }
}
