//! The routes, one file per action, and what they share: the original's method rules
//! (POST only on the two POST paths, 405 for other methods), MBID validation on the raw path,
//! and the MusicBrainz entity lookup with its negative and redirect cache entries.

mod artist;
mod health;
mod recording;
mod rehost_image;
mod release_group;
mod resolve_batch;
mod search_artist;
mod spotify_artist;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::cache::{TTL_NEGATIVE, TTL_POSITIVE};
use crate::error::{AppError, AppResult, json_bytes};
use crate::musicbrainz::redirect_target;
use crate::state::AppState;
use http_common::OrderedJson;

/// How many `{redirect}` hops a lookup follows before giving up (the original had no bound).
pub(crate) const MAX_REDIRECTS: usize = 5;

/// The POST routes; every other path answers POST with 404.
const POST_PATHS: [&str; 2] = ["/resolve/batch", "/rehost/image"];

/// Every route of the original worker, over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(health::handler))
        .route("/health", get(health::handler))
        .route("/recording/{mbid}", get(recording::handler))
        .route("/artist/{mbid}", get(artist::handler))
        .route("/release-group/{mbid}", get(release_group::handler))
        .route("/search/artist", get(search_artist::handler))
        .route("/resolve/spotify-artist/{id}", get(spotify_artist::handler))
        .route("/resolve/batch", post(resolve_batch::handler))
        .route("/rehost/image", post(rehost_image::handler))
        .fallback(not_found)
        .layer(middleware::from_fn(method_rules))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::RouteNotFound
}

/// The original's dispatch by method: OPTIONS 204, POST only on the POST paths (else 404),
/// GET only elsewhere (else 404), anything else (HEAD included) 405.
async fn method_rules(request: Request, next: Next) -> Response {
    let is_post_path = POST_PATHS.contains(&request.uri().path());
    match *request.method() {
        Method::OPTIONS => StatusCode::NO_CONTENT.into_response(),
        Method::POST if !is_post_path => AppError::RouteNotFound.into_response(),
        Method::GET if is_post_path => AppError::RouteNotFound.into_response(),
        Method::GET | Method::POST => next.run(request).await,
        _ => AppError::MethodNotAllowed.into_response(),
    }
}

/// The MBID in `/{prefix}/{mbid}` of the raw path: 36 characters of `[a-f0-9-]` (else 404,
/// as the original's route pattern did not match), in the 8-4-4-4-12 layout (else 400).
pub(crate) fn mbid_from_path<'a>(path: &'a str, prefix: &str) -> AppResult<&'a str> {
    let segment = path.strip_prefix(prefix).ok_or(AppError::RouteNotFound)?;
    let alphabet_ok = segment.len() == 36
        && segment
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-');
    if !alphabet_ok {
        return Err(AppError::RouteNotFound);
    }
    let groups: Vec<usize> = segment.split('-').map(str::len).collect();
    if groups != [8, 4, 4, 4, 12] {
        return Err(AppError::bad_request("invalid mbid"));
    }
    Ok(segment)
}

/// What tells one MusicBrainz entity route from another.
pub(crate) struct EntityRoute {
    /// MusicBrainz entity name (`artist`, `recording`, `release-group`).
    pub entity: &'static str,
    /// The `inc=` subqueries the original asks for.
    pub inc: &'static str,
    /// Cache key of an MBID.
    pub key: fn(&str) -> String,
    /// Whether a cached, non-redirect entry may be served as it is (else it is fetched again).
    pub serve_cached: fn(&OrderedJson) -> bool,
}

/// Serves `mbid` from the cache or MusicBrainz, following merge redirects (cached or fresh) at
/// most [`MAX_REDIRECTS`] times. A fetched entity goes to `build(mbid, cache key, entity)`,
/// which caches and answers it.
pub(crate) async fn lookup_entity<F, Fut>(
    route: &EntityRoute,
    state: &AppState,
    mbid: &str,
    build: F,
) -> AppResult<Response>
where
    F: FnOnce(String, String, OrderedJson) -> Fut,
    Fut: std::future::Future<Output = AppResult<Response>>,
{
    let mut mbid = mbid.to_owned();
    for _hop in 0..=MAX_REDIRECTS {
        let key = (route.key)(&mbid);
        if let Some(bytes) = state.cache().get(&key).await? {
            match classify(bytes, route.serve_cached)? {
                Cached::Redirect(target) => {
                    mbid = target;
                    continue;
                }
                Cached::Serve(bytes) => return Ok(ok_json(bytes)),
                Cached::Refetch => {}
            }
        }
        match fetch_entity(state, route.entity, &mbid, &key, route.inc).await? {
            Fetched::Done(response) => return Ok(response),
            Fetched::Redirect(target) => mbid = target,
            Fetched::Entity(entity) => return build(mbid, key, entity).await,
        }
    }
    Err(AppError::Internal(format!(
        "redirect loop at {} {mbid}",
        route.entity
    )))
}

/// A cached lookup entry, as the route should treat it.
pub(crate) enum Cached {
    /// `{redirect: "<mbid>"}`: look the target up instead.
    Redirect(String),
    /// Serve these bytes with 200 (including cached `not_found` bodies, as the original did).
    Serve(Vec<u8>),
    /// Ignore the entry and ask MusicBrainz again.
    Refetch,
}

/// Classifies a cached entity entry; `serve_if` decides for entries that are not redirects.
pub(crate) fn classify(
    bytes: Vec<u8>,
    serve_if: impl Fn(&OrderedJson) -> bool,
) -> AppResult<Cached> {
    let value = OrderedJson::parse(&bytes)
        .map_err(|e| AppError::Internal(format!("corrupt cache entry: {e}")))?;
    if !value.is_truthy() {
        return Ok(Cached::Refetch);
    }
    if let Some(target) = value.get("redirect").and_then(OrderedJson::as_str) {
        return Ok(Cached::Redirect(target.to_owned()));
    }
    Ok(if serve_if(&value) {
        Cached::Serve(bytes)
    } else {
        Cached::Refetch
    })
}

/// What a MusicBrainz entity lookup produced.
pub(crate) enum Fetched {
    /// A finished response (404 not_found, already cached for 1 h).
    Done(Response),
    /// A merged MBID: the `{redirect}` entry is cached; look `target` up.
    Redirect(String),
    /// The entity's JSON.
    Entity(OrderedJson),
}

/// `GET /ws/2/{entity}/{mbid}?inc={inc}&fmt=json` with the original's handling of 404
/// (negative entry, 404), 3xx with a `Location` naming an MBID (redirect entry for 30 days)
/// and other failures (502 `upstream_error`).
pub(crate) async fn fetch_entity(
    state: &AppState,
    entity: &str,
    mbid: &str,
    key: &str,
    inc: &str,
) -> AppResult<Fetched> {
    let response = state
        .musicbrainz()
        .get(&format!("{entity}/{mbid}?inc={inc}&fmt=json"))
        .await?;
    if response.status == 404 {
        let body = serde_json::to_vec(&serde_json::json!({ "error": "not_found", "mbid": mbid }))
            .unwrap_or_default();
        state.cache().put(key, body.clone(), TTL_NEGATIVE).await?;
        return Ok(Fetched::Done(json_bytes(StatusCode::NOT_FOUND, body)));
    }
    if (300..400).contains(&response.status)
        && let Some(target) = response
            .location
            .as_deref()
            .and_then(|location| redirect_target(location, entity))
    {
        let entry =
            serde_json::to_vec(&serde_json::json!({ "redirect": target })).unwrap_or_default();
        state.cache().put(key, entry, TTL_POSITIVE).await?;
        return Ok(Fetched::Redirect(target));
    }
    if !response.is_success() {
        return Err(AppError::Upstream(response.status));
    }
    OrderedJson::parse(&response.body)
        .map(Fetched::Entity)
        .map_err(|e| AppError::Internal(format!("MusicBrainz sent invalid JSON: {e}")))
}

/// A 200 JSON response with `body`.
pub(crate) fn ok_json(body: Vec<u8>) -> Response {
    json_bytes(StatusCode::OK, body)
}

/// The string at `key`, or `None`.
pub(crate) fn str_field(value: &OrderedJson, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(OrderedJson::as_str)
        .map(str::to_owned)
}

/// `value ?? null` for an arbitrary member (a missing member becomes null).
pub(crate) fn or_null(value: &OrderedJson, key: &str) -> OrderedJson {
    value.get(key).cloned().unwrap_or(OrderedJson::Null)
}

/// The array at `key` (empty when missing or not an array).
pub(crate) fn array<'a>(value: &'a OrderedJson, key: &str) -> &'a [OrderedJson] {
    match value.get(key) {
        Some(OrderedJson::Array(items)) => items,
        _ => &[],
    }
}

/// Genre names by `count` descending (stable), at most 10.
pub(crate) fn top_genres(entity: &OrderedJson) -> OrderedJson {
    let mut genres: Vec<&OrderedJson> = array(entity, "genres").iter().collect();
    let count = |g: &OrderedJson| match g.get("count") {
        Some(OrderedJson::Number(n)) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    };
    genres.sort_by(|a, b| {
        count(b)
            .partial_cmp(&count(a))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    OrderedJson::Array(
        genres
            .into_iter()
            .take(10)
            .map(|g| or_null(g, "name"))
            .collect(),
    )
}

/// An object from members in order.
pub(crate) fn object(members: Vec<(&str, OrderedJson)>) -> OrderedJson {
    OrderedJson::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbid_rules_match_the_original() {
        let ok = "/artist/a74b1b7f-71a5-4011-9441-d0b5e4122711";
        assert_eq!(mbid_from_path(ok, "/artist/").unwrap().len(), 36);
        assert!(matches!(
            mbid_from_path("/artist/a74b1b7f71a5-4011-9441-d0b5e4122711-", "/artist/"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            mbid_from_path("/artist/A74B1B7F-71A5-4011-9441-D0B5E4122711", "/artist/"),
            Err(AppError::RouteNotFound)
        ));
        assert!(matches!(
            mbid_from_path("/artist/abc", "/artist/"),
            Err(AppError::RouteNotFound)
        ));
    }
}
