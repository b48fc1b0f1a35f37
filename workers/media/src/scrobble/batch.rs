//! The scrobble batch document, byte for byte as the original's `JSON.stringify` writes it
//! (its SHA-256 prefix names the file, so key order, omitted members and number formatting
//! are the contract): `{version:3, resolver_version, user, startTs, endTs, count, tracks:[{raw,
//! normalized, resolved, track_key}]}`; plus the file name and the track event ids.

use sha2::{Digest, Sha256};

use super::normalize::Normalized;
use super::resolve::{Provenance, Resolved};

/// A submitted track after validation and truncation (`raw` of the batch).
#[derive(Clone, Debug, PartialEq)]
pub struct RawScrobble {
    /// ≤ 256 UTF-16 units.
    pub artist: String,
    /// ≤ 256 UTF-16 units.
    pub title: String,
    /// ≤ 256 UTF-16 units, `null` when absent.
    pub album: Option<String>,
    /// A number, `null` otherwise.
    pub duration_ms: Option<f64>,
    /// As sent (a finite, non-zero number).
    pub played_at: f64,
    /// ≤ 64 UTF-16 units; omitted when absent.
    pub source: Option<String>,
    /// `embedded.mb_recording_id`, when a string.
    pub embedded_mbid: Option<String>,
    /// `embedded.isrc`, when a string.
    pub embedded_isrc: Option<String>,
    /// ≤ 32 000 UTF-16 units, when a string.
    pub fingerprint: Option<String>,
}

/// One track of the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct EnrichedTrack {
    /// As submitted.
    pub raw: RawScrobble,
    /// Normalized fields.
    pub normalized: Normalized,
    /// Resolution.
    pub resolved: Resolved,
    /// Aggregation key.
    pub track_key: String,
}

/// JavaScript's `Number.prototype.toString` for the finite numbers a batch carries: integers
/// below 1e21 without a fraction, others in their shortest round-trip form.
pub fn js_number(n: f64) -> String {
    if n == 0.0 {
        return "0".to_owned();
    }
    if n.fract() == 0.0 && n.abs() < 1e21 {
        return format!("{n:.0}");
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        // Plain decimal notation, shortest digits that round-trip.
        return format!("{n}");
    }
    // Exponent notation: JavaScript writes `1.5e-7`, `1e+21`.
    let s = format!("{n:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

/// A JSON string literal as `JSON.stringify` writes it.
pub fn js_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The first `max` UTF-16 code units of `s` (`String.prototype.slice(0, max)`); a surrogate
/// pair cut in half is dropped whole.
pub fn js_slice(s: &str, max: usize) -> String {
    let mut units = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let width = c.len_utf16();
        if units + width > max {
            return s[..i].to_owned();
        }
        units += width;
        end = i + c.len_utf8();
    }
    s[..end].to_owned()
}

fn write_value(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&js_number(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&js_string(k));
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON object writer keeping insertion order.
struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push_str(&js_string(key));
        self.out.push(':');
        self.out
    }

    fn str(&mut self, key: &str, value: &str) {
        let s = js_string(value);
        self.key(key).push_str(&s);
    }

    fn num(&mut self, key: &str, value: f64) {
        let s = js_number(value);
        self.key(key).push_str(&s);
    }

    fn opt_str_or_null(&mut self, key: &str, value: Option<&str>) {
        let s = value.map_or_else(|| "null".to_owned(), js_string);
        self.key(key).push_str(&s);
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn write_provenance(out: &mut String, p: &Provenance) {
    let mut o = Obj::open(out);
    o.str("step", p.step);
    o.str("source", p.source);
    if let Some(detail) = &p.detail {
        write_value(o.key("detail"), detail);
    }
    o.close();
}

fn write_track(out: &mut String, t: &EnrichedTrack) {
    let mut o = Obj::open(out);
    {
        let mut raw = Obj::open(o.key("raw"));
        raw.str("artist", &t.raw.artist);
        raw.str("title", &t.raw.title);
        raw.opt_str_or_null("album", t.raw.album.as_deref());
        match t.raw.duration_ms {
            Some(ms) => raw.num("duration_ms", ms),
            None => raw.key("duration_ms").push_str("null"),
        }
        raw.num("playedAt", t.raw.played_at);
        if let Some(source) = &t.raw.source {
            raw.str("source", source);
        }
        raw.close();
    }
    {
        let n = &t.normalized;
        let mut norm = Obj::open(o.key("normalized"));
        norm.str("title_norm", &n.title_norm);
        norm.str("artist_norm", &n.artist_norm);
        norm.str("album_norm", &n.album_norm);
        if let Some(d) = n.duration_s {
            norm.num("duration_s", d as f64);
        }
        if let Some(isrc) = &n.isrc_norm {
            norm.str("isrc_norm", isrc);
        }
        if let Some(mbid) = &n.mbid_norm {
            norm.str("mbid_norm", mbid);
        }
        norm.close();
    }
    {
        let r = &t.resolved;
        let mut res = Obj::open(o.key("resolved"));
        if let Some(mbid) = &r.mbid {
            res.str("mbid", mbid);
        }
        if let Some(acoustid) = &r.acoustid {
            res.str("acoustid", acoustid);
        }
        if let Some(isrcs) = &r.isrcs {
            let out = res.key("isrcs");
            out.push('[');
            out.push_str(
                &isrcs
                    .iter()
                    .map(|i| js_string(i))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push(']');
        }
        res.num("confidence", r.confidence);
        let out = res.key("provenance");
        out.push('[');
        for (i, p) in r.provenance.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_provenance(out, p);
        }
        out.push(']');
        res.close();
    }
    o.str("track_key", &t.track_key);
    o.close();
}

/// The batch document.
pub fn batch_json(user: &str, start_ts: i64, end_ts: i64, tracks: &[EnrichedTrack]) -> String {
    let mut out = String::with_capacity(512 * tracks.len() + 256);
    let mut o = Obj::open(&mut out);
    o.num("version", 3.0);
    o.str("resolver_version", "resolver-v1");
    o.str("user", user);
    o.str("startTs", &start_ts.to_string());
    o.str("endTs", &end_ts.to_string());
    o.num("count", tracks.len() as f64);
    let list = o.key("tracks");
    list.push('[');
    for (i, t) in tracks.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        write_track(list, t);
    }
    list.push(']');
    o.close();
    out
}

/// `scrobble-<user chars 2..10>-<startTs>-<16 hex of sha256(batch)>.json`.
pub fn file_name(user: &str, start_ts: i64, batch: &str) -> String {
    let prefix: String = user.chars().skip(2).take(8).collect();
    let hash = hex::encode(Sha256::digest(batch.as_bytes()));
    format!("scrobble-{prefix}-{start_ts}-{}.json", &hash[..16])
}

/// A track event's id: SHA-256 hex of `<user>|<playedAt>|<track_key>|<source or "">`.
pub fn event_id(user: &str, played_at: f64, track_key: &str, source: Option<&str>) -> String {
    let material = format!(
        "{user}|{}|{track_key}|{}",
        js_number(played_at),
        source.unwrap_or_default()
    );
    hex::encode(Sha256::digest(material.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrobble::resolve::normalized_only;

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        assert_eq!(js_number(1_700_000_000.0), "1700000000");
        assert_eq!(js_number(0.0), "0");
        assert_eq!(js_number(0.98), "0.98");
        assert_eq!(js_number(1_700_000_000.5), "1700000000.5");
        assert_eq!(js_number(-3.0), "-3");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
    }

    #[test]
    fn slices_count_utf16_units() {
        assert_eq!(js_slice("abc", 2), "ab");
        assert_eq!(js_slice("a😀b", 3), "a😀");
        assert_eq!(js_slice("a😀b", 2), "a");
        assert_eq!(js_slice("é", 5), "é");
    }

    fn track() -> EnrichedTrack {
        EnrichedTrack {
            raw: RawScrobble {
                artist: "Artist".into(),
                title: "Song \"1\"".into(),
                album: None,
                duration_ms: Some(215_000.0),
                played_at: 1_700_000_000.0,
                source: None,
                embedded_mbid: None,
                embedded_isrc: None,
                fingerprint: None,
            },
            normalized: Normalized {
                title_norm: "song \"1\"".into(),
                artist_norm: "artist".into(),
                album_norm: String::new(),
                duration_s: Some(215),
                isrc_norm: None,
                mbid_norm: None,
            },
            resolved: normalized_only(),
            track_key: "k".into(),
        }
    }

    #[test]
    fn the_batch_is_the_originals_json_stringify_output() {
        let mut second = track();
        second.raw.source = Some("android".into());
        second.raw.album = Some("LP".into());
        second.raw.duration_ms = None;
        second.normalized.duration_s = None;
        let json = batch_json("0xabc", 1_700_000_000, 1_700_000_100, &[track(), second]);
        let expected = concat!(
            r#"{"version":3,"resolver_version":"resolver-v1","user":"0xabc","#,
            r#""startTs":"1700000000","endTs":"1700000100","count":2,"tracks":["#,
            r#"{"raw":{"artist":"Artist","title":"Song \"1\"","album":null,"duration_ms":215000,"#,
            r#""playedAt":1700000000},"normalized":{"title_norm":"song \"1\"","artist_norm":"artist","#,
            r#""album_norm":"","duration_s":215},"resolved":{"confidence":0,"provenance":["#,
            r#"{"step":"normalized_only","source":"local"}]},"track_key":"k"},"#,
            r#"{"raw":{"artist":"Artist","title":"Song \"1\"","album":"LP","duration_ms":null,"#,
            r#""playedAt":1700000000,"source":"android"},"normalized":{"title_norm":"song \"1\"","#,
            r#""artist_norm":"artist","album_norm":""},"resolved":{"confidence":0,"provenance":["#,
            r#"{"step":"normalized_only","source":"local"}]},"track_key":"k"}]}"#
        );
        assert_eq!(json, expected);
        // It parses back as the same document.
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["tracks"][1]["raw"]["source"], "android");
    }

    #[test]
    fn resolved_members_follow_the_outcome() {
        let mut t = track();
        t.resolved = Resolved {
            mbid: Some("m".into()),
            acoustid: None,
            isrcs: Some(vec!["USRC11700001".into()]),
            confidence: 0.92,
            provenance: vec![Provenance {
                step: "isrc_resolved",
                source: "musicbrainz",
                detail: Some(serde_json::json!({"bestScore": 1.0})),
            }],
        };
        let json = batch_json("0xabc", 1, 1, &[t]);
        assert!(
            json.contains(
                r#""resolved":{"mbid":"m","isrcs":["USRC11700001"],"confidence":0.92,"provenance":[{"step":"isrc_resolved","source":"musicbrainz","detail":{"bestScore":1}}]}"#
            ),
            "{json}"
        );
    }

    #[test]
    fn file_names_and_event_ids_hash_the_originals_material() {
        let name = file_name("0x1234567890abcdef", 1_700_000_000, "{}");
        let hash = hex::encode(Sha256::digest(b"{}"));
        assert_eq!(
            name,
            format!("scrobble-12345678-1700000000-{}.json", &hash[..16])
        );
        assert_eq!(
            event_id("0xabc", 1_700_000_000.0, "k", None),
            hex::encode(Sha256::digest(b"0xabc|1700000000|k|"))
        );
        assert_eq!(
            event_id("0xabc", 1.5, "k", Some("android")),
            hex::encode(Sha256::digest(b"0xabc|1.5|k|android"))
        );
    }
}
