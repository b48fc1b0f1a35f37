//! `GET /release-group/{mbid}`: an album's title, types, first release date, credited artists,
//! top genres, Cover Art Archive URL, track count and links. Cached as `release-group:{mbid}`
//! for 30 days; the cover is rehosted on Load in the background and the cached entry then
//! points at the copy.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::{EntityRoute, array, lookup_entity, object, ok_json, or_null, top_genres};
use crate::cache::{TTL_POSITIVE, release_group_key};
use crate::coverart::front_250;
use crate::error::AppResult;
use crate::rehost::spawn_cover_art;
use crate::state::AppState;
use http_common::OrderedJson;

/// The release-group route's MusicBrainz query and cache rules.
const ROUTE: EntityRoute = EntityRoute {
    entity: "release-group",
    inc: "artists+genres+url-rels+releases",
    key: release_group_key,
    serve_cached: |_| true,
};

/// Validates the MBID and answers the release group.
pub(super) async fn handler(State(state): State<AppState>, uri: Uri) -> AppResult<Response> {
    let mbid = super::mbid_from_path(uri.path(), "/release-group/")?;
    let state = &state;
    lookup_entity(&ROUTE, state, mbid, |mbid, key, entity| async move {
        let id = entity
            .get("id")
            .and_then(OrderedJson::as_str)
            .unwrap_or_default();
        let cover = front_250(&state.config().cover_art_url, id);
        let body = map_release_group(&entity, &cover).to_vec();
        state.cache().put(&key, body.clone(), TTL_POSITIVE).await?;
        spawn_cover_art(state, &mbid, &cover);
        Ok(ok_json(body))
    })
    .await
}

fn map_release_group(entity: &OrderedJson, cover: &str) -> OrderedJson {
    let mut links = OrderedJson::Object(Vec::new());
    for relation in array(entity, "relations") {
        let Some(url) = relation
            .get("url")
            .and_then(|u| u.get("resource"))
            .filter(|r| r.is_truthy())
            .and_then(OrderedJson::as_str)
        else {
            continue;
        };
        let slot = match relation
            .get("type")
            .and_then(OrderedJson::as_str)
            .unwrap_or("")
        {
            "wikidata" => Some("wikidata"),
            "discogs" => Some("discogs"),
            "streaming music" | "free streaming" if url.contains("spotify.com") => Some("spotify"),
            _ => None,
        };
        if let Some(slot) = slot {
            links.set(slot, OrderedJson::String(url.to_owned()));
        }
    }
    let mut official: Vec<&OrderedJson> = array(entity, "releases")
        .iter()
        .filter(|r| r.get("status").and_then(OrderedJson::as_str) == Some("Official"))
        .collect();
    official.sort_by_key(|r| {
        r.get("date")
            .and_then(OrderedJson::as_str)
            .unwrap_or("")
            .to_owned()
    });
    let track_count = official
        .first()
        .and_then(|r| r.get("track-count"))
        .cloned()
        .unwrap_or(OrderedJson::Null);
    let artists = array(entity, "artist-credit")
        .iter()
        .map(|credit| {
            let artist = credit.get("artist").cloned().unwrap_or(OrderedJson::Null);
            object(vec![
                ("mbid", or_null(&artist, "id")),
                ("name", or_null(&artist, "name")),
                (
                    "joinphrase",
                    match credit.get("joinphrase") {
                        None | Some(OrderedJson::Null) => OrderedJson::String(String::new()),
                        Some(other) => other.clone(),
                    },
                ),
            ])
        })
        .collect();
    let secondary = match entity.get("secondary-types") {
        None | Some(OrderedJson::Null) => OrderedJson::Array(Vec::new()),
        Some(other) => other.clone(),
    };
    object(vec![
        ("mbid", or_null(entity, "id")),
        ("title", or_null(entity, "title")),
        ("type", or_null(entity, "primary-type")),
        ("secondaryTypes", secondary),
        ("releaseDate", or_null(entity, "first-release-date")),
        ("disambiguation", or_null(entity, "disambiguation")),
        ("artists", OrderedJson::Array(artists)),
        ("genres", top_genres(entity)),
        ("coverArtUrl", OrderedJson::String(cover.to_owned())),
        ("trackCount", track_count),
        ("links", links),
    ])
}
