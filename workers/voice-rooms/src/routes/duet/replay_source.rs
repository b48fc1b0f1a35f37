//! `GET /duet/:id/replay/source?token=` → spends a one-time replay token and streams the
//! recording from its URL (a plain GET: the client's Range is not forwarded, as the original),
//! with the upstream's status, `Cache-Control: no-store` and its content headers.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::duet;
use crate::duet::body::{self, error};
use crate::error::AppError;
use crate::routes::rooms_shared::json_text;
use crate::state::AppState;

/// The query.
#[derive(Debug, Deserialize)]
pub struct SourceQuery {
    /// The replay access token.
    pub token: Option<String>,
}

/// Handler.
pub async fn source(
    State(state): State<AppState>,
    Query(query): Query<SourceQuery>,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let Some(token) = query.token.filter(|t| !t.is_empty()) else {
        return Ok(json_text(400, error("missing_replay_access_token")));
    };
    let Some(url) = duet.redeem_replay(&token).await? else {
        return Ok(json_text(401, error("invalid_or_expired_replay_token")));
    };
    if url.is_empty() {
        return Ok(json_text(500, error("invalid_replay_source")));
    }
    let upstream = match duet.http().get(&url).send().await {
        Ok(r) => r,
        Err(err) => {
            tracing::warn!(%err, "replay fetch failed");
            return Ok(json_text(
                502,
                body::Body::new()
                    .field("error", "replay_fetch_failed")
                    .field("status", 0)
                    .finish(),
            ));
        }
    };
    let status = upstream.status();
    if !status.is_success() {
        return Ok(json_text(
            502,
            body::Body::new()
                .field("error", "replay_fetch_failed")
                .field("status", status.as_u16())
                .finish(),
        ));
    }
    let copied = [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::ACCEPT_RANGES,
    ];
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for name in copied {
        if let Some(value) = upstream.headers().get(&name) {
            headers.insert(name, value.clone());
        }
    }
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
    let stream = Body::from_stream(upstream.bytes_stream());
    Ok((status, headers, stream).into_response())
}
