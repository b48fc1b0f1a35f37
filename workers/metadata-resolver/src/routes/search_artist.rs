//! `GET /search/artist?q=`: the top five MusicBrainz artist matches for a name. Cached for
//! 24 hours under the lowercased, trimmed query (empty results too); the raw `q` is what is
//! sent to MusicBrainz.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::{array, object, ok_json, or_null};
use crate::cache::{TTL_SEARCH, search_artist_key};
use crate::error::{AppError, AppResult};
use crate::js::{encode_uri_component, js_length};
use crate::state::AppState;
use http_common::OrderedJson;

/// Checks `q` and answers the search.
pub(super) async fn handler(State(state): State<AppState>, uri: Uri) -> AppResult<Response> {
    // URLSearchParams semantics: `+` is a space, the first `q` wins.
    let q = uri.query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "q")
            .map(|(_, value)| value.into_owned())
    });
    let Some(q) = q.filter(|q| !q.is_empty()) else {
        return Err(AppError::bad_request("missing q parameter"));
    };
    if js_length(&q) < 2 {
        return Err(AppError::bad_request("query too short"));
    }
    let key = search_artist_key(&q);
    if let Some(bytes) = state.cache().get(&key).await? {
        let value = OrderedJson::parse(&bytes)
            .map_err(|e| AppError::Internal(format!("corrupt cache entry: {e}")))?;
        if value.is_truthy() {
            return Ok(ok_json(bytes));
        }
    }
    let response = state
        .musicbrainz()
        .get(&format!(
            "artist/?query={}&limit=5&fmt=json",
            encode_uri_component(&q)
        ))
        .await?;
    if !response.is_success() {
        return Err(AppError::Upstream(response.status));
    }
    let data = OrderedJson::parse(&response.body)
        .map_err(|e| AppError::Internal(format!("MusicBrainz sent invalid JSON: {e}")))?;
    let artists = array(&data, "artists")
        .iter()
        .map(|a| {
            object(vec![
                ("mbid", or_null(a, "id")),
                ("name", or_null(a, "name")),
                ("sortName", or_null(a, "sort-name")),
                ("score", or_null(a, "score")),
                ("type", or_null(a, "type")),
                ("disambiguation", or_null(a, "disambiguation")),
                ("country", or_null(a, "country")),
            ])
        })
        .collect();
    let body = object(vec![("artists", OrderedJson::Array(artists))]).to_vec();
    state.cache().put(&key, body.clone(), TTL_SEARCH).await?;
    Ok(ok_json(body))
}
