//! The voice-agent worker: the original Cloudflare Worker's HTTP contract on axum.
//!
//! - Wallet login: `/auth/nonce` and `/auth/verify` (EIP-191 over a one-time nonce, HS256 JWT).
//! - Voice sessions: `/agent/start` and `/agent/{id}/stop` drive an Agora Conversational AI agent
//!   whose LLM is this worker's `/v1/chat/completions`, authenticated per session.
//! - Text chat: `/chat/send` and the server-sent-event stream `/chat/stream`.
//!
//! [`router`] returns the routes; the binary wraps them in `http_common::ServiceEdge`. State
//! lives in a [`portability::StateStore`] ([`sessions`]); third parties are in [`upstream`].

#![warn(missing_docs)]

pub mod auth;
pub mod chat;
pub mod config;
pub mod d1_import;
pub mod error;
pub mod ordered_json;
pub mod routes;
pub mod sessions;
pub mod sse;
pub mod state;
pub mod think_filter;
pub mod upstream;

pub use config::VoiceAgentConfig;
pub use error::AppError;
pub use state::AppState;

use std::sync::Arc;

use portability::StateStore;

/// The voice-agent routes over `store`, configured by `config` (no edge middleware).
pub fn router(config: VoiceAgentConfig, store: Arc<dyn StateStore>) -> axum::Router {
    routes::router(AppState::new(config, store))
}
