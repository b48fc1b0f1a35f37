//! The voice-rooms worker: voice-control-plane's HTTP contract on axum
//! (`../shared/contracts/voice-control-plane.md`).
//!
//! Built so far:
//!
//! | route | auth | file |
//! |---|---|---|
//! | `GET /health` | none | [`routes::health`] |
//! | `POST /auth/nonce` | none | [`routes::auth_nonce`] |
//! | `POST /auth/verify` | none | [`routes::auth_verify`] |
//! | `GET /credits` | JWT | [`routes::credits_balance`] |
//! | `POST /credits/verify-celo` | JWT | [`routes::credits_verify_celo`] |
//! | `GET /songs/search?q=` | none | [`routes::songs_search`] |
//! | `GET /songs/:id` | none | [`routes::songs_get`] |
//! | `POST /songs` | Admin | [`routes::songs_create`] |
//! | `POST /session/:id/attest` | Service | [`routes::session_attest`] |
//! | `POST /rooms/create` | JWT | [`routes::rooms_create`] |
//! | `POST /rooms/join` | JWT | [`routes::rooms_join`] |
//! | `POST /rooms/heartbeat` | JWT | [`routes::rooms_heartbeat`] |
//! | `POST /rooms/token/renew` | JWT | [`routes::rooms_token_renew`] |
//! | `POST /rooms/leave` | JWT | [`routes::rooms_leave`] |
//! | `GET /rooms/active` | none | [`routes::rooms_active`] |
//! | `POST /session/join` | JWT | [`routes::session_join`] |
//! | `POST /session/:id/leave` | JWT | [`routes::session_leave`] |
//!
//! The `/rooms` and `/session/join|:id/leave` routes are served when the binary hands in
//! [`rooms::Rooms`] ([`router_with_rooms`]; booked sessions read the escrow through
//! [`escrow::EscrowReads`]); with [`router`] they answer 501 like the rest.
//!
//! The 19 duet routes (`/duet/create`, `/duet/discover`, `/duet/:id/…`: guest accept, start
//! and remove, start, end, segments/start, bridge/token, broadcast/heartbeat, enter,
//! public-info, public-enter, watch, broadcast, guest/broadcast, recording/complete, replay,
//! replay/source; [`routes::duet`]) are served when the binary hands in [`duet::DuetRooms`]
//! ([`router_with_duet`]): one actor per room over the same coordinator, payments through
//! the x402 facilitator and the credits canister's settlement markers (ADR 0023). Without it
//! every path under `/duet` answers 501 `{"error":"not implemented"}`, whatever the method,
//! through one fallback per prefix ([`routes::not_implemented`]). Other paths under `/songs`
//! and `/session` are the plain-text 404.
//!
//! Any other path under `/credits` runs the JWT check first, as the original's middleware does
//! (401 `{"error":"unauthorized"}`, else Hono's plain-text `404 Not Found`); any other path at
//! all is that plain-text 404 (wrong methods included: Hono has no 405).
//!
//! [`router`] returns the routes; the binary wraps them in `http_common::ServiceEdge` with
//! `CorsPolicy::voice_rooms()`. Login nonces live in a [`portability::StateStore`]
//! ([`auth::NonceBook`]); money state is the credits canister's, reached through
//! [`CreditsClient`]. The songs registry is the `song_registry` table ([`songs::SongRegistry`]),
//! in the state store's database in the local stack. `heaven migrate rooms-import` writes the
//! original's `rooms`, `room_participants` and `song_registry` rows through
//! [`rooms::import`] (one transaction, existing ids replaced; active rooms arrive closed).

#![warn(missing_docs)]

pub mod auth;
pub mod chain;
pub mod config;
pub mod credits;
pub mod duet;
pub mod error;
pub mod escrow;
pub mod rooms;
pub mod routes;
pub mod songs;
pub mod state;

pub use config::VoiceRoomsConfig;
pub use credits::{
    AttestOutcome, CeloOutcome, CreditAlert, CreditBalance, CreditsClient, CreditsError,
    EnsuredCredits, MeterRefused, MeterRequest, Metered, PresenceChange,
};
pub use error::AppError;
pub use state::{AppState, Clock, Resources};

use std::sync::Arc;
use std::time::Duration;

use portability::{Job, Schedule, StateStore};

/// The voice-rooms routes over `resources`, configured by `config` (no edge middleware).
pub fn router(config: VoiceRoomsConfig, resources: Resources) -> axum::Router {
    routes::router(AppState::new(config, resources))
}

/// The voice-rooms routes with the free rooms (`/rooms/*`) and the booked sessions
/// (`/session/join`, `/session/:id/leave`) served by `rooms`, the escrow read as `config` says.
pub fn router_with_rooms(
    config: VoiceRoomsConfig,
    resources: Resources,
    rooms: rooms::Rooms,
) -> axum::Router {
    routes::router(AppState::with_rooms(config, resources, Some(rooms)))
}

/// [`router_with_rooms`] with the escrow reads handed in.
pub fn router_with_escrow(
    config: VoiceRoomsConfig,
    resources: Resources,
    rooms: rooms::Rooms,
    escrow: std::sync::Arc<dyn escrow::EscrowReads>,
) -> axum::Router {
    routes::router(AppState::with_escrow(
        config,
        resources,
        Some(rooms),
        escrow,
    ))
}

/// The voice-rooms routes with the free rooms and booked sessions served by `rooms` (when
/// given) and the duet rooms (`/duet/*`) served by `duet`.
pub fn router_with_duet(
    config: VoiceRoomsConfig,
    resources: Resources,
    rooms: Option<rooms::Rooms>,
    duet: duet::DuetRooms,
) -> axum::Router {
    routes::router(AppState::with_rooms(config, resources, rooms).with_duet(duet))
}

/// How often expired login nonces are deleted.
pub const NONCE_SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);

/// The periodic jobs the service needs (name, schedule, job), for the binary's scheduler:
/// login nonces older than [`auth::NONCE_TTL_SECONDS`] are deleted every
/// [`NONCE_SWEEP_EVERY`] (the original only deleted a wallet's old nonces when that wallet
/// asked for a new one).
pub fn scheduled_jobs(
    store: Arc<dyn StateStore>,
    clock: Clock,
) -> Vec<(&'static str, Schedule, Job)> {
    let book = auth::NonceBook::new(store);
    let sweep = portability::job(move || {
        let book = book.clone();
        let now = clock.now();
        async move {
            let removed = book.sweep_expired(now).await.map_err(|e| e.to_string())?;
            if removed > 0 {
                tracing::info!(removed, "expired voice-rooms login nonces deleted");
            }
            Ok(())
        }
    });
    vec![(
        "voice-rooms/nonce-sweep",
        Schedule::Every(NONCE_SWEEP_EVERY),
        sweep,
    )]
}
