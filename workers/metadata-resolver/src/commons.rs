//! Wikimedia Commons: a `https://commons.wikimedia.org/wiki/File:<name>` page URL (an artist's
//! MusicBrainz `image` relation) becomes a direct 400-px thumbnail URL through the MediaWiki
//! `imageinfo` API. Results, including "no image", are cached for 30 days under
//! `commons:{decoded file name}`; a failed call returns nothing and caches nothing.

use axum::http::header;

use crate::cache::{TTL_POSITIVE, commons_key};
use crate::error::{AppError, AppResult};
use crate::js::{decode_uri_component, encode_uri_component};
use crate::state::AppState;
use http_common::OrderedJson;

/// The direct image URL for a Commons file page, or `None`.
///
/// Errors: a file name with a malformed `%` escape (the original threw there) and cache
/// failures are [`AppError::Internal`].
pub async fn resolve_commons_image(state: &AppState, page_url: &str) -> AppResult<Option<String>> {
    let Some(encoded) = file_name(page_url) else {
        return Ok(None);
    };
    let name = decode_uri_component(encoded)
        .ok_or_else(|| AppError::Internal(format!("malformed Commons file name {encoded:?}")))?;
    let key = commons_key(&name);
    if let Some(cached) = state.cache().get(&key).await?
        && !cached.is_empty()
    {
        return Ok((cached != b"null").then(|| String::from_utf8_lossy(&cached).into_owned()));
    }
    let url = format!(
        "{}/w/api.php?action=query&titles=File:{}&prop=imageinfo&iiprop=url&iiurlwidth=400&format=json",
        state.config().commons_url,
        encode_uri_component(&name)
    );
    let Some(body) = fetch_json(state, &url).await else {
        return Ok(None);
    };
    let Some(OrderedJson::Object(pages)) = body.get("query").and_then(|q| q.get("pages")) else {
        return Ok(None);
    };
    let info = pages
        .first()
        .and_then(|(_, page)| page.get("imageinfo"))
        .and_then(|list| match list {
            OrderedJson::Array(items) => items.first(),
            _ => None,
        });
    let pick = |field: &str| {
        info.and_then(|i| i.get(field))
            .filter(|v| v.is_truthy())
            .and_then(OrderedJson::as_str)
            .map(str::to_owned)
    };
    let image = pick("thumburl").or_else(|| pick("url"));
    let stored = image.clone().unwrap_or_else(|| "null".to_owned());
    state
        .cache()
        .put(&key, stored.into_bytes(), TTL_POSITIVE)
        .await?;
    Ok(image)
}

/// The part of a page URL after `/wiki/File:` (non-empty).
fn file_name(page_url: &str) -> Option<&str> {
    let at = page_url.find("/wiki/File:")?;
    let rest = &page_url[at + "/wiki/File:".len()..];
    (!rest.is_empty() && !rest.contains('\n')).then_some(rest)
}

/// GETs `url` with the resolver's User-Agent and parses JSON; any failure is `None`.
pub(crate) async fn fetch_json(state: &AppState, url: &str) -> Option<OrderedJson> {
    let response = state
        .http()
        .get(url)
        .header(header::USER_AGENT, &state.config().user_agent)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let bytes = response.bytes().await.ok()?;
    OrderedJson::parse(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_file_name_after_wiki_file() {
        assert_eq!(
            file_name("https://commons.wikimedia.org/wiki/File:The_Fabs.JPG"),
            Some("The_Fabs.JPG")
        );
        assert_eq!(
            file_name("https://commons.wikimedia.org/wiki/Category:X"),
            None
        );
    }
}
