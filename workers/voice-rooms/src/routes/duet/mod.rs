//! The `/duet/*` routes (contract §1.6), one file per action. Each checks the caller the way
//! the original's route did, forwards to the room's actor (or the payment path) and answers the
//! room's status and body verbatim with its payment headers; the discovery index is updated
//! after a 2xx, best effort (a failure is logged, never answered).

pub mod bridge_token;
pub mod broadcast_heartbeat;
pub mod create;
pub mod discover;
pub mod end;
pub mod enter;
pub mod guest_accept;
pub mod guest_remove;
pub mod guest_start;
pub mod pages;
pub mod public_enter;
pub mod public_info;
pub mod recording_complete;
pub mod replay;
pub mod replay_source;
pub mod segments_start;
pub mod start;

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};

use super::rooms_shared::json_text;
use crate::duet::entry::Reply;
use crate::duet::{DuetAnswer, DuetRooms};
use crate::error::AppError;
use crate::state::AppState;

/// Adds the 19 duet routes.
pub fn add_routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/duet/create", post(create::create))
        .route("/duet/discover", get(discover::discover))
        .route("/duet/{id}/guest/accept", post(guest_accept::accept))
        .route("/duet/{id}/guest/start", post(guest_start::start))
        .route("/duet/{id}/guest/remove", post(guest_remove::remove))
        .route("/duet/{id}/start", post(start::start))
        .route("/duet/{id}/end", post(end::end))
        .route("/duet/{id}/segments/start", post(segments_start::start))
        .route("/duet/{id}/bridge/token", post(bridge_token::token))
        .route(
            "/duet/{id}/broadcast/heartbeat",
            post(broadcast_heartbeat::heartbeat),
        )
        .route(
            "/duet/{id}/recording/complete",
            post(recording_complete::complete),
        )
        .route("/duet/{id}/public-info", get(public_info::public_info))
        .route("/duet/{id}/enter", post(enter::enter))
        .route("/duet/{id}/public-enter", post(public_enter::public_enter))
        .route("/duet/{id}/replay", get(replay::replay))
        .route("/duet/{id}/replay/source", get(replay_source::source))
        .route("/duet/{id}/watch", get(pages::watch))
        .route("/duet/{id}/broadcast", get(pages::broadcast))
        .route("/duet/{id}/guest/broadcast", get(pages::guest_broadcast))
}

/// The duet rooms (the routes are only mounted when they exist).
pub fn duet(state: &AppState) -> Result<&DuetRooms, AppError> {
    state.duet().ok_or(AppError::NotImplemented)
}

/// A room's answer as a response.
pub fn forward(answer: DuetAnswer) -> Response {
    json_text(answer.status, answer.body)
}

/// A payment path's answer, with its headers.
pub fn reply(reply: Reply) -> Response {
    let mut response = json_text(reply.status, reply.body);
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name_lower(name)), value);
        }
    }
    response
}

fn name_lower(name: &'static str) -> &'static str {
    match name {
        "PAYMENT-REQUIRED" => "payment-required",
        "PAYMENT-RESPONSE" => "payment-response",
        _ => "x-unknown",
    }
}

/// `Authorization: Bearer <token>` trimmed, if non-empty (bridge tickets).
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The wallet of a valid session JWT, if the header carries one (`None` for no header,
/// another scheme or an invalid token).
pub fn optional_wallet(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    state
        .tokens()
        .verify(token, state.now())
        .ok()
        .map(|sub| sub.to_lowercase())
}

/// The `PAYMENT-SIGNATURE` header, if non-empty.
pub fn payment_signature(headers: &HeaderMap) -> Option<String> {
    headers
        .get("payment-signature")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Logs a failed index update (the original swallowed them too).
pub fn index_failed(room_id: &str, what: &str, err: impl std::fmt::Display) {
    tracing::warn!(room = %room_id, %err, "duet discovery index: {what} failed");
}
