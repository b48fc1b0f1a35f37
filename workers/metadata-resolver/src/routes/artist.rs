//! `GET /artist/{mbid}`: an artist's names, type, area, life span, top genres and links, with
//! `links.image` resolved through Wikimedia Commons (or Wikidata P18). Cached as
//! `artist:{mbid}` for 30 days; the image is rehosted on Load in the background and the cached
//! entry then points at the copy.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::{EntityRoute, array, lookup_entity, object, ok_json, or_null, top_genres};
use crate::cache::{TTL_POSITIVE, artist_key};
use crate::commons::resolve_commons_image;
use crate::error::AppResult;
use crate::rehost::spawn_artist_image;
use crate::state::AppState;
use crate::wikidata::resolve_wikidata_image;
use http_common::OrderedJson;

/// The artist route's MusicBrainz query and cache rules.
const ROUTE: EntityRoute = EntityRoute {
    entity: "artist",
    inc: "genres+url-rels",
    key: artist_key,
    serve_cached: |_| true,
};

/// Validates the MBID and answers the artist.
pub(super) async fn handler(State(state): State<AppState>, uri: Uri) -> AppResult<Response> {
    let mbid = super::mbid_from_path(uri.path(), "/artist/")?;
    let state = &state;
    lookup_entity(&ROUTE, state, mbid, |mbid, key, entity| async move {
        let (mut links, commons_page) = artist_links(&entity);
        let mut image = match commons_page {
            Some(page) => resolve_commons_image(state, &page).await?,
            None => None,
        };
        if image.is_none()
            && let Some(wikidata) = links
                .get("wikidata")
                .and_then(OrderedJson::as_str)
                .map(str::to_owned)
        {
            image = resolve_wikidata_image(state, &wikidata).await?;
        }
        if let Some(image) = &image {
            links.set("image", OrderedJson::String(image.clone()));
        }
        let body = object(vec![
            ("mbid", or_null(&entity, "id")),
            ("name", or_null(&entity, "name")),
            ("sortName", or_null(&entity, "sort-name")),
            ("type", or_null(&entity, "type")),
            ("disambiguation", or_null(&entity, "disambiguation")),
            ("country", or_null(&entity, "country")),
            (
                "area",
                entity
                    .get("area")
                    .map_or(OrderedJson::Null, |a| or_null(a, "name")),
            ),
            ("lifeSpan", or_null(&entity, "life-span")),
            ("genres", top_genres(&entity)),
            ("links", links),
        ])
        .to_vec();
        state.cache().put(&key, body.clone(), TTL_POSITIVE).await?;
        if let Some(image) = image.filter(|i| i.starts_with("https://")) {
            spawn_artist_image(state, &mbid, &image);
        }
        Ok(ok_json(body))
    })
    .await
}

/// The artist's `links` object (later relations of a kind overwrite earlier ones) and the
/// Commons page of its `image` relation, if any.
fn artist_links(entity: &OrderedJson) -> (OrderedJson, Option<String>) {
    let mut links = OrderedJson::Object(Vec::new());
    let mut commons_page = None;
    for relation in array(entity, "relations") {
        let Some(url) = relation
            .get("url")
            .and_then(|u| u.get("resource"))
            .filter(|r| r.is_truthy())
            .and_then(OrderedJson::as_str)
        else {
            continue;
        };
        let kind = relation
            .get("type")
            .and_then(OrderedJson::as_str)
            .unwrap_or("");
        let slot = match kind {
            "wikidata" => Some("wikidata"),
            "image" => {
                commons_page = Some(url.to_owned());
                None
            }
            "official homepage" => Some("website"),
            "social network" if url.contains("twitter.com") || url.contains("x.com") => {
                Some("twitter")
            }
            "social network" if url.contains("instagram.com") => Some("instagram"),
            "social network" if url.contains("facebook.com") => Some("facebook"),
            "streaming music" | "free streaming" if url.contains("spotify.com") => Some("spotify"),
            "streaming music" | "free streaming" if url.contains("soundcloud.com") => {
                Some("soundcloud")
            }
            _ => None,
        };
        if let Some(slot) = slot {
            links.set(slot, OrderedJson::String(url.to_owned()));
        }
    }
    (links, commons_page)
}
