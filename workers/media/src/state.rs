//! [`MediaState`]: what every media handler reads, opened once by the binary.

use std::sync::Arc;

use canister_bridge::{IdentityClient, PublishingClient};
use portability::{ContentAddressedBlobStore, StateStore};

use crate::bans::BanStore;
use crate::config::MediaConfig;
use crate::jobs::idempotency::Idempotency;
use crate::jobs::store::JobStore;
use crate::photos::PhotoService;
use crate::scrobble::resolve::Lookups;
use crate::scrobble::store::ScrobbleStore;
use crate::study_sets::StudySets;
use portability::Clock;

/// The shared resources the media worker is built on.
#[derive(Clone)]
pub struct MediaResources {
    /// Jobs, reservations, bans (SQLite locally, Postgres deployed).
    pub state: Arc<dyn StateStore>,
    /// The stack's blob store: stage = `put`, anchor = `anchor`.
    pub blobs: Arc<dyn ContentAddressedBlobStore>,
    /// The identity canister (Self verification of the uploader).
    pub identity: Arc<dyn IdentityClient>,
    /// The publishing signer (the identity canister's threshold-ECDSA roles) that builds and
    /// signs finalize and register transactions; `None` answers those routes' "not
    /// configured" 500 (ADR 0028, 0029).
    pub publishing: Option<Arc<dyn PublishingClient>>,
    /// Scrobble track lookups (MusicBrainz through the metadata-resolver's shared limiter,
    /// AcoustID); `None` normalizes only, as the original without its KV binding.
    pub scrobble_lookups: Option<Arc<Lookups>>,
    /// Now, in seconds.
    pub clock: Clock,
}

struct Inner {
    config: MediaConfig,
    resources: MediaResources,
    jobs: JobStore,
    idempotency: Idempotency,
    bans: BanStore,
    scrobbles: ScrobbleStore,
    study_sets: StudySets,
    http: reqwest::Client,
    photos: Option<PhotoService>,
}

/// The handlers' state; cheap to clone.
#[derive(Clone)]
pub struct MediaState(Arc<Inner>);

impl std::fmt::Debug for MediaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaState")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl MediaState {
    /// The state over `resources`, configured by `config`.
    pub fn new(config: MediaConfig, resources: MediaResources) -> Self {
        Self::build(config, resources, None)
    }

    /// The state with the photo pipeline (`/api/photos/*`; without it those routes answer 501).
    pub fn with_photos(
        config: MediaConfig,
        resources: MediaResources,
        photos: PhotoService,
    ) -> Self {
        Self::build(config, resources, Some(photos))
    }

    fn build(config: MediaConfig, resources: MediaResources, photos: Option<PhotoService>) -> Self {
        let jobs = JobStore::new(resources.state.clone());
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self(Arc::new(Inner {
            idempotency: Idempotency::new(jobs.clone()),
            bans: BanStore::new(resources.state.clone()),
            scrobbles: ScrobbleStore::new(resources.state.clone()),
            study_sets: StudySets::new(config.study_sets.clone()),
            jobs,
            config,
            resources,
            http,
            photos,
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &MediaConfig {
        &self.0.config
    }

    /// The jobs.
    pub fn jobs(&self) -> &JobStore {
        &self.0.jobs
    }

    /// The idempotency reservations.
    pub fn idempotency(&self) -> &Idempotency {
        &self.0.idempotency
    }

    /// The upload bans.
    pub fn bans(&self) -> &BanStore {
        &self.0.bans
    }

    /// The blob store.
    pub fn blobs(&self) -> &Arc<dyn ContentAddressedBlobStore> {
        &self.0.resources.blobs
    }

    /// The identity canister client.
    pub fn identity(&self) -> &Arc<dyn IdentityClient> {
        &self.0.resources.identity
    }

    /// Scrobble batches and track events.
    pub fn scrobbles(&self) -> &ScrobbleStore {
        &self.0.scrobbles
    }

    /// Study-set reads.
    pub fn study_sets(&self) -> &StudySets {
        &self.0.study_sets
    }

    /// Scrobble track lookups, if configured.
    pub fn scrobble_lookups(&self) -> Option<&Lookups> {
        self.0.resources.scrobble_lookups.as_deref()
    }

    /// The publishing signer, if the stack has one.
    pub fn publishing(&self) -> Option<&Arc<dyn PublishingClient>> {
        self.0.resources.publishing.as_ref()
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.0.resources.clock
    }

    /// Now, in seconds.
    pub fn now(&self) -> i64 {
        self.0.resources.clock.now()
    }

    /// Lease length in seconds.
    pub fn lease_secs(&self) -> i64 {
        self.0.config.lease.as_secs().max(1) as i64
    }

    /// The photo pipeline, when configured.
    pub fn photos(&self) -> Option<&PhotoService> {
        self.0.photos.as_ref()
    }

    /// The HTTP client of the Load health probe.
    pub fn http(&self) -> &reqwest::Client {
        &self.0.http
    }
}
