//! The media worker: api-core's `/api/music` publish pipeline, the `/api/load` passthrough,
//! the `/api/arweave` cover upload and `/api/scrobble`, on axum (contracts/api-core.md §1.6,
//! §1.9–§1.12, §6; the two study-set generate routes answer 501 until they are built).
//!
//! - [`router`] returns the routes (no edge middleware; `heaven` mounts them on the api
//!   service's origin). One file per action under [`routes`].
//! - Publish jobs are records in the [`portability::StateStore`] ([`jobs`]): explicit states,
//!   every transition a compare-and-set, the idempotency key reserved before the upload, and a
//!   lease on the in-progress states so a job whose worker died is resumed or released
//!   ([`jobs::lease`], ADR 0027).
//! - Bytes go only through the stack's [`portability::ContentAddressedBlobStore`] (stage = put,
//!   anchor = anchor); request bodies are streamed to a spool file with their limit enforced
//!   while reading ([`upload`]).
//! - The photo pipeline (`/api/photos`, §5): [`photos`] and `routes::photos`, over the
//!   [`portability::ImageTransformer`], the hot object store and the blob store; its jobs are
//!   resumed by the `media/photo-sweep` job.
//! - Chain writes (Tempo finalize, Story register) are built and signed by the identity
//!   canister's publishing signer through [`canister_bridge::PublishingClient`]; this worker
//!   holds no key ([`jobs::registering`], ADR 0028, 0029).
//! - Who may publish: the identity canister's `identity_of` through
//!   [`canister_bridge::IdentityClient`], and the upload bans in the store ([`access`]).

#![warn(missing_docs)]

pub mod access;
pub mod bans;
pub mod config;
pub mod d1_import;
pub mod error;
pub mod jobs;
pub mod js_value;
pub mod photos;
pub mod routes;
pub mod scrobble;
pub mod state;
pub mod study_sets;
pub mod upload;

pub use config::MediaConfig;
pub use error::MediaError;
pub use portability::Clock;
pub use state::{MediaResources, MediaState};

use std::time::Duration;

use portability::{Job, Schedule};

/// The media routes (`/api/music/*`, `/api/load/*`, `/api/arweave/*`, `/api/photos/*`,
/// `/api/scrobble/*`, `/api/study-sets/*`) over `state`.
pub fn router(state: MediaState) -> axum::Router {
    routes::router(state)
}

/// Time the api service's edge allows a request to produce its answer: a 500 MiB passthrough
/// upload and a 50 MiB audio staged to Load take minutes, not the edge's default 30 s.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The periodic jobs of the worker (name, schedule, job), for the binary's scheduler: jobs
/// whose in-progress lease expired (their worker died) are resumed or released every
/// [`MediaConfig::sweep_every`].
pub fn scheduled_jobs(state: MediaState) -> Vec<(&'static str, Schedule, Job)> {
    let every = state.config().sweep_every;
    let state_photos = state.photos().cloned();
    let sweep = portability::job(move || {
        let state = state.clone();
        async move {
            let outcome = jobs::recovery::sweep(&state)
                .await
                .map_err(|e| e.to_string())?;
            if outcome.touched() > 0 {
                tracing::info!(
                    resumed = outcome.resumed,
                    released = outcome.released,
                    "music publish jobs with expired leases recovered"
                );
            }
            Ok(())
        }
    });
    let mut jobs = vec![("media/lease-sweep", Schedule::Every(every), sweep)];
    if let Some(service) = state_photos {
        let photo_sweep = portability::job(move || {
            let service = service.clone();
            async move {
                let started = photos::pipeline::sweep(&service)
                    .await
                    .map_err(|e| e.to_string())?;
                if started > 0 {
                    tracing::info!(started, "photo pipeline jobs resumed");
                }
                Ok(())
            }
        });
        jobs.push(("media/photo-sweep", Schedule::Every(every), photo_sweep));
    }
    jobs
}
