//! Implementations of the portability traits on concrete backends.
//!
//! | trait | adapters |
//! |---|---|
//! | [`StateStore`](crate::StateStore) | [`SqliteStateStore`], [`PostgresStateStore`] |
//! | [`CacheStore`](crate::CacheStore) | [`SqliteCacheStore`], [`RedisCacheStore`] |
//! | [`Scheduler`](crate::Scheduler) | [`TokioScheduler`] |
//! | [`SessionCoordinator`](crate::SessionCoordinator) | [`ActorCoordinator`] (one tokio task per room, over a [`StateStore`](crate::StateStore)) |
//! | [`ImageTransformer`](crate::ImageTransformer) | `RasterImageTransformer` (feature `image-transformer`) |
//!
//! Pick one from a URL with [`open_state_store`](crate::open_state_store) and
//! [`open_cache_store`](crate::open_cache_store).

mod actor_coordinator;
mod leased_coordinator;
mod postgres_state;
#[cfg(feature = "image-transformer")]
mod raster_image;
mod redis_cache;
mod sql_state;
mod sqlite_cache;
mod sqlite_pool;
mod sqlite_state;
mod tokio_scheduler;

pub use actor_coordinator::{ActorCoordinator, Applied, RoomLogic};
pub use leased_coordinator::{
    LeasedCoordinator, PeerError, PeerTransport, ReplicaConfig, ReplicaRecord, RoomLease,
};
pub use postgres_state::PostgresStateStore;
#[cfg(feature = "image-transformer")]
pub use raster_image::{DEFAULT_MAX_PIXELS, RasterImageTransformer};
pub use redis_cache::RedisCacheStore;
pub use sqlite_cache::SqliteCacheStore;
pub use sqlite_state::SqliteStateStore;
pub use tokio_scheduler::TokioScheduler;
