//! Implementations of the portability traits on concrete backends.
//!
//! | trait | adapters |
//! |---|---|
//! | [`StateStore`](crate::StateStore) | [`SqliteStateStore`], [`PostgresStateStore`] |
//! | [`CacheStore`](crate::CacheStore) | [`SqliteCacheStore`], [`RedisCacheStore`] |
//! | [`Scheduler`](crate::Scheduler) | [`TokioScheduler`] |
//!
//! Pick one from a URL with [`open_state_store`](crate::open_state_store) and
//! [`open_cache_store`](crate::open_cache_store).

mod postgres_state;
mod redis_cache;
mod sql_state;
mod sqlite_cache;
mod sqlite_pool;
mod sqlite_state;
mod tokio_scheduler;

pub use postgres_state::PostgresStateStore;
pub use redis_cache::RedisCacheStore;
pub use sqlite_cache::SqliteCacheStore;
pub use sqlite_state::SqliteStateStore;
pub use tokio_scheduler::TokioScheduler;
