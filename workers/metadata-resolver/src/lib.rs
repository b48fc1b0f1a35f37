//! The metadata-resolver worker: the original Cloudflare Worker's MusicBrainz caching proxy on
//! axum, with the same routes, JSON, status codes and cache key scheme.
//!
//! - Lookups: `/recording`, `/artist` (with Wikimedia Commons / Wikidata images),
//!   `/release-group` (with the Cover Art Archive URL), `/search/artist`,
//!   `/resolve/spotify-artist`, `/resolve/batch`.
//! - `/rehost/image` and the background rehost copy images through the stack's
//!   [`portability::ContentAddressedBlobStore`] (Load in production) ([`rehost`]).
//! - Every MusicBrainz call waits for a turn on a limiter shared through the
//!   [`portability::CacheStore`] by all replicas and restarts ([`limiter`]).
//!
//! [`router`] returns the routes; the binary wraps them in `http_common::ServiceEdge`.

pub mod cache;
pub mod commons;
pub mod config;
pub mod coverart;
pub mod error;
pub mod js;
pub mod kv_import;
pub mod limiter;
pub mod musicbrainz;
pub mod rehost;
pub mod routes;
pub mod state;
pub mod wikidata;

use std::sync::Arc;
use std::time::Duration;

pub use config::ResolverConfig;
pub use error::AppError;
pub use state::AppState;

use http_common::BackgroundTasks;
use portability::{CacheStore, ContentAddressedBlobStore};

/// How long the edge should give a request: a 50-item batch waits up to 50 MusicBrainz turns.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(150);

/// The resolver routes over `cache`, configured by `config`, rehosting images to `blobs` in
/// `background` tasks (drained on shutdown); no edge middleware.
pub fn router(
    config: ResolverConfig,
    cache: Arc<dyn CacheStore>,
    blobs: Option<Arc<dyn ContentAddressedBlobStore>>,
    background: BackgroundTasks,
) -> axum::Router {
    routes::router(AppState::new(config, cache, blobs, background))
}
