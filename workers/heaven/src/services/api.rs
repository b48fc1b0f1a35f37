//! api-core's HTTP surface on the local stack.
//!
//! `GET /health` answers like the original. The route groups the original mounts exist so that
//! clients get an honest 501 (not a misleading 404) until their issue moves them here; unknown
//! paths, wrong methods and trailing slashes are 404 `{"error":"Not found"}` as in the original.

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get};
use http_common::json_error;

/// Route groups api-core mounts (contracts/api-core.md §0.1), none moved yet.
pub const PENDING_GROUPS: [&str; 11] = [
    "/api/candidates",
    "/api/likes",
    "/api/claim",
    "/api/names",
    "/api/scrobble",
    "/api/self",
    "/api/wallet",
    "/api/load",
    "/api/arweave",
    "/api/music",
    "/api/study-sets",
];

/// The api-core routes (without the shared edge).
pub fn router() -> Router {
    let mut router = Router::new().route("/health", get(health));
    for group in PENDING_GROUPS {
        router = router
            .route(group, any(not_implemented))
            .route(&format!("{group}/{{*rest}}"), any(not_implemented));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "ok": true }))
}

async fn not_implemented() -> Response {
    json_error(StatusCode::NOT_IMPLEMENTED, "Not implemented")
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "Not found")
}

#[cfg(test)]
mod tests;
