//! Wikidata: when an artist has no Commons image relation, its Wikidata item's P18 ("image")
//! claim names a Commons file, resolved through [`crate::commons`]. Cached under
//! `wikidata-image:{QID}`: 1 hour when the item has no P18, 30 days otherwise.

use crate::cache::{TTL_NEGATIVE, TTL_POSITIVE, wikidata_image_key};
use crate::commons::{fetch_json, resolve_commons_image};
use crate::error::AppResult;
use crate::js::encode_uri_component;
use crate::state::AppState;
use http_common::OrderedJson;

/// The image URL of the Wikidata item a `.../Q123` URL names, or `None`.
pub async fn resolve_wikidata_image(
    state: &AppState,
    wikidata_url: &str,
) -> AppResult<Option<String>> {
    let Some(qid) = qid(wikidata_url) else {
        return Ok(None);
    };
    let key = wikidata_image_key(qid);
    if let Some(cached) = state.cache().get(&key).await?
        && !cached.is_empty()
    {
        return Ok((cached != b"null").then(|| String::from_utf8_lossy(&cached).into_owned()));
    }
    let url = format!(
        "{}/w/api.php?action=wbgetclaims&entity={qid}&property=P18&format=json",
        state.config().wikidata_url
    );
    let Some(body) = fetch_json(state, &url).await else {
        return Ok(None);
    };
    let file = body
        .get("claims")
        .and_then(|c| c.get("P18"))
        .and_then(|claims| match claims {
            OrderedJson::Array(items) => items.first(),
            _ => None,
        })
        .and_then(|claim| claim.get("mainsnak"))
        .and_then(|snak| snak.get("datavalue"))
        .and_then(|value| value.get("value"))
        .filter(|v| v.is_truthy())
        .and_then(OrderedJson::as_str)
        .map(str::to_owned);
    let Some(file) = file else {
        state
            .cache()
            .put(&key, b"null".to_vec(), TTL_NEGATIVE)
            .await?;
        return Ok(None);
    };
    let page = format!(
        "https://commons.wikimedia.org/wiki/File:{}",
        encode_uri_component(&file)
    );
    let image = resolve_commons_image(state, &page).await?;
    let stored = image.clone().unwrap_or_else(|| "null".to_owned());
    state
        .cache()
        .put(&key, stored.into_bytes(), TTL_POSITIVE)
        .await?;
    Ok(image)
}

/// The `Q<digits>` at the very end of a URL after a `/`.
fn qid(url: &str) -> Option<&str> {
    let (_, last) = url.rsplit_once('/')?;
    let digits = last.strip_prefix('Q')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_qid() {
        assert_eq!(qid("https://www.wikidata.org/wiki/Q1299"), Some("Q1299"));
        assert_eq!(qid("https://www.wikidata.org/wiki/Q12x"), None);
        assert_eq!(qid("https://www.wikidata.org/wiki/"), None);
    }
}
