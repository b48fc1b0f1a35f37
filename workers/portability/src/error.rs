//! The one error type of the portability layer.
//!
//! Every trait in this crate returns [`PortabilityError`], whatever the backend, so callers can
//! match on what went wrong (a lost compare-and-swap, a missing record, a server that is down)
//! without knowing which adapter is behind the trait.

/// What went wrong in a portability-layer call.
#[derive(Debug, thiserror::Error)]
pub enum PortabilityError {
    /// A conditional write lost: the record's current version is not the one the caller
    /// expected. `expected: None` means the caller expected the record to be absent
    /// (`insert`); `actual: None` means the record does not exist. `actual` is informational:
    /// it is read after the failed write and may already be stale.
    #[error("version conflict on {key:?}: expected {}, found {}", describe_version(.expected), describe_version(.actual))]
    Conflict {
        /// The key whose write was refused.
        key: String,
        /// The version the caller asked for (`None`: absent).
        expected: Option<u64>,
        /// The version found in the store (`None`: absent).
        actual: Option<u64>,
    },

    /// The operation needs a record (or object) that does not exist.
    #[error("not found: {key:?}")]
    NotFound {
        /// The key or identifier that was looked up.
        key: String,
    },

    /// The caller passed something the contract forbids (empty key, zero TTL, unknown URL
    /// scheme, malformed cron expression...). Retrying the same call fails the same way.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The backend server could not be reached. `server` names it with its address, e.g.
    /// "PostgreSQL at 127.0.0.1:5432", so an operator knows what to start. Usually transient.
    #[error("{server} is unavailable: {message}")]
    Unavailable {
        /// The server and its address, never its credentials.
        server: String,
        /// The underlying error.
        message: String,
    },

    /// The backend answered with an error that is neither a conflict nor an outage.
    #[error("{backend} error: {message}")]
    Backend {
        /// Which backend: "sqlite", "postgres", "redis"...
        backend: &'static str,
        /// The underlying error.
        message: String,
    },

    /// A value could not be encoded or decoded (JSON helpers, corrupt stored values).
    #[error("encoding error: {0}")]
    Encoding(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = PortabilityError> = std::result::Result<T, E>;

fn describe_version(version: &Option<u64>) -> String {
    match version {
        Some(v) => format!("version {v}"),
        None => "no record".to_owned(),
    }
}

impl PortabilityError {
    /// Maps a sqlx error: connection-level failures (I/O, TLS, pool timeout, SQLite's
    /// "cannot open") become [`PortabilityError::Unavailable`] naming `server`; everything
    /// else becomes [`PortabilityError::Backend`] tagged with `backend`.
    pub fn from_sqlx(backend: &'static str, server: &str, err: sqlx::Error) -> Self {
        let unreachable = match &err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed => true,
            // SQLITE_CANTOPEN: the database file or its directory is not accessible.
            sqlx::Error::Database(db) => db.code().as_deref() == Some("14"),
            _ => false,
        };
        if unreachable {
            Self::Unavailable {
                server: server.to_owned(),
                message: err.to_string(),
            }
        } else {
            Self::Backend {
                backend,
                message: err.to_string(),
            }
        }
    }

    /// Maps a redis error: refused, dropped or timed-out connections and I/O errors become
    /// [`PortabilityError::Unavailable`] naming `server`; everything else becomes
    /// [`PortabilityError::Backend`] with backend "redis".
    pub fn from_redis(server: &str, err: redis::RedisError) -> Self {
        if err.is_io_error()
            || err.is_connection_refusal()
            || err.is_connection_dropped()
            || err.is_timeout()
        {
            Self::Unavailable {
                server: server.to_owned(),
                message: err.to_string(),
            }
        } else {
            Self::Backend {
                backend: "redis",
                message: err.to_string(),
            }
        }
    }

    /// Wraps a JSON (de)serialization failure as [`PortabilityError::Encoding`], saying what
    /// was being encoded.
    pub fn from_json(context: &str, err: serde_json::Error) -> Self {
        Self::Encoding(format!("{context}: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_message_names_both_versions() {
        let err = PortabilityError::Conflict {
            key: "sessions/abc".into(),
            expected: Some(3),
            actual: None,
        };
        assert_eq!(
            err.to_string(),
            "version conflict on \"sessions/abc\": expected version 3, found no record"
        );
    }

    #[test]
    fn unavailable_message_names_the_server() {
        let err = PortabilityError::Unavailable {
            server: "PostgreSQL at 127.0.0.1:5432".into(),
            message: "connection refused".into(),
        };
        assert!(err.to_string().starts_with("PostgreSQL at 127.0.0.1:5432"));
    }
}
