//! `POST /resolve/batch`: `{recordings:[{artist,title,release?}]}` (1 to 50) resolved to
//! MBIDs through MusicBrainz recording search, one result per item in order. Items are read
//! from the cache together, and the misses resolved one after another through the limiter.
//! A match (score >= 80) is cached 30 days, a miss 1 hour; transient failures (MusicBrainz
//! 5xx, network, a full queue) answer an empty result and cache nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use futures_util::future::join_all;
use serde::Serialize;

use super::{array, ok_json, str_field};
use crate::cache::{TTL_NEGATIVE, TTL_POSITIVE, resolve_key};
use crate::error::{AppError, AppResult};
use crate::js::encode_uri_component;
use crate::state::AppState;
use http_common::OrderedJson;

/// Most items per batch.
const MAX_BATCH: usize = 50;
/// Lowest MusicBrainz search score accepted as a match.
const MIN_SCORE: f64 = 80.0;

/// One item's answer, with the original's snake_case fields.
#[derive(Debug, Clone, Default, Serialize)]
struct ResolveResult {
    recording_mbid: Option<String>,
    recording_name: Option<String>,
    artist_mbids: Vec<String>,
    artist_credit_name: Option<String>,
    release_mbid: Option<String>,
    release_name: Option<String>,
    score: serde_json::Value,
}

impl ResolveResult {
    fn empty() -> Self {
        Self {
            score: serde_json::Value::from(0),
            ..Self::default()
        }
    }
}

struct Item {
    artist: String,
    title: String,
    release: Option<String>,
}

/// Validates the batch and answers `{results:[...]}`.
pub(super) async fn handler(State(state): State<AppState>, body: Bytes) -> AppResult<Response> {
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| AppError::bad_request("invalid JSON body"))?;
    let Some(recordings) = body
        .get("recordings")
        .and_then(|r| r.as_array())
        .filter(|r| !r.is_empty())
    else {
        return Err(AppError::bad_request("recordings array required"));
    };
    if recordings.len() > MAX_BATCH {
        return Err(AppError::bad_request(format!(
            "max {MAX_BATCH} recordings per batch"
        )));
    }
    let mut items = Vec::with_capacity(recordings.len());
    for item in recordings {
        let text = |field: &str| {
            item.get(field)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (Some(artist), Some(title)) = (text("artist"), text("title")) else {
            return Err(AppError::bad_request("each item needs artist and title"));
        };
        items.push(Item {
            artist,
            title,
            release: text("release"),
        });
    }
    let keys: Vec<String> = items
        .iter()
        .map(|i| resolve_key(&i.artist, &i.title, i.release.as_deref()))
        .collect();
    let cached = join_all(keys.iter().map(|k| state.cache().get(k))).await;
    let mut results = Vec::with_capacity(items.len());
    for entry in cached {
        let hit = entry?
            .and_then(|bytes| OrderedJson::parse(&bytes).ok())
            .filter(|v| !matches!(v, OrderedJson::Null));
        results.push(hit);
    }
    for (index, item) in items.iter().enumerate() {
        if results[index].is_some() {
            continue;
        }
        let resolved = match resolve_one(&state, item).await {
            Some(resolved) => resolved,
            None => {
                results[index] = Some(to_json(&ResolveResult::empty()));
                continue;
            }
        };
        let ttl = if resolved.recording_mbid.is_some() {
            TTL_POSITIVE
        } else {
            TTL_NEGATIVE
        };
        let value = to_json(&resolved);
        state.cache().put(&keys[index], value.to_vec(), ttl).await?;
        results[index] = Some(value);
    }
    let body = OrderedJson::Object(vec![(
        "results".to_owned(),
        OrderedJson::Array(
            results
                .into_iter()
                .map(|r| r.unwrap_or(OrderedJson::Null))
                .collect(),
        ),
    )]);
    Ok(ok_json(body.to_vec()))
}

fn to_json(result: &ResolveResult) -> OrderedJson {
    OrderedJson::parse(&serde_json::to_vec(result).unwrap_or_default()).unwrap_or(OrderedJson::Null)
}

/// Backslash before each Lucene special character.
fn lucene_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "+-&|!(){}[]^\"~*?:\\/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Searches MusicBrainz for one item; `None` for a transient failure (not cached).
async fn resolve_one(state: &AppState, item: &Item) -> Option<ResolveResult> {
    let mut query = format!(
        "recording:\"{}\" AND artist:\"{}\"",
        lucene_escape(&item.title),
        lucene_escape(&item.artist)
    );
    if let Some(release) = &item.release {
        query.push_str(&format!(" AND release:\"{}\"", lucene_escape(release)));
    }
    let path = format!(
        "recording/?query={}&limit=1&fmt=json",
        encode_uri_component(&query)
    );
    let response = match state.musicbrainz().get(&path).await {
        Ok(response) => response,
        Err(err) => {
            tracing::warn!(error = %err, "batch item not resolved (transient)");
            return None;
        }
    };
    if response.status >= 500 {
        return None;
    }
    if !response.is_success() {
        return Some(ResolveResult::empty());
    }
    let data = OrderedJson::parse(&response.body).ok()?;
    let Some(top) = array(&data, "recordings").first() else {
        return Some(ResolveResult::empty());
    };
    let score = match top.get("score") {
        Some(OrderedJson::Number(n)) => n.clone(),
        _ => return Some(ResolveResult::empty()),
    };
    if score.as_f64().unwrap_or(0.0) < MIN_SCORE {
        return Some(ResolveResult::empty());
    }
    let credits = array(top, "artist-credit");
    let artist = |c: &OrderedJson, f: &str| c.get("artist").and_then(|a| str_field(a, f));
    let names: Vec<String> = credits.iter().filter_map(|c| artist(c, "name")).collect();
    let first_release = array(top, "releases").first();
    Some(ResolveResult {
        recording_mbid: str_field(top, "id"),
        recording_name: str_field(top, "title"),
        artist_mbids: credits.iter().filter_map(|c| artist(c, "id")).collect(),
        artist_credit_name: Some(names.join(", ")).filter(|n| !n.is_empty()),
        release_mbid: first_release.and_then(|r| str_field(r, "id")),
        release_name: first_release.and_then(|r| str_field(r, "title")),
        score: serde_json::to_value(score).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_lucene_specials() {
        assert_eq!(
            lucene_escape(r#"AC/DC: "Hi" (live)"#),
            r#"AC\/DC\: \"Hi\" \(live\)"#
        );
    }
}
