//! api-core's HTTP surface on the local stack.
//!
//! `GET /health` answers like the original. The identity groups (`/api/claim`, `/api/names`,
//! `/api/wallet`, `/api/self`, `/api/likes`, `/api/candidates`) are answered by the identity
//! canister ([`identity`]): running natively in this process (the local stack), or the deployed
//! canister's `edge_request` through ic-agent when `ICP_IDENTITY_CANISTER_ID` is set.
//! `/api/music`, `/api/load`, `/api/arweave`, `/api/photos`, `/api/scrobble` and
//! `/api/study-sets` are the media worker's router (`media::router`; its routes not built yet
//! answer 501 themselves). The credits canister's outcall `POST /internal/anchor` (ADR 0025) is
//! served on the same origin by `blob_store::anchor_service`. Unknown paths, wrong methods and
//! trailing slashes are 404 `{"error":"Not found"}` as in the original.

pub mod identity;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get};
use http_common::json_error;

use blob_store::anchor_service::AnchorService;
use identity::IdentityBackend;

/// Route groups the identity canister answers (everything under them too).
pub const IDENTITY_GROUPS: [&str; 6] = [
    "/api/claim",
    "/api/names",
    "/api/wallet",
    "/api/self",
    "/api/likes",
    "/api/candidates",
];

/// Route groups the media worker answers (`media`: routes it does not have are 404).
pub const MEDIA_GROUPS: [&str; 6] = [
    "/api/music",
    "/api/load",
    "/api/arweave",
    "/api/photos",
    "/api/scrobble",
    "/api/study-sets",
];

/// The api-core routes (without the shared edge): the identity groups, the media worker's
/// `media`, and the credits canister's `POST /internal/anchor` outcall (`anchor`: `None`
/// answers it 500 "not configured").
pub fn router(identity: IdentityBackend, media: Router, anchor: Option<AnchorService>) -> Router {
    let mut router = Router::new().route("/health", get(health));
    for group in IDENTITY_GROUPS {
        router = router
            .route(group, any(identity::forward))
            .route(&format!("{group}/{{*rest}}"), any(identity::forward));
    }
    router
        .with_state(identity)
        .merge(media)
        .merge(blob_store::anchor_service::router(anchor))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "ok": true }))
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "Not found")
}

#[cfg(test)]
mod tests;
