//! The application state handed to every handler: configuration, cache, the rate-limited
//! MusicBrainz client, HTTP clients for the other upstreams, and the blob store rehosting
//! writes to (the stack's shared store; absent without a Load API key, as in the original).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http_common::BackgroundTasks;
use portability::{CacheStore, ContentAddressedBlobStore};

use crate::cache::ResolverCache;
use crate::config::ResolverConfig;
use crate::limiter::MbLimiter;
use crate::musicbrainz::MusicBrainz;

/// Shared, cheaply cloned state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ResolverConfig,
    cache: ResolverCache,
    musicbrainz: MusicBrainz,
    limiter: Arc<MbLimiter>,
    http: reqwest::Client,
    images: reqwest::Client,
    blobs: Option<Arc<dyn ContentAddressedBlobStore>>,
    background: BackgroundTasks,
    rehosts_in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl AppState {
    /// State over `cache`, rehosting into `blobs`. Rehosting is on only when `blobs` is given
    /// and `LOAD_S3_AGENT_API_KEY` is set, as the original required the key; otherwise
    /// `/rehost/image` answers the original's 500.
    pub fn new(
        config: ResolverConfig,
        cache: Arc<dyn CacheStore>,
        blobs: Option<Arc<dyn ContentAddressedBlobStore>>,
        background: BackgroundTasks,
    ) -> Self {
        let blobs = blobs.filter(|_| config.load.api_key.is_some());
        let limiter = Arc::new(MbLimiter::new(cache.clone(), &config.limiter));
        let musicbrainz = MusicBrainz::new(&config, limiter.clone());
        let http = reqwest::Client::builder().build().unwrap_or_default();
        let images = reqwest::Client::builder()
            .timeout(config.image_timeout)
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                cache: ResolverCache::new(cache),
                musicbrainz,
                limiter,
                http,
                images,
                blobs,
                background,
                rehosts_in_flight: Mutex::new(HashMap::new()),
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ResolverConfig {
        &self.inner.config
    }
    /// The cache with the original's key scheme.
    pub fn cache(&self) -> &ResolverCache {
        &self.inner.cache
    }
    /// The rate-limited MusicBrainz client.
    pub fn musicbrainz(&self) -> &MusicBrainz {
        &self.inner.musicbrainz
    }
    /// The MusicBrainz limiter (its queue length is useful in tests and logs).
    pub fn limiter(&self) -> &MbLimiter {
        &self.inner.limiter
    }
    /// Client for Commons and Wikidata.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }
    /// Client for image downloads (15 s timeout, redirects followed).
    pub fn images(&self) -> &reqwest::Client {
        &self.inner.images
    }
    /// The rehost target, if configured.
    pub fn blobs(&self) -> Option<&Arc<dyn ContentAddressedBlobStore>> {
        self.inner.blobs.as_ref()
    }

    /// Background rehosts started by lookups, drained on shutdown.
    pub fn background(&self) -> &BackgroundTasks {
        &self.inner.background
    }

    /// A per-URL-hash lock so concurrent rehosts of one URL download it once.
    pub(crate) fn rehost_lock(&self, hash: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .inner
            .rehosts_in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        map.entry(hash.to_owned()).or_default().clone()
    }
}
