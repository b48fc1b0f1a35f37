//! The photo pipeline (contracts/api-core.md §5): sanitized originals, anime tiles and
//! per-viewer watermarked reveals, over the stack's [`portability::ImageTransformer`].
//!
//! - [`PhotoService`]: what the photo routes share (records, hot object store, transformer,
//!   blob store for the public tiles, fal, the watermark face).
//! - [`pipeline`]: the job behind `POST /api/photos/pipeline` — upload → fal → split → done,
//!   each step a compare-and-set under a run lease, resumed by [`pipeline::sweep`] after a
//!   kill.
//! - [`auth`] (ADR 0032), [`fingerprint`], [`watermark`], [`fal`], [`model`], [`store`].

pub mod auth;
pub mod config;
pub mod fal;
pub mod fingerprint;
pub mod model;
pub mod pipeline;
pub mod store;
pub mod watermark;

use std::sync::Arc;

use axum::http::StatusCode;
use blob_store::HotStore;
use futures_util::StreamExt;
use portability::{
    Clock, ContentAddressedBlobStore, ImageTransformer, PortabilityError, StateStore,
};

pub use config::PhotosConfig;

use crate::error::{Fields, MediaError};
use fal::FalClient;
use store::PhotoStore;
use watermark::{Typeface, WatermarkError};

/// The original's photo error body: `{"success": false, "error": message}`.
pub fn photo_error(status: StatusCode, message: &str) -> MediaError {
    let mut error = MediaError::new(status, message);
    error.body = Fields::default()
        .with("success", false)
        .with("error", message);
    error
}

/// What the photo pipeline is built on, opened by the binary.
#[derive(Clone)]
pub struct PhotoResources {
    /// Intermediates: `raw/`, `orig/`, `anime/grid/`, `wm/`, `reveal/` (§5.4).
    pub hot: HotStore,
    /// Decoding, fitting, compositing, encoding.
    pub images: Arc<dyn ImageTransformer>,
}

struct Inner {
    config: PhotosConfig,
    hot: HotStore,
    images: Arc<dyn ImageTransformer>,
    blobs: Arc<dyn ContentAddressedBlobStore>,
    store: PhotoStore,
    face: Typeface,
    fal: Option<FalClient>,
    clock: Clock,
}

/// The photo routes' shared state; cheap to clone.
#[derive(Clone)]
pub struct PhotoService(Arc<Inner>);

impl std::fmt::Debug for PhotoService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotoService")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl PhotoService {
    /// The service over `resources`, its records in `state`, tiles in `blobs`.
    pub fn new(
        config: PhotosConfig,
        resources: PhotoResources,
        state: Arc<dyn StateStore>,
        blobs: Arc<dyn ContentAddressedBlobStore>,
        clock: Clock,
    ) -> Result<Self, WatermarkError> {
        let fal = config
            .fal_key
            .as_deref()
            .map(|key| FalClient::new(&config.fal_queue_url, key));
        Ok(Self(Arc::new(Inner {
            face: Typeface::roboto_mono_bold()?,
            store: PhotoStore::new(state),
            hot: resources.hot,
            images: resources.images,
            blobs,
            fal,
            clock,
            config,
        })))
    }

    /// The configuration.
    pub fn config(&self) -> &PhotosConfig {
        &self.0.config
    }

    /// The records.
    pub fn store(&self) -> &PhotoStore {
        &self.0.store
    }

    /// The hot object store.
    pub fn hot(&self) -> &HotStore {
        &self.0.hot
    }

    /// The transformer.
    pub fn images(&self) -> &Arc<dyn ImageTransformer> {
        &self.0.images
    }

    /// The blob store (public tiles).
    pub fn blobs(&self) -> &Arc<dyn ContentAddressedBlobStore> {
        &self.0.blobs
    }

    /// The watermark face.
    pub fn face(&self) -> &Typeface {
        &self.0.face
    }

    /// fal, when `FAL_KEY` is set.
    pub fn fal(&self) -> Option<&FalClient> {
        self.0.fal.as_ref()
    }

    /// Now, in seconds.
    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    /// The whole object at `key` of the hot store; `Ok(None)` when there is none.
    pub async fn read_hot(&self, key: &str) -> Result<Option<Vec<u8>>, PortabilityError> {
        let mut stream = match self.0.hot.get(key).await {
            Ok(stream) => stream,
            Err(PortabilityError::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(err),
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(Some(bytes))
    }
}
