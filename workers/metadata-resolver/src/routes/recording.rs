//! `GET /recording/{mbid}`: a recording's title, credited artists and first release group.
//! Cached as `recording:{mbid}` for 30 days; entries without `releaseGroup` (the original's
//! older format) are fetched again.

use std::future::Future;
use std::pin::Pin;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::{
    Cached, Fetched, MAX_REDIRECTS, array, classify, fetch_entity, object, ok_json, or_null,
    str_field,
};
use crate::cache::{TTL_POSITIVE, recording_key};
use crate::error::{AppError, AppResult};
use crate::json::Json;
use crate::state::AppState;

/// Validates the MBID and answers the recording.
pub(super) async fn handler(State(state): State<AppState>, uri: Uri) -> AppResult<Response> {
    let mbid = super::mbid_from_path(uri.path(), "/recording/")?;
    lookup(state, mbid.to_owned(), 0).await
}

fn lookup(
    state: AppState,
    mbid: String,
    hops: usize,
) -> Pin<Box<dyn Future<Output = AppResult<Response>> + Send>> {
    Box::pin(async move {
        if hops > MAX_REDIRECTS {
            return Err(AppError::Internal(format!(
                "redirect loop at recording {mbid}"
            )));
        }
        let key = recording_key(&mbid);
        if let Some(bytes) = state.cache().get(&key).await? {
            let serve = |v: &Json| {
                v.get("error").is_some_and(Json::is_truthy) || v.get("releaseGroup").is_some()
            };
            match classify(bytes, serve)? {
                Cached::Redirect(target) => return lookup(state, target, hops + 1).await,
                Cached::Serve(bytes) => return Ok(ok_json(bytes)),
                Cached::Refetch => {}
            }
        }
        let entity = match fetch_entity(
            &state,
            "recording",
            &mbid,
            &key,
            "artists+releases+release-groups",
        )
        .await?
        {
            Fetched::Done(response) => return Ok(response),
            Fetched::Redirect(target) => return lookup(state, target, hops + 1).await,
            Fetched::Entity(entity) => entity,
        };
        let body = map_recording(&entity).to_vec();
        state.cache().put(&key, body.clone(), TTL_POSITIVE).await?;
        Ok(ok_json(body))
    })
}

/// `{recording:{mbid,title}, artists:[{mbid,name,sortName}], releaseGroup}` from a
/// MusicBrainz recording.
fn map_recording(entity: &Json) -> Json {
    let artists = array(entity, "artist-credit")
        .iter()
        .map(|credit| {
            let artist = credit.get("artist").cloned().unwrap_or(Json::Null);
            object(vec![
                ("mbid", or_null(&artist, "id")),
                ("name", or_null(&artist, "name")),
                ("sortName", or_null(&artist, "sort-name")),
            ])
        })
        .collect();
    let release_group = array(entity, "releases")
        .iter()
        .find_map(|release| release.get("release-group").filter(|g| g.is_truthy()))
        .map_or(Json::Null, |group| {
            object(vec![
                ("mbid", or_null(group, "id")),
                ("title", or_null(group, "title")),
                ("type", or_null(group, "primary-type")),
            ])
        });
    object(vec![
        (
            "recording",
            object(vec![
                (
                    "mbid",
                    str_field(entity, "id").map_or(Json::Null, Json::String),
                ),
                ("title", or_null(entity, "title")),
            ]),
        ),
        ("artists", Json::Array(artists)),
        ("releaseGroup", release_group),
    ])
}
