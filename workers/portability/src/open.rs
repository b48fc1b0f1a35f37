//! Opening a store from a URL, so binaries choose backends by configuration.
//!
//! | URL | state store | cache store |
//! |---|---|---|
//! | `sqlite://<path>` (optionally `?mode=rwc`) | [`SqliteStateStore`] | [`SqliteCacheStore`] |
//! | `sqlite::memory:` | [`SqliteStateStore`] | [`SqliteCacheStore`] |
//! | `postgres://...`, `postgresql://...` | [`PostgresStateStore`] | - |
//! | `redis://...`, `rediss://...` | - | [`RedisCacheStore`] (prefix [`REDIS_CACHE_PREFIX`]) |
//!
//! `sqlite://data/heaven.db` is relative to the working directory, `sqlite:///var/lib/x.db`
//! absolute; the file and its parent directory are created if missing.

use std::path::PathBuf;
use std::sync::Arc;

use crate::adapters::{PostgresStateStore, RedisCacheStore, SqliteCacheStore, SqliteStateStore};
use crate::cache::CacheStore;
use crate::error::{PortabilityError, Result};
use crate::state::StateStore;

/// The key prefix of the Redis cache opened by [`open_cache_store`].
pub const REDIS_CACHE_PREFIX: &str = "heaven:cache:";

/// A backend named by a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BackendUrl {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres,
    Redis,
}

/// Which stores a URL is being parsed for (for error messages).
#[derive(Debug, Clone, Copy)]
enum StoreKind {
    State,
    Cache,
}

impl StoreKind {
    fn describe(self) -> &'static str {
        match self {
            Self::State => {
                "state store (sqlite://<path>, sqlite::memory:, postgres://, postgresql://)"
            }
            Self::Cache => "cache store (sqlite://<path>, sqlite::memory:, redis://, rediss://)",
        }
    }
}

fn parse_backend_url(url: &str, kind: StoreKind) -> Result<BackendUrl> {
    if url == "sqlite::memory:" {
        return Ok(BackendUrl::SqliteMemory);
    }
    let Some((scheme, _)) = url.split_once(':') else {
        return Err(PortabilityError::InvalidInput(format!(
            "store URL has no scheme; expected a {}",
            kind.describe()
        )));
    };
    let supported = match (scheme, kind) {
        ("sqlite", _) => return parse_sqlite_file(url),
        ("postgres" | "postgresql", StoreKind::State) => Some(BackendUrl::Postgres),
        ("redis" | "rediss", StoreKind::Cache) => Some(BackendUrl::Redis),
        _ => None,
    };
    supported.ok_or_else(|| {
        PortabilityError::InvalidInput(format!(
            "unsupported URL scheme {scheme:?} for a {}",
            kind.describe()
        ))
    })
}

fn parse_sqlite_file(url: &str) -> Result<BackendUrl> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return Err(PortabilityError::InvalidInput(
            "SQLite URLs are sqlite://<path> or sqlite::memory:".into(),
        ));
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if let Some(query) = query
        && query != "mode=rwc"
    {
        return Err(PortabilityError::InvalidInput(format!(
            "unsupported SQLite URL options {query:?} (only mode=rwc, which is the default)"
        )));
    }
    if path.is_empty() {
        return Err(PortabilityError::InvalidInput(
            "SQLite URL has no file path".into(),
        ));
    }
    if path == ":memory:" {
        return Ok(BackendUrl::SqliteMemory);
    }
    Ok(BackendUrl::SqliteFile(PathBuf::from(path)))
}

/// Opens the [`StateStore`] named by `url` (see the module table), creating the SQLite file,
/// its directory and the tables if missing.
///
/// Errors: an unknown or unsupported scheme, or a malformed URL, is
/// [`PortabilityError::InvalidInput`] naming the scheme (never the credentials); a backend
/// that cannot be reached is [`PortabilityError::Unavailable`] naming the server.
pub async fn open_state_store(url: &str) -> Result<Arc<dyn StateStore>, PortabilityError> {
    Ok(match parse_backend_url(url, StoreKind::State)? {
        BackendUrl::SqliteFile(path) => Arc::new(SqliteStateStore::open(path).await?),
        BackendUrl::SqliteMemory => Arc::new(SqliteStateStore::open_in_memory().await?),
        BackendUrl::Postgres => Arc::new(PostgresStateStore::connect(url, None).await?),
        BackendUrl::Redis => unreachable!("redis is refused for state stores by parse_backend_url"),
    })
}

/// Opens the [`CacheStore`] named by `url` (see the module table). Redis keys go under
/// [`REDIS_CACHE_PREFIX`].
///
/// Errors: as [`open_state_store`].
pub async fn open_cache_store(url: &str) -> Result<Arc<dyn CacheStore>, PortabilityError> {
    Ok(match parse_backend_url(url, StoreKind::Cache)? {
        BackendUrl::SqliteFile(path) => Arc::new(SqliteCacheStore::open(path).await?),
        BackendUrl::SqliteMemory => Arc::new(SqliteCacheStore::open_in_memory().await?),
        BackendUrl::Redis => Arc::new(RedisCacheStore::connect(url, REDIS_CACHE_PREFIX).await?),
        BackendUrl::Postgres => {
            unreachable!("postgres is refused for cache stores by parse_backend_url")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(url: &str) -> Result<BackendUrl> {
        parse_backend_url(url, StoreKind::State)
    }

    fn cache(url: &str) -> Result<BackendUrl> {
        parse_backend_url(url, StoreKind::Cache)
    }

    fn invalid_message(result: Result<BackendUrl>) -> String {
        match result {
            Err(PortabilityError::InvalidInput(message)) => message,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn sqlite_paths_relative_and_absolute() {
        assert_eq!(
            state("sqlite://data/heaven.db").unwrap(),
            BackendUrl::SqliteFile("data/heaven.db".into())
        );
        assert_eq!(
            cache("sqlite:///var/lib/heaven/cache.db?mode=rwc").unwrap(),
            BackendUrl::SqliteFile("/var/lib/heaven/cache.db".into())
        );
    }

    #[test]
    fn sqlite_memory_forms() {
        assert_eq!(state("sqlite::memory:").unwrap(), BackendUrl::SqliteMemory);
        assert_eq!(
            cache("sqlite://:memory:").unwrap(),
            BackendUrl::SqliteMemory
        );
    }

    #[test]
    fn sqlite_without_path_or_with_other_options_is_refused() {
        invalid_message(state("sqlite://"));
        invalid_message(state("sqlite:heaven.db"));
        let message = invalid_message(state("sqlite://x.db?mode=ro"));
        assert!(message.contains("mode=ro"), "{message}");
    }

    #[test]
    fn postgres_only_for_state_and_redis_only_for_cache() {
        assert_eq!(
            state("postgres://u@localhost/db").unwrap(),
            BackendUrl::Postgres
        );
        assert_eq!(
            state("postgresql://u@localhost/db").unwrap(),
            BackendUrl::Postgres
        );
        assert_eq!(cache("redis://127.0.0.1:6379").unwrap(), BackendUrl::Redis);
        assert!(invalid_message(cache("postgres://u@localhost/db")).contains("\"postgres\""));
        assert!(invalid_message(state("redis://127.0.0.1")).contains("\"redis\""));
    }

    #[test]
    fn unknown_scheme_is_named_without_the_rest_of_the_url() {
        let message = invalid_message(state("mysql://root:secret@db/heaven"));
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("secret"), "{message}");
        invalid_message(cache("just-a-path.db"));
    }

    #[tokio::test]
    async fn open_helpers_refuse_unknown_schemes() {
        assert!(matches!(
            open_state_store("mysql://db/x").await,
            Err(PortabilityError::InvalidInput(_))
        ));
        assert!(matches!(
            open_cache_store("memcached://db").await,
            Err(PortabilityError::InvalidInput(_))
        ));
    }

    #[tokio::test]
    async fn sqlite_file_and_parent_directory_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/state.db");
        let url = format!("sqlite://{}", path.display());
        let store = open_state_store(&url).await.unwrap();
        assert_eq!(store.insert("k", b"v".to_vec()).await.unwrap(), 1);
        assert!(path.exists());
        let cache = open_cache_store(&url).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap(), None);
    }
}
