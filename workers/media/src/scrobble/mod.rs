//! Scrobbles (api-core's `/api/scrobble`, contracts §1.6, §3.7): a submitted batch is
//! validated and truncated, each track normalized ([`normalize`]) and resolved
//! ([`resolve`], MusicBrainz through the metadata-resolver's client and shared limiter), the
//! batch document written byte for byte as the original ([`batch`]), stored and anchored
//! through the stack's blob store, recorded with one insert-or-ignore event per track
//! ([`store`]) and, when the publishing signer has EAS enabled, attested by the identity
//! canister (no key here). [`auth`] says who is scrobbling.

pub mod auth;
pub mod batch;
pub mod normalize;
pub mod resolve;
pub mod store;

use axum::http::StatusCode;
use futures_util::StreamExt;
use identity_canister::endpoints::publishing::AttestScrobbleBatchRequest;
use serde_json::{Map, Value};

use crate::error::{Fields, MediaError, MediaResult};
use crate::js_value;
use crate::state::MediaState;
use crate::upload::tag;
use auth::refusal;
use batch::{EnrichedTrack, RawScrobble, batch_json, event_id, file_name, js_slice};
use normalize::{RawTrack, normalize, track_key};
use store::{BatchRecord, TrackEvent};

/// The most tracks of one batch.
pub const MAX_TRACKS: usize = 500;
/// Tracks resolved at once per request (the original's `pLimit(2)`).
const RESOLVE_CONCURRENCY: usize = 2;

fn bad(error: &str) -> MediaError {
    refusal(StatusCode::BAD_REQUEST, error)
}

/// `value?.slice(0, max) ?? fallback` for a member that must be a string when present.
fn sliced(value: Option<&Value>, max: usize) -> MediaResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(js_slice(s, max))),
        Some(_) => Err(MediaError::internal("a scrobble member has no slice()")),
    }
}

/// `embedded.<key>` as normalization reads it: falsy is absent, a truthy non-string fails.
fn embedded_text(embedded: Option<&Value>, key: &str) -> MediaResult<Option<String>> {
    let value = embedded.and_then(|e| e.get(key));
    Ok(js_value::truthy_str(value)?.map(str::to_owned))
}

/// Validates the body's tracks in the original's order and truncates their fields.
pub fn parse_tracks(body: &[u8]) -> MediaResult<Vec<RawScrobble>> {
    let body: Value = serde_json::from_slice(body).map_err(|_| bad("Invalid JSON body"))?;
    if body.is_null() {
        return Err(MediaError::internal("destructuring tracks of null"));
    }
    let tracks = match body.get("tracks") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(bad("tracks must be a non-empty array")),
    };
    if tracks.len() > MAX_TRACKS {
        return Err(bad("Maximum 500 tracks per batch"));
    }
    let empty = Map::new();
    let mut out = Vec::with_capacity(tracks.len());
    for track in tracks {
        if track.is_null() {
            return Err(MediaError::internal("reading artist of null"));
        }
        let obj = track.as_object().unwrap_or(&empty);
        let text = |key: &str| match obj.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        };
        let artist = text("artist").ok_or_else(|| bad("Each track must have artist (string)"))?;
        let title = text("title").ok_or_else(|| bad("Each track must have title (string)"))?;
        let played_at = obj
            .get("playedAt")
            .and_then(Value::as_f64)
            .filter(|p| *p != 0.0 && p.is_finite())
            .ok_or_else(|| bad("Each track must have playedAt (unix timestamp)"))?;
        let embedded = obj.get("embedded").filter(|e| !e.is_null());
        out.push(RawScrobble {
            artist: js_slice(artist, 256),
            title: js_slice(title, 256),
            album: sliced(obj.get("album"), 256)?,
            duration_ms: obj.get("duration_ms").and_then(Value::as_f64),
            played_at,
            source: sliced(obj.get("source"), 64)?,
            embedded_mbid: embedded_text(embedded, "mb_recording_id")?,
            embedded_isrc: embedded_text(embedded, "isrc")?,
            fingerprint: obj
                .get("fingerprint")
                .and_then(Value::as_str)
                .map(|f| js_slice(f, 32_000)),
        });
    }
    Ok(out)
}

/// Normalizes and resolves one track.
async fn enrich(state: &MediaState, raw: RawScrobble) -> EnrichedTrack {
    let input = RawTrack {
        title: &raw.title,
        artist: &raw.artist,
        album: raw.album.as_deref(),
        duration_ms: raw.duration_ms,
        isrc: raw.embedded_isrc.as_deref(),
        mbid: raw.embedded_mbid.as_deref(),
    };
    let normalized = normalize(&input);
    let key = track_key(&input, &normalized);
    let resolved = match state.scrobble_lookups() {
        Some(lookups) => {
            lookups
                .resolve(&normalized, raw.fingerprint.as_deref())
                .await
        }
        None => resolve::normalized_only(),
    };
    EnrichedTrack {
        raw,
        normalized,
        resolved,
        track_key: key,
    }
}

/// Stores and anchors the batch document; its id.
async fn upload(state: &MediaState, json: String, name: &str) -> Result<String, String> {
    if !state.config().uploads_configured {
        return Err("Load upload not configured (LOAD_S3_AGENT_API_KEY)".to_owned());
    }
    let tags = [
        tag(portability::FILE_NAME_TAG, name),
        tag("App-Name", "HeavenScrobble"),
        tag("Content-Type", "application/json"),
    ];
    let stored = state
        .blobs()
        .put(bytes::Bytes::from(json), "application/json", &tags)
        .await
        .map_err(|e| e.to_string())?;
    state
        .blobs()
        .anchor(&stored.id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(stored.id)
}

/// Records the batch and its events; failures are logged, as the original's.
async fn record(
    state: &MediaState,
    user: &str,
    cid: &str,
    batch: &BatchRecord,
    tracks: &[EnrichedTrack],
) -> Option<String> {
    let key = match state.scrobbles().add_batch(batch).await {
        Ok(key) => Some(key),
        Err(e) => {
            tracing::error!(error = %e, %cid, "scrobble batch row not stored (non-fatal)");
            None
        }
    };
    for t in tracks {
        let event = TrackEvent {
            id: event_id(user, t.raw.played_at, &t.track_key, t.raw.source.as_deref()),
            user_address: user.to_owned(),
            played_at: t.raw.played_at,
            source: t.raw.source.clone(),
            track_key: t.track_key.clone(),
            mbid: t.resolved.mbid.clone(),
            isrc: t.resolved.isrcs.as_ref().and_then(|i| i.first().cloned()),
            acoustid: t.resolved.acoustid.clone(),
            confidence: t.resolved.confidence,
            title_norm: t.normalized.title_norm.clone(),
            artist_norm: t.normalized.artist_norm.clone(),
            album_norm: t.normalized.album_norm.clone(),
            duration_s: t.normalized.duration_s,
            batch_cid: cid.to_owned(),
        };
        if let Err(e) = state.scrobbles().insert_event(&event).await {
            tracing::error!(error = %e, %cid, "scrobble track events not stored (non-fatal)");
            break;
        }
    }
    key
}

/// `POST /api/scrobble/submit` after authentication: the original's answer.
pub async fn submit(state: &MediaState, user: &str, body: &[u8]) -> MediaResult<Fields> {
    let tracks = parse_tracks(body)?;
    let min = tracks
        .iter()
        .map(|t| t.played_at)
        .fold(f64::INFINITY, f64::min);
    let max = tracks
        .iter()
        .map(|t| t.played_at)
        .fold(f64::NEG_INFINITY, f64::max);
    let (start_ts, end_ts) = (min.floor() as i64, max.floor() as i64);
    let count = tracks.len();
    let now = state.now();

    let enriched: Vec<EnrichedTrack> = futures_util::stream::iter(tracks)
        .map(|raw| enrich(state, raw))
        .buffered(RESOLVE_CONCURRENCY)
        .collect()
        .await;
    let json = batch_json(user, start_ts, end_ts, &enriched);
    let name = file_name(user, start_ts, &json);
    let cid = match upload(state, json, &name).await {
        Ok(cid) => cid,
        Err(e) => {
            tracing::error!(error = %e, "scrobble batch upload failed");
            return Err(refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to upload batch",
            ));
        }
    };
    let batch = BatchRecord {
        user_address: user.to_owned(),
        cid: cid.clone(),
        track_count: count as u64,
        start_ts,
        end_ts,
        created_at: now,
        attestation_uid: None,
        tx_hash: None,
    };
    let key = record(state, user, &cid, &batch, &enriched).await;

    let mut answer = Fields::default()
        .with("success", true)
        .with("cid", cid.clone())
        .with("count", count)
        .with("startTs", start_ts)
        .with("endTs", end_ts);
    if let Some(signer) = state.publishing() {
        let request = AttestScrobbleBatchRequest {
            request_id: format!("scrobble:{cid}"),
            user: user.to_owned(),
            start_ts: start_ts.max(0) as u64,
            end_ts: end_ts.max(0) as u64,
            count: count as u32,
            cid: cid.clone(),
        };
        match signer.attest_scrobble_batch(request).await {
            Ok(attested) => {
                if let Some(key) = &key
                    && let Err(e) = state
                        .scrobbles()
                        .set_attestation(key, &attested.attestation_uid, &attested.tx_hash)
                        .await
                {
                    tracing::error!(error = %e, %cid, "scrobble attestation not recorded (non-fatal)");
                }
                answer = answer
                    .with("attestationUid", attested.attestation_uid)
                    .with("txHash", attested.tx_hash);
            }
            Err(e) => tracing::warn!(error = %e, %cid, "scrobble attestation skipped (non-fatal)"),
        }
    }
    Ok(answer)
}

/// `GET /api/scrobble/batches` after authentication: the caller's newest 100 batches.
pub async fn batches(state: &MediaState, user: &str) -> MediaResult<Fields> {
    let list: Vec<Value> = state
        .scrobbles()
        .batches(user)
        .await?
        .into_iter()
        .map(|b| {
            serde_json::json!({
                "cid": b.cid,
                "count": b.track_count,
                "startTs": b.start_ts,
                "endTs": b.end_ts,
                "createdAt": b.created_at,
            })
        })
        .collect();
    Ok(Fields::default().with("batches", list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(body: Value) -> (u16, String) {
        let e = parse_tracks(body.to_string().as_bytes()).unwrap_err();
        (e.status.as_u16(), e.message().to_owned())
    }

    #[test]
    fn each_check_answers_the_originals_message() {
        assert_eq!(
            parse_tracks(b"nope").unwrap_err().message(),
            "Invalid JSON body"
        );
        assert_eq!(
            refused(json!({})),
            (400, "tracks must be a non-empty array".into())
        );
        assert_eq!(
            refused(json!({"tracks": []})),
            (400, "tracks must be a non-empty array".into())
        );
        let many: Vec<Value> = (0..501)
            .map(|_| json!({"artist": "a", "title": "t", "playedAt": 1}))
            .collect();
        assert_eq!(
            refused(json!({ "tracks": many })),
            (400, "Maximum 500 tracks per batch".into())
        );
        assert_eq!(
            refused(json!({"tracks": [{"artist": 5, "title": "t", "playedAt": 1}]})),
            (400, "Each track must have artist (string)".into())
        );
        assert_eq!(
            refused(json!({"tracks": [{"artist": "a", "playedAt": 1}]})),
            (400, "Each track must have title (string)".into())
        );
        assert_eq!(
            refused(json!({"tracks": [{"artist": "a", "title": "t", "playedAt": "1"}]})),
            (400, "Each track must have playedAt (unix timestamp)".into())
        );
        assert_eq!(
            refused(json!({"tracks": [{"artist": "a", "title": "t", "playedAt": 0}]})),
            (400, "Each track must have playedAt (unix timestamp)".into())
        );
        assert_eq!(refused(json!({"tracks": [null]})).0, 500);
    }

    #[test]
    fn fields_are_truncated_and_optional_members_kept_as_sent() {
        let body = json!({"tracks": [{
            "artist": "a".repeat(300), "title": "t", "playedAt": 1.5, "album": "b".repeat(300),
            "source": "s".repeat(70), "duration_ms": "12", "fingerprint": 7,
            "embedded": {"isrc": "USRC11700001"}
        }]});
        let tracks = parse_tracks(body.to_string().as_bytes()).unwrap();
        let t = &tracks[0];
        assert_eq!(t.artist.len(), 256);
        assert_eq!(t.album.as_ref().unwrap().len(), 256);
        assert_eq!(t.source.as_ref().unwrap().len(), 64);
        assert_eq!(t.duration_ms, None);
        assert_eq!(t.fingerprint, None);
        assert_eq!(t.played_at, 1.5);
        assert_eq!(t.embedded_isrc.as_deref(), Some("USRC11700001"));
    }
}
