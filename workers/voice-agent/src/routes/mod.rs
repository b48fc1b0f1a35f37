//! The HTTP surface: one file per route action, as the original's routes are named.
//!
//! | route | file |
//! |---|---|
//! | `POST /auth/nonce` | [`auth_nonce`] |
//! | `POST /auth/verify` | [`auth_verify`] |
//! | `POST /agent/start` | [`agent_start`] |
//! | `POST /agent/{id}/stop` | [`agent_stop`] |
//! | `POST /chat/send` | [`chat_send`] |
//! | `POST /chat/stream` | [`chat_stream`] |
//! | `POST /v1/chat/completions` | [`completions`] |
//! | `POST /webhook/agora` | [`webhook`] |
//! | `GET /health` | [`health`] (new: the original had none; the ops dashboard probes it) |
//!
//! Anything else is Hono's `404 Not Found` in plain text (wrong methods and trailing slashes
//! included).

pub mod agent_start;
pub mod agent_stop;
pub mod auth_nonce;
pub mod auth_verify;
pub mod chat_send;
pub mod chat_stream;
pub mod completions;
pub mod extract;
pub mod health;
pub mod webhook;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::plain_text;
use crate::state::AppState;

/// The voice-agent routes (without the shared edge).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/auth/nonce", post(auth_nonce::issue_nonce))
        .route("/auth/verify", post(auth_verify::verify_signature))
        .route("/agent/start", post(agent_start::start_agent))
        .route("/agent/{id}/stop", post(agent_stop::stop_agent))
        .route("/chat/send", post(chat_send::send_message))
        .route("/chat/stream", post(chat_stream::stream_message))
        .route("/v1/chat/completions", post(completions::complete))
        .route("/webhook/agora", post(webhook::agora_webhook))
        .route("/health", get(health::health))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    plain_text(StatusCode::NOT_FOUND, "404 Not Found")
}
