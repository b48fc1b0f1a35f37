//! `GET /recording/{mbid}`: a recording's title, credited artists and first release group.
//! Cached as `recording:{mbid}` for 30 days; entries without `releaseGroup` (the original's
//! older format) are fetched again.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::{EntityRoute, array, lookup_entity, object, ok_json, or_null, str_field};
use crate::cache::{TTL_POSITIVE, recording_key};
use crate::error::AppResult;
use crate::state::AppState;
use http_common::OrderedJson;

/// The recording route's MusicBrainz query and cache rules.
const ROUTE: EntityRoute = EntityRoute {
    entity: "recording",
    inc: "artists+releases+release-groups",
    key: recording_key,
    serve_cached: |v| {
        v.get("error").is_some_and(OrderedJson::is_truthy) || v.get("releaseGroup").is_some()
    },
};

/// Validates the MBID and answers the recording.
pub(super) async fn handler(State(state): State<AppState>, uri: Uri) -> AppResult<Response> {
    let mbid = super::mbid_from_path(uri.path(), "/recording/")?;
    let state = &state;
    lookup_entity(&ROUTE, state, mbid, |_, key, entity| async move {
        let body = map_recording(&entity).to_vec();
        state.cache().put(&key, body.clone(), TTL_POSITIVE).await?;
        Ok(ok_json(body))
    })
    .await
}

/// `{recording:{mbid,title}, artists:[{mbid,name,sortName}], releaseGroup}` from a
/// MusicBrainz recording.
fn map_recording(entity: &OrderedJson) -> OrderedJson {
    let artists = array(entity, "artist-credit")
        .iter()
        .map(|credit| {
            let artist = credit.get("artist").cloned().unwrap_or(OrderedJson::Null);
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
        .map_or(OrderedJson::Null, |group| {
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
                    str_field(entity, "id").map_or(OrderedJson::Null, OrderedJson::String),
                ),
                ("title", or_null(entity, "title")),
            ]),
        ),
        ("artists", OrderedJson::Array(artists)),
        ("releaseGroup", release_group),
    ])
}
