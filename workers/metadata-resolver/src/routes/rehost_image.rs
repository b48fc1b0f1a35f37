//! `POST /rehost/image`: `{urls:[...]}` (1 to 50 `https://` strings) copied to Load one after
//! another; each result says where the copy is, or why it failed (the status stays 200).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::ok_json;
use crate::error::{AppError, AppResult};
use crate::rehost::{RehostResult, rehost_one};
use crate::state::AppState;

#[derive(Serialize)]
struct Answer {
    results: Vec<RehostResult>,
}

/// Checks the configuration and the body, then rehosts each URL in order.
pub(super) async fn handler(State(state): State<AppState>, body: Bytes) -> AppResult<Response> {
    if state.blobs().is_none() {
        return Err(AppError::LoadNotConfigured);
    }
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| AppError::bad_request("invalid JSON body"))?;
    let Some(urls) = body
        .get("urls")
        .and_then(|u| u.as_array())
        .filter(|u| !u.is_empty())
    else {
        return Err(AppError::bad_request("urls array required"));
    };
    if urls.len() > 50 {
        return Err(AppError::bad_request("max 50 URLs per batch"));
    }
    let urls: Vec<&str> = urls
        .iter()
        .map(|u| u.as_str().filter(|u| u.starts_with("https://")))
        .collect::<Option<_>>()
        .ok_or_else(|| AppError::bad_request("all URLs must be HTTPS strings"))?;
    let mut results = Vec::with_capacity(urls.len());
    for url in urls {
        results.push(rehost_one(&state, url).await);
    }
    Ok(ok_json(
        serde_json::to_vec(&Answer { results }).unwrap_or_default(),
    ))
}
