//! Track resolution of a scrobble (the original's `resolveTrack`, contracts §3.7): an embedded
//! MBID verified on MusicBrainz, else an ISRC looked up, else an AcoustID fingerprint, else
//! (when enabled) a MusicBrainz search; lookups cached in the stack's `CacheStore` as the
//! original cached them in KV. MusicBrainz is reached only through the metadata-resolver's
//! client, whose limiter is a slot in that same `CacheStore`: the resolver worker and this one
//! share one MusicBrainz rate limit, not one each.

use std::sync::Arc;
use std::time::Duration;

use metadata_resolver::musicbrainz::MusicBrainz;
use portability::{CacheEntry, CacheStore};
use serde_json::{Value, json};

use super::normalize::{Normalized, duration_bucket, is_uuid, norm_text, norm_title};

const DAY: u64 = 24 * 60 * 60;
/// How long lookups stay cached (the original's KV TTLs).
const HIT_TTL: Duration = Duration::from_secs(30 * DAY);
const MISS_TTL: Duration = Duration::from_secs(7 * DAY);
/// Prefix of this module's cache keys (the original's KV keys follow it).
const CACHE_PREFIX: &str = "media/scrobble/";

/// One provenance step (`{step, source, detail?}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Provenance {
    /// What happened.
    pub step: &'static str,
    /// Where from: embedded, musicbrainz, acoustid, fallback or local.
    pub source: &'static str,
    /// Extra facts, an object in the original's key order.
    pub detail: Option<Value>,
}

fn step(step: &'static str, source: &'static str) -> Provenance {
    Provenance {
        step,
        source,
        detail: None,
    }
}

fn step_with(step: &'static str, source: &'static str, detail: Value) -> Provenance {
    Provenance {
        step,
        source,
        detail: Some(detail),
    }
}

/// What the resolution found (`{mbid?, acoustid?, isrcs?, confidence, provenance}`; the
/// members present and their order are the original's per outcome).
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// MusicBrainz recording id.
    pub mbid: Option<String>,
    /// AcoustID track id.
    pub acoustid: Option<String>,
    /// ISRCs.
    pub isrcs: Option<Vec<String>>,
    /// 0..1.
    pub confidence: f64,
    /// The steps taken.
    pub provenance: Vec<Provenance>,
}

impl Resolved {
    fn unresolved(provenance: Vec<Provenance>) -> Self {
        Self {
            mbid: None,
            acoustid: None,
            isrcs: None,
            confidence: 0.0,
            provenance,
        }
    }
}

/// AcoustID's lookup API (`ACOUSTID_CLIENT_KEY`, `ACOUSTID_URL`).
#[derive(Clone, Debug)]
pub struct AcoustId {
    /// `<base>/v2/lookup` is posted to.
    pub base_url: String,
    /// The application key.
    pub client_key: String,
    /// Client with timeouts.
    pub http: reqwest::Client,
}

/// The lookups behind resolution. Without one, every track is normalized only
/// (`normalized_only`), as the original without its KV binding.
pub struct Lookups {
    /// MusicBrainz through the shared limiter.
    pub musicbrainz: MusicBrainz,
    /// The stack's cache (lookups) — the same store the limiter's slot lives in.
    pub cache: Arc<dyn CacheStore>,
    /// AcoustID, when a client key is set.
    pub acoustid: Option<AcoustId>,
    /// `ENABLE_MB_FALLBACK_SEARCH == "true"`.
    pub fallback_search: bool,
}

impl Lookups {
    /// Lookups over the stack's `cache`, MusicBrainz as the metadata-resolver is configured
    /// (`resolver`: its URL, `MB_USER_AGENT` and limiter settings; the limiter's slot is in
    /// `cache`, shared with the resolver worker), AcoustID when `ACOUSTID_CLIENT_KEY` is set
    /// (`ACOUSTID_URL`, default `https://api.acoustid.org`), the search fallback when
    /// `ENABLE_MB_FALLBACK_SEARCH=true`.
    pub fn from_env(
        env: &http_common::EnvSource,
        resolver: &metadata_resolver::ResolverConfig,
        cache: Arc<dyn CacheStore>,
    ) -> Self {
        let limiter = Arc::new(metadata_resolver::limiter::MbLimiter::new(
            cache.clone(),
            &resolver.limiter,
        ));
        let acoustid = env
            .optional("ACOUSTID_CLIENT_KEY")
            .map(|client_key| AcoustId {
                base_url: env
                    .optional("ACOUSTID_URL")
                    .unwrap_or_else(|| "https://api.acoustid.org".to_owned())
                    .trim_end_matches('/')
                    .to_owned(),
                client_key,
                http: reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(15))
                    .build()
                    .unwrap_or_default(),
            });
        Self {
            musicbrainz: MusicBrainz::new(resolver, limiter),
            cache,
            acoustid,
            fallback_search: env.optional("ENABLE_MB_FALLBACK_SEARCH").as_deref() == Some("true"),
        }
    }
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups")
            .field("acoustid", &self.acoustid.is_some())
            .field("fallback_search", &self.fallback_search)
            .finish_non_exhaustive()
    }
}

/// A MusicBrainz recording a lookup offered.
#[derive(Debug)]
struct Candidate {
    mbid: String,
    title: String,
    artist: String,
    length_ms: Option<f64>,
}

/// Levenshtein similarity `1 - distance / max(len)` (1 for two empty strings).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut prev = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let tmp = row[j];
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (row[j] + 1).min(row[j - 1] + 1).min(prev + cost);
            prev = tmp;
        }
    }
    1.0 - row[b.len()] as f64 / a.len().max(b.len()) as f64
}

fn duration_score(a: Option<i64>, b: Option<i64>) -> f64 {
    let (Some(a), Some(b)) = (a.filter(|a| *a != 0), b.filter(|b| *b != 0)) else {
        return 0.5;
    };
    match (a - b).abs() {
        0..=1 => 1.0,
        2 => 0.9,
        3..=5 => 0.7,
        6..=10 => 0.4,
        _ => 0.0,
    }
}

/// The best candidate (title 0.5, artist 0.35, duration 0.15).
fn choose_best(candidates: &[Candidate], norm: &Normalized) -> Option<(String, f64)> {
    let mut best: Option<(String, f64)> = None;
    for c in candidates {
        let dur = c
            .length_ms
            .map(|ms| super::normalize::js_round(ms / 1000.0) as i64);
        let score = 0.5 * similarity(&norm.title_norm, &norm_title(&c.title))
            + 0.35 * similarity(&norm.artist_norm, &norm_text(&c.artist))
            + 0.15 * duration_score(norm.duration_s, dur);
        if best.as_ref().is_none_or(|(_, s)| score > *s) {
            best = Some((c.mbid.clone(), score));
        }
    }
    best
}

/// `recordings[]` of a MusicBrainz answer as candidates (ids must be UUIDs).
fn candidates(data: &Value) -> Vec<Candidate> {
    data["recordings"]
        .as_array()
        .map(|recs| {
            recs.iter()
                .filter_map(|r| {
                    let mbid = match &r["id"] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let artist = r["artist-credit"]
                        .as_array()
                        .map(|credits| {
                            credits
                                .iter()
                                .filter_map(|c| c["name"].as_str().filter(|n| !n.is_empty()))
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default();
                    is_uuid(&mbid).then(|| Candidate {
                        mbid,
                        title: r["title"].as_str().unwrap_or_default().to_owned(),
                        artist,
                        length_ms: r["length"].as_f64(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `encodeURIComponent`.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Lookups {
    async fn cached_json(&self, key: &str) -> Option<Value> {
        match self.cache.get(&format!("{CACHE_PREFIX}{key}")).await {
            Ok(Some(CacheEntry::Hit(bytes))) => serde_json::from_slice(&bytes).ok(),
            _ => None,
        }
    }

    async fn remember(&self, key: &str, value: &Value, ttl: Duration) {
        let key = format!("{CACHE_PREFIX}{key}");
        if let Err(e) = self
            .cache
            .put(&key, value.to_string().into_bytes(), ttl)
            .await
        {
            tracing::warn!(%key, error = %e, "scrobble lookup not cached");
        }
    }

    /// A MusicBrainz GET's JSON; any non-2xx or transport failure is an error.
    async fn mb_json(&self, path_and_query: &str) -> Result<Value, String> {
        let response = self
            .musicbrainz
            .get(path_and_query)
            .await
            .map_err(|e| e.to_string())?;
        if !response.is_success() {
            return Err(format!("HTTP {} {path_and_query}", response.status));
        }
        serde_json::from_slice(&response.body).map_err(|e| e.to_string())
    }

    async fn recording_exists(&self, mbid: &str) -> bool {
        let key = format!("mbid-exists:{mbid}");
        if let Some(Value::Bool(known)) = self.cached_json(&key).await {
            return known;
        }
        let exists = self
            .mb_json(&format!("recording/{}?fmt=json", encode_component(mbid)))
            .await
            .is_ok();
        let ttl = if exists { HIT_TTL } else { MISS_TTL };
        self.remember(&key, &Value::Bool(exists), ttl).await;
        exists
    }

    async fn isrc_lookup(&self, isrc: &str) -> Result<Value, String> {
        let key = format!("isrc:{isrc}");
        if let Some(hit) = self.cached_json(&key).await {
            return Ok(hit);
        }
        let data = self
            .mb_json(&format!(
                "isrc/{}?fmt=json&inc=recordings+artist-credits",
                encode_component(isrc)
            ))
            .await?;
        self.remember(&key, &data, HIT_TTL).await;
        Ok(data)
    }

    async fn acoustid_lookup(
        &self,
        acoustid: &AcoustId,
        fingerprint: &str,
        duration_s: i64,
    ) -> Result<Value, String> {
        let prefix: String = fingerprint.chars().take(64).collect();
        let key = format!("fp:{duration_s}:{prefix}");
        if let Some(hit) = self.cached_json(&key).await {
            return Ok(hit);
        }
        let duration = duration_s.to_string();
        let form = [
            ("client", acoustid.client_key.as_str()),
            ("duration", duration.as_str()),
            ("fingerprint", fingerprint),
            ("meta", "recordingids+recordings"),
        ];
        let response = acoustid
            .http
            .post(format!("{}/v2/lookup", acoustid.base_url))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {} acoustid", response.status().as_u16()));
        }
        let data: Value = response.json().await.map_err(|e| e.to_string())?;
        self.remember(&key, &data, HIT_TTL).await;
        Ok(data)
    }

    async fn search(&self, title: &str, artist: &str) -> Result<Value, String> {
        let query = format!(
            "recording:\"{}\" AND artist:\"{}\"",
            title.replace('"', "\\\""),
            artist.replace('"', "\\\"")
        );
        self.mb_json(&format!(
            "recording?fmt=json&limit=5&dismax=true&query={}",
            encode_component(&query)
        ))
        .await
    }

    /// Resolves one normalized track (`fingerprint` as sent, truncated).
    pub async fn resolve(&self, norm: &Normalized, fingerprint: Option<&str>) -> Resolved {
        let mut provenance = Vec::new();
        if let Some(mbid) = &norm.mbid_norm {
            provenance.push(step_with(
                "mbid_present",
                "embedded",
                json!({ "mbid": mbid }),
            ));
            if self.recording_exists(mbid).await {
                provenance.push(step("mbid_verified", "musicbrainz"));
                return Resolved {
                    mbid: Some(mbid.clone()),
                    confidence: 0.98,
                    ..Resolved::unresolved(provenance)
                };
            }
            provenance.push(step("mbid_not_found", "musicbrainz"));
        }
        if let Some(isrc) = &norm.isrc_norm {
            provenance.push(step_with(
                "isrc_present",
                "embedded",
                json!({ "isrc": isrc }),
            ));
            match self.isrc_lookup(isrc).await {
                Ok(data) => {
                    let found = candidates(&data);
                    match choose_best(&found, norm) {
                        Some((mbid, score)) if score >= 0.72 => {
                            provenance.push(step_with(
                                "isrc_resolved",
                                "musicbrainz",
                                json!({ "bestScore": score }),
                            ));
                            return Resolved {
                                mbid: Some(mbid),
                                isrcs: Some(vec![isrc.clone()]),
                                confidence: (0.70 + 0.30 * score).min(0.92),
                                ..Resolved::unresolved(provenance)
                            };
                        }
                        _ => provenance.push(step_with(
                            "isrc_no_good_match",
                            "musicbrainz",
                            json!({ "candidates": found.len() }),
                        )),
                    }
                }
                Err(_) => provenance.push(step("isrc_lookup_failed", "musicbrainz")),
            }
        }
        if let (Some(fp), Some(duration), Some(acoustid)) = (
            fingerprint.filter(|f| !f.is_empty()),
            norm.duration_s,
            &self.acoustid,
        ) {
            provenance.push(step_with(
                "fingerprint_present",
                "embedded",
                json!({ "duration_s": duration }),
            ));
            match self.acoustid_lookup(acoustid, fp, duration).await {
                Ok(data) => {
                    let mut results = data["results"].as_array().cloned().unwrap_or_default();
                    let score_of = |r: &Value| r["score"].as_f64().unwrap_or(0.0);
                    results.sort_by(|a, b| score_of(b).total_cmp(&score_of(a)));
                    let top = results.first().cloned().unwrap_or(Value::Null);
                    let acoustid_id = match &top["id"] {
                        Value::Null => None,
                        Value::String(s) if s.is_empty() => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    };
                    let mbid = top["recordings"][0]["id"]
                        .as_str()
                        .filter(|id| is_uuid(id))
                        .map(str::to_owned);
                    let score = score_of(&top);
                    if let Some(mbid) = mbid.filter(|_| score >= 0.80) {
                        provenance.push(step_with(
                            "acoustid_resolved",
                            "acoustid",
                            json!({ "score": score }),
                        ));
                        return Resolved {
                            mbid: Some(mbid),
                            acoustid: acoustid_id,
                            confidence: (0.75 + 0.25 * score).min(0.95),
                            ..Resolved::unresolved(provenance)
                        };
                    }
                    provenance.push(step_with(
                        "acoustid_low_confidence",
                        "acoustid",
                        json!({ "score": score }),
                    ));
                }
                Err(_) => provenance.push(step("acoustid_lookup_failed", "acoustid")),
            }
        }
        if self.fallback_search && !norm.title_norm.is_empty() && !norm.artist_norm.is_empty() {
            let bucket = duration_bucket(norm.duration_s)
                .map(|b| b.to_string())
                .unwrap_or_default();
            let key = format!("mbsearch:{}|{}|{bucket}", norm.title_norm, norm.artist_norm);
            if let Some(hit) = self.cached_json(&key).await
                && let (Some(mbid), Some(confidence)) =
                    (hit["mbid"].as_str(), hit["confidence"].as_f64())
            {
                provenance.push(step("fallback_cache_hit", "musicbrainz"));
                return Resolved {
                    mbid: Some(mbid.to_owned()),
                    confidence,
                    ..Resolved::unresolved(provenance)
                };
            }
            provenance.push(step("fallback_search", "fallback"));
            match self.search(&norm.title_norm, &norm.artist_norm).await {
                Ok(data) => {
                    if let Some((mbid, score)) =
                        choose_best(&candidates(&data), norm).filter(|(_, s)| *s >= 0.78)
                    {
                        let confidence = 0.60 + 0.25 * score;
                        self.remember(
                            &key,
                            &json!({ "mbid": mbid, "confidence": confidence }),
                            HIT_TTL,
                        )
                        .await;
                        provenance.push(step_with(
                            "fallback_resolved",
                            "musicbrainz",
                            json!({ "bestScore": score }),
                        ));
                        return Resolved {
                            mbid: Some(mbid),
                            confidence,
                            ..Resolved::unresolved(provenance)
                        };
                    }
                }
                Err(_) => provenance.push(step("fallback_search_failed", "musicbrainz")),
            }
        }
        provenance.push(step("unresolved", "local"));
        Resolved::unresolved(provenance)
    }
}

/// Resolution without lookups: `{confidence: 0, provenance: [normalized_only]}`.
pub fn normalized_only() -> Resolved {
    Resolved::unresolved(vec![step("normalized_only", "local")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_levenshtein_based() {
        assert_eq!(similarity("", ""), 1.0);
        assert_eq!(similarity("a", ""), 0.0);
        assert_eq!(similarity("kitten", "sitting"), 1.0 - 3.0 / 7.0);
    }

    #[test]
    fn the_best_candidate_weighs_title_artist_and_duration() {
        let norm = Normalized {
            title_norm: "song".into(),
            artist_norm: "artist".into(),
            album_norm: String::new(),
            duration_s: Some(200),
            isrc_norm: None,
            mbid_norm: None,
        };
        let data = json!({"recordings": [
            {"id": "b1a9c0e9-d987-4042-ae91-78d6a3267d69", "title": "Other", "length": 200000,
             "artist-credit": [{"name": "Artist"}]},
            {"id": "c1a9c0e9-d987-4042-ae91-78d6a3267d69", "title": "Song (Official Video)",
             "length": 201000, "artist-credit": [{"name": "Artist"}]},
            {"id": "not-a-uuid", "title": "Song", "artist-credit": [{"name": "Artist"}]}
        ]});
        let found = candidates(&data);
        assert_eq!(found.len(), 2);
        let (mbid, score) = choose_best(&found, &norm).unwrap();
        assert_eq!(mbid, "c1a9c0e9-d987-4042-ae91-78d6a3267d69");
        assert_eq!(score, 1.0);
    }

    #[test]
    fn components_are_encoded_as_encode_uri_component() {
        assert_eq!(
            encode_component("recording:\"a b\" AND é"),
            "recording%3A%22a%20b%22%20AND%20%C3%A9"
        );
    }
}
