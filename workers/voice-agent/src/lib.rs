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
pub mod routes;
pub mod sessions;
pub mod sse;
pub mod state;
pub mod think_filter;
pub mod upstream;

pub use config::VoiceAgentConfig;
pub use error::AppError;
pub use state::{AppState, Resources};

use std::sync::Arc;
use std::time::Duration;

use portability::{Job, Schedule, StateStore};

/// The voice-agent routes over `resources`, configured by `config` (no edge middleware).
pub fn router(config: VoiceAgentConfig, resources: Resources) -> axum::Router {
    routes::router(AppState::new(config, resources))
}

/// How often expired login nonces are deleted.
pub const NONCE_SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);

/// The periodic jobs the service needs (name, schedule, job), for the binary's scheduler:
/// expired login nonces are deleted every [`NONCE_SWEEP_EVERY`], not only when a verify
/// happens to read them.
pub fn scheduled_jobs(store: Arc<dyn StateStore>) -> Vec<(&'static str, Schedule, Job)> {
    let book = sessions::SessionBook::new(store);
    let sweep = portability::job(move || {
        let book = book.clone();
        async move {
            let removed = book
                .sweep_expired_nonces(state::now_ms())
                .await
                .map_err(|e| e.to_string())?;
            if removed > 0 {
                tracing::info!(removed, "expired voice-agent login nonces deleted");
            }
            Ok(())
        }
    });
    vec![(
        "voice-agent/nonce-sweep",
        Schedule::Every(NONCE_SWEEP_EVERY),
        sweep,
    )]
}
