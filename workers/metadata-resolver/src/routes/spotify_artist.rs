//! `GET /resolve/spotify-artist/{id}`: the MusicBrainz artist linked to a Spotify artist id,
//! through MusicBrainz's URL entity and its artist relations. Cached as
//! `spotify-artist:{id}`: 30 days on a match, 1 hour for `not_found` and `no_artist_relation`.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::{array, object, ok_json, or_null};
use crate::cache::{TTL_NEGATIVE, TTL_POSITIVE, spotify_artist_key};
use crate::error::{AppError, AppResult, json_bytes};
use crate::js::encode_uri_component;
use crate::state::AppState;
use http_common::OrderedJson;

/// Checks the id (`[A-Za-z0-9]`, exactly 22) and answers the artist.
pub(super) async fn handler(State(state): State<AppState>, uri: Uri) -> AppResult<Response> {
    let id = uri
        .path()
        .strip_prefix("/resolve/spotify-artist/")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or(AppError::RouteNotFound)?;
    if id.len() != 22 {
        return Err(AppError::bad_request("invalid spotify id"));
    }
    let key = spotify_artist_key(id);
    if let Some(bytes) = state.cache().get(&key).await? {
        let value = OrderedJson::parse(&bytes)
            .map_err(|e| AppError::Internal(format!("corrupt cache entry: {e}")))?;
        if value.is_truthy() {
            return Ok(ok_json(bytes));
        }
    }
    let resource = format!("https://open.spotify.com/artist/{id}");
    let response = state
        .musicbrainz()
        .get(&format!(
            "url?resource={}&inc=artist-rels&fmt=json",
            encode_uri_component(&resource)
        ))
        .await?;
    let negative = |error: &str| {
        object(vec![
            ("error", OrderedJson::String(error.to_owned())),
            ("spotifyId", OrderedJson::String(id.to_owned())),
        ])
        .to_vec()
    };
    if response.status == 404 {
        let body = negative("not_found");
        state.cache().put(&key, body.clone(), TTL_NEGATIVE).await?;
        return Ok(json_bytes(StatusCode::NOT_FOUND, body));
    }
    if !response.is_success() {
        return Err(AppError::Upstream(response.status));
    }
    let data = OrderedJson::parse(&response.body)
        .map_err(|e| AppError::Internal(format!("MusicBrainz sent invalid JSON: {e}")))?;
    let artist = array(&data, "relations")
        .iter()
        .find_map(|relation| relation.get("artist").filter(|a| a.is_truthy()));
    let Some(artist) = artist else {
        let body = negative("no_artist_relation");
        state.cache().put(&key, body.clone(), TTL_NEGATIVE).await?;
        return Ok(json_bytes(StatusCode::NOT_FOUND, body));
    };
    let body = object(vec![
        ("mbid", or_null(artist, "id")),
        ("name", or_null(artist, "name")),
        ("sortName", or_null(artist, "sort-name")),
        ("spotifyId", OrderedJson::String(id.to_owned())),
    ])
    .to_vec();
    state.cache().put(&key, body.clone(), TTL_POSITIVE).await?;
    Ok(ok_json(body))
}
