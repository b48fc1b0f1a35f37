//! `GET /duet/:id/watch`, `GET /duet/:id/broadcast?bridgeTicket=` (the HTML pages, no auth, for
//! any id as the original) and `GET /duet/:id/guest/broadcast`, a 302 to the broadcast page
//! with the query string kept.

use std::collections::HashMap;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::duet;
use crate::duet::pages;
use crate::error::AppError;
use crate::state::AppState;

fn html(page: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        page,
    )
        .into_response()
}

/// JavaScript's `encodeURIComponent`.
pub fn encode_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The viewer page.
pub async fn watch(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    Ok(html(pages::watch(&id, &duet.settings().facilitator.mode)))
}

/// The broadcaster page.
pub async fn broadcast(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let ticket = query.get("bridgeTicket").map(String::as_str).unwrap_or("");
    Ok(html(pages::broadcast(
        &id,
        ticket,
        &duet.settings().agora.app_id,
    )))
}

/// The guest's link: 302 to the broadcast page.
pub async fn guest_broadcast(Path(id): Path<String>, OriginalUri(uri): OriginalUri) -> Response {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let location = format!("/duet/{}/broadcast{query}", encode_uri_component(&id));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_as_encode_uri_component() {
        assert_eq!(encode_uri_component("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(encode_uri_component("x-1_(ok)!"), "x-1_(ok)!");
        assert_eq!(encode_uri_component("é"), "%C3%A9");
    }
}
