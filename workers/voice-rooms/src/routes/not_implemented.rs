//! The original's routes this worker does not serve yet: one fallback per prefix, for the
//! prefix itself and every path and method under it, answering 501
//! `{"error":"not implemented"}` so a client sees a JSON answer it can tell from a 404.

use axum::Router;
use axum::routing::any;

use crate::error::AppError;
use crate::state::AppState;

/// Free rooms and duet rooms (`/session/join` and `/session/:id/leave` are routed to
/// [`not_implemented`] one by one).
pub const PREFIXES: [&str; 2] = ["/rooms", "/duet"];

/// Adds the 501 fallback of each of [`PREFIXES`] to `router`.
pub fn add_fallbacks(router: Router<AppState>) -> Router<AppState> {
    add_fallbacks_except(router, &[])
}

/// Adds the 501 fallback of each of [`PREFIXES`] but `served` to `router`.
pub fn add_fallbacks_except(router: Router<AppState>, served: &[&str]) -> Router<AppState> {
    PREFIXES
        .iter()
        .filter(|p| !served.contains(p))
        .fold(router, |router, prefix| {
            router
                .route(prefix, any(not_implemented))
                .route(&format!("{prefix}/{{*rest}}"), any(not_implemented))
        })
}

/// Handler.
pub async fn not_implemented() -> AppError {
    AppError::NotImplemented
}
