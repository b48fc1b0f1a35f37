//! The portability layer of the Heaven workers: traits behind which workers keep their state,
//! cache, schedules and media, and the adapters that implement them.
//!
//! Workers hold no state that matters except behind these traits, so a worker container can be
//! replaced at any time and each backend swapped by configuration (SQLite embedded by default;
//! Postgres and Redis when deployed). Every trait has one contract test suite (`tests/`) run
//! against every adapter.
//!
//! - [`StateStore`]: durable versioned records with compare-and-swap.
//! - [`CacheStore`]: expiring entries, negative entries, a shared rate-limit slot.
//! - [`Scheduler`]: interval / cron jobs whose last run survives restarts.
//! - [`RateLimit`]: events per window per key, shared by replicas through a [`CacheStore`].
//! - [`ContentAddressedBlobStore`]: contract here; its adapters (local disk, Load, Irys,
//!   Arweave, failover) are in the `blob_store` crate (workers/blob-store).
//! - [`SessionCoordinator`]: one writer per live room; adapters [`ActorCoordinator`] (one
//!   process) and [`LeasedCoordinator`] (replicas sharing a store, rooms leased to one each).
//! - [`ImageTransformer`]: decode, trim, fit, draw overlays, encode; adapter
//!   `RasterImageTransformer` on the `image` crate (feature `image-transformer`).
//!
//! [`Clock`] is the workers' time in seconds (settable in tests).
//!
//! Open stores from configuration with [`open_state_store`] and [`open_cache_store`].

pub mod adapters;
pub mod blob;
pub mod cache;
pub mod clock;
pub mod d1_dump;
pub mod error;
pub mod image;
pub mod open;
pub mod rate_limit;
pub mod scheduler;
pub mod session;
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;

pub use crate::image::{
    EncodedImage, Fit, ImageFormat, ImageInfo, ImageTransformer, Overlay, RgbaLayer,
    TransformRequest, Trim,
};
pub use adapters::{
    ActorCoordinator, Applied, LeasedCoordinator, PeerError, PeerTransport, PostgresStateStore,
    RedisCacheStore, ReplicaConfig, ReplicaRecord, RoomLease, RoomLogic, SqliteCacheStore,
    SqliteStateStore, TokioScheduler,
};
#[cfg(feature = "image-transformer")]
pub use adapters::{DEFAULT_MAX_PIXELS, RasterImageTransformer};
pub use blob::{
    Anchor, BlobHead, BlobStream, BlobTag, ContentAddressedBlobStore, FILE_NAME_TAG,
    LOAD_UPLOAD_FAILED, LOAD_UPLOAD_MISSING_ID, StoredBlob,
};
pub use cache::{CacheEntry, CacheStore};
pub use clock::Clock;
pub use error::{PortabilityError, Result};
pub use open::{REDIS_CACHE_PREFIX, open_cache_store, open_state_store};
pub use rate_limit::{Admission, RateLimit};
pub use scheduler::{Job, LastRun, Schedule, Scheduler, job, last_run_key};
pub use session::SessionCoordinator;
pub use state::{MAX_LIST_LIMIT, StateStore, StateStoreJsonExt, Versioned};
