//! Track normalization and the deterministic `track_key` of a scrobble (the original's
//! `resolveTrack` before any lookup, contracts/api-core.md §3.7): NFKC, whitespace collapsed,
//! lowercase; titles lose a trailing `(official …)` / `[… video]` / ` - remastered …`;
//! ISRC and MBID checked; the duration bucketed by 2 s.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The longest duration kept (6 h, exclusive), in seconds.
const MAX_DURATION_S: i64 = 21_600;
/// Words that open a trailing parenthesised or bracketed suffix dropped from titles.
const SUFFIX_WORDS: [&str; 4] = ["official", "lyric", "audio", "video"];

/// The normalized fields of a track, in the original's key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    /// Normalized title.
    pub title_norm: String,
    /// Normalized artist.
    pub artist_norm: String,
    /// Normalized album (empty when absent).
    pub album_norm: String,
    /// Duration in seconds in (0, 21600), if known.
    pub duration_s: Option<i64>,
    /// ISRC, uppercase without hyphens, if valid.
    pub isrc_norm: Option<String>,
    /// MusicBrainz recording id, lowercase, if a valid UUID.
    pub mbid_norm: Option<String>,
}

/// `normText`: NFKC, NBSP as space, whitespace runs as one space, trimmed, lowercase.
pub fn norm_text(s: &str) -> String {
    let nfkc: String = s.nfkc().collect::<String>().replace('\u{a0}', " ");
    collapse(&nfkc).to_lowercase()
}

fn collapse(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{feff}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops a trailing `(<word>…)` (or `[<word>…]`) that starts with one of [`SUFFIX_WORDS`]
/// and runs to the end of `s` (the leftmost such opening wins, as the original's regex).
fn drop_suffix(s: &str, open: char, close: char) -> String {
    if !s.ends_with(close) {
        return s.to_owned();
    }
    for (i, c) in s.char_indices() {
        if c != open {
            continue;
        }
        let rest = &s[i + c.len_utf8()..];
        if let Some(word) = SUFFIX_WORDS.iter().find(|w| rest.starts_with(*w))
            // The closing bracket must come after the word.
            && rest.len() > word.len()
        {
            return s[..i].to_owned();
        }
    }
    s.to_owned()
}

/// `normTitle`: [`norm_text`] without a trailing `(official video)`-like suffix or
/// ` - remastered …`.
pub fn norm_title(s: &str) -> String {
    let t = norm_text(s);
    let t = drop_suffix(&t, '(', ')');
    let t = drop_suffix(&t, '[', ']');
    let t = match t.find(" - remastered") {
        Some(at) => t[..at].to_owned(),
        None => t,
    };
    collapse(&t)
}

/// `normISRC`: uppercase, hyphens removed, `^[A-Z]{2}[A-Z0-9]{3}\d{7}$`.
pub fn norm_isrc(s: Option<&str>) -> Option<String> {
    let x = s?.to_uppercase().replace('-', "").trim().to_owned();
    let b = x.as_bytes();
    let ok = b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..5]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[5..].iter().all(u8::is_ascii_digit);
    ok.then_some(x)
}

/// Whether `s` is a UUID of versions 1–5 with the RFC 4122 variant (case-insensitive).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => (b'1'..=b'5').contains(c),
            19 => matches!(c.to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// `normMBID`: trimmed, lowercase, a UUID.
pub fn norm_mbid(s: Option<&str>) -> Option<String> {
    let x = s?.trim().to_lowercase();
    is_uuid(&x).then_some(x)
}

/// `Math.round(x)`: halves round up.
pub fn js_round(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// Seconds of `duration_ms` when in (0, 21600).
pub fn duration_s(duration_ms: Option<f64>) -> Option<i64> {
    let s = js_round(duration_ms? / 1000.0);
    (s.is_finite() && s > 0.0 && s < MAX_DURATION_S as f64).then_some(s as i64)
}

/// The 2-second bucket of a duration (`Math.round(d / 2) * 2`).
pub fn duration_bucket(duration_s: Option<i64>) -> Option<i64> {
    let d = duration_s.filter(|d| *d != 0)?;
    Some(js_round(d as f64 / 2.0) as i64 * 2)
}

/// The raw fields normalization reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawTrack<'a> {
    /// Title as sent (truncated).
    pub title: &'a str,
    /// Artist as sent (truncated).
    pub artist: &'a str,
    /// Album, if any.
    pub album: Option<&'a str>,
    /// Duration in milliseconds, if a number.
    pub duration_ms: Option<f64>,
    /// `embedded.isrc`, if a string.
    pub isrc: Option<&'a str>,
    /// `embedded.mb_recording_id`, if a string.
    pub mbid: Option<&'a str>,
}

/// The normalized fields of `raw`.
pub fn normalize(raw: &RawTrack<'_>) -> Normalized {
    Normalized {
        title_norm: norm_title(raw.title),
        artist_norm: norm_text(raw.artist),
        album_norm: norm_text(raw.album.unwrap_or_default()),
        duration_s: duration_s(raw.duration_ms),
        isrc_norm: norm_isrc(raw.isrc),
        mbid_norm: norm_mbid(raw.mbid),
    }
}

/// The track key: SHA-256 hex of `trackkey-v1|title|artist|bucket`, or of
/// `trackkey-v1-incomplete|title|artist|bucket|album` (plain normalization) when the
/// normalized title or artist is empty.
pub fn track_key(raw: &RawTrack<'_>, normalized: &Normalized) -> String {
    let bucket = duration_bucket(normalized.duration_s)
        .map(|b| b.to_string())
        .unwrap_or_default();
    let material = if !normalized.title_norm.is_empty() && !normalized.artist_norm.is_empty() {
        [
            "trackkey-v1",
            &normalized.title_norm,
            &normalized.artist_norm,
            &bucket,
        ]
        .join("|")
    } else {
        [
            "trackkey-v1-incomplete",
            &norm_text(raw.title),
            &norm_text(raw.artist),
            &bucket,
            &norm_text(raw.album.unwrap_or_default()),
        ]
        .join("|")
    };
    hex::encode(Sha256::digest(material.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_nfkc_collapsed_trimmed_and_lowercase() {
        assert_eq!(norm_text("  The\u{a0}\u{a0}BEATLES\t "), "the beatles");
        assert_eq!(norm_text("ﬁne Ｔｅｓｔ"), "fine test");
        assert_eq!(norm_text(""), "");
    }

    #[test]
    fn titles_lose_the_originals_suffixes_only() {
        assert_eq!(norm_title("Song (Official Video)"), "song");
        assert_eq!(norm_title("Song [Lyric Video]"), "song");
        assert_eq!(norm_title("Song - Remastered 2011"), "song");
        assert_eq!(norm_title("Song (Live) (Audio)"), "song (live)");
        assert_eq!(norm_title("Song (Live)"), "song (live)");
        assert_eq!(norm_title("Song (official) bonus"), "song (official) bonus");
        assert_eq!(norm_title("(Official Video)"), "");
    }

    #[test]
    fn isrc_and_mbid_are_checked() {
        assert_eq!(
            norm_isrc(Some("us-rc1-17-00001")).as_deref(),
            Some("USRC11700001")
        );
        assert_eq!(norm_isrc(Some("USRC1170000")), None);
        assert_eq!(norm_isrc(None), None);
        let mbid = "B1A9C0E9-D987-4042-AE91-78D6A3267D69";
        assert_eq!(
            norm_mbid(Some(mbid)).as_deref(),
            Some("b1a9c0e9-d987-4042-ae91-78d6a3267d69")
        );
        assert_eq!(
            norm_mbid(Some("b1a9c0e9-d987-6042-ae91-78d6a3267d69")),
            None
        );
    }

    #[test]
    fn durations_round_and_bucket_as_the_original() {
        assert_eq!(duration_s(Some(215_499.0)), Some(215));
        assert_eq!(duration_s(Some(215_500.0)), Some(216));
        assert_eq!(duration_s(Some(400.0)), None);
        assert_eq!(duration_s(Some(21_600_000.0)), None);
        assert_eq!(duration_bucket(Some(215)), Some(216));
        assert_eq!(duration_bucket(Some(214)), Some(214));
        assert_eq!(duration_bucket(None), None);
    }

    #[test]
    fn track_keys_hash_the_versioned_material() {
        let raw = RawTrack {
            title: "Song (Official Video)",
            artist: "Artist",
            duration_ms: Some(215_000.0),
            ..RawTrack::default()
        };
        let n = normalize(&raw);
        let expected = hex::encode(Sha256::digest(b"trackkey-v1|song|artist|216"));
        assert_eq!(track_key(&raw, &n), expected);
        let bare = RawTrack {
            title: "(Official Video)",
            artist: "Artist",
            album: Some("LP"),
            ..RawTrack::default()
        };
        let expected = hex::encode(Sha256::digest(
            b"trackkey-v1-incomplete|(official video)|artist||lp",
        ));
        assert_eq!(track_key(&bare, &normalize(&bare)), expected);
    }
}
