//! The HTTP surface: one file per route action (the table is in the crate doc).

pub mod auth_nonce;
pub mod auth_verify;
pub mod credits_balance;
pub mod credits_verify_celo;
pub mod duet;
pub mod extract;
pub mod health;
pub mod internal_room_apply;
pub mod not_implemented;
pub mod rooms_active;
pub mod rooms_create;
pub mod rooms_heartbeat;
pub mod rooms_join;
pub mod rooms_leave;
pub mod rooms_shared;
pub mod rooms_token_renew;
pub mod session_attest;
pub mod session_join;
pub mod session_leave;
pub mod songs_create;
pub mod songs_get;
pub mod songs_search;

use axum::Router;
use axum::routing::{any, get, post};

use crate::error::AppError;
use crate::state::AppState;
use extract::Session;

/// The voice-rooms routes (without the shared edge).
pub fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/health", get(health::health))
        .route("/auth/nonce", post(auth_nonce::issue_nonce))
        .route("/auth/verify", post(auth_verify::verify_signature))
        .route(
            "/credits",
            get(credits_balance::balance).fallback(credits_unknown),
        )
        .route(
            "/credits/verify-celo",
            post(credits_verify_celo::verify_celo).fallback(credits_unknown),
        )
        .route("/credits/{*rest}", any(credits_unknown))
        .route("/songs", post(songs_create::create_song))
        .route("/songs/search", get(songs_search::search))
        .route("/songs/{id}", get(songs_get::get_song))
        .route("/session/{id}/attest", post(session_attest::attest));
    let router = if state.rooms().is_some() {
        add_rooms(router)
            .route(
                "/internal/{family}/{room}/apply",
                post(internal_room_apply::apply_forwarded),
            )
            .route("/session/join", post(session_join::join_session))
            .route("/session/{id}/leave", post(session_leave::leave_session))
    } else {
        router
            .route("/session/join", any(not_implemented::not_implemented))
            .route("/session/{id}/leave", any(not_implemented::not_implemented))
    };
    let router = if state.duet().is_some() {
        duet::add_routes(router)
    } else {
        router
    };
    let served: Vec<&str> = [
        state.rooms().is_some().then_some("/rooms"),
        state.duet().is_some().then_some("/duet"),
    ]
    .into_iter()
    .flatten()
    .collect();
    not_implemented::add_fallbacks_except(router, &served)
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(state)
}

/// The free rooms. Any other path or method under `/rooms` checks the JWT first (401), then
/// is Hono's plain-text 404, as the original's middleware did; `GET /rooms/active` is public.
fn add_rooms(router: Router<AppState>) -> Router<AppState> {
    router
        .route(
            "/rooms/create",
            post(rooms_create::create_room).fallback(rooms_unknown),
        )
        .route(
            "/rooms/join",
            post(rooms_join::join_room).fallback(rooms_unknown),
        )
        .route(
            "/rooms/heartbeat",
            post(rooms_heartbeat::heartbeat).fallback(rooms_unknown),
        )
        .route(
            "/rooms/token/renew",
            post(rooms_token_renew::renew_token).fallback(rooms_unknown),
        )
        .route(
            "/rooms/leave",
            post(rooms_leave::leave_room).fallback(rooms_unknown),
        )
        .route(
            "/rooms/active",
            get(rooms_active::active_rooms).fallback(rooms_unknown),
        )
        .route("/rooms", any(rooms_unknown))
        .route("/rooms/{*rest}", any(rooms_unknown))
}

/// Any other path or method under `/rooms`: JWT first, then the plain-text 404.
async fn rooms_unknown(_: Session) -> AppError {
    AppError::NotFound
}

/// Any other path or method under `/credits`: the original's middleware checks the JWT before
/// Hono finds no route (401 JSON, else the plain-text 404).
async fn credits_unknown(_: Session) -> AppError {
    AppError::NotFound
}

/// Hono's plain-text `404 Not Found` (no 405 anywhere).
async fn not_found() -> AppError {
    AppError::NotFound
}
