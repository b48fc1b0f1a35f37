//! [`StateStore`] on PostgreSQL, for deployments that already run a database server.
//!
//! Same table shape as the SQLite adapter, with the key column in the "C" collation so keys
//! order by code point exactly as on SQLite. An optional schema isolates stores (and tests)
//! sharing one database: it is created if missing and set as each connection's `search_path`.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::error::{PortabilityError, Result};
use crate::state::{
    MAX_LIST_LIMIT, StateStore, Versioned, prefix_upper_bound, validate_key, version_from_db,
    version_to_db,
};

const CREATE_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS portability_state (
    key TEXT COLLATE "C" PRIMARY KEY,
    value BYTEA NOT NULL,
    version BIGINT NOT NULL
)"#;

/// Serializes concurrent schema/table creation across processes ("port" in ASCII).
const SETUP_LOCK: i64 = 0x706f_7274;

/// A [`StateStore`] in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStateStore {
    pool: PgPool,
    server: String,
}

impl PostgresStateStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) and creates the table if
    /// missing. With `schema: Some(name)`, the schema is created if missing and every
    /// connection works inside it (`search_path`), so stores with different schemas never see
    /// each other's records.
    ///
    /// Errors: a malformed URL or a schema name that is not a lowercase SQL identifier
    /// (`[a-z_][a-z0-9_]*`, at most 63 bytes) is [`PortabilityError::InvalidInput`]; a server
    /// that cannot be reached is [`PortabilityError::Unavailable`] naming its host and port.
    /// Safe to call concurrently from several processes.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|err| {
            PortabilityError::InvalidInput(format!("invalid PostgreSQL URL: {err}"))
        })?;
        let server = format!(
            "PostgreSQL at {}:{}",
            options.get_host(),
            options.get_port()
        );
        if let Some(schema) = schema {
            validate_schema(schema)?;
        }
        let search_path = schema.map(|schema| format!("SET search_path TO \"{schema}\""));
        // One plain connection first: a server that is down fails here at once with the
        // connect error (the pool would retry until its acquire timeout), and the schema and
        // table exist before any pooled connection uses them.
        let mut setup = PgConnection::connect_with(&options)
            .await
            .map_err(|err| PortabilityError::from_sqlx("postgres", &server, err))?;
        create_tables(&mut setup, schema, search_path.as_deref())
            .await
            .map_err(|err| PortabilityError::from_sqlx("postgres", &server, err))?;
        if let Err(err) = setup.close().await {
            tracing::debug!(error = %err, "closing the PostgreSQL setup connection failed");
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                let search_path = search_path.clone();
                Box::pin(async move {
                    if let Some(statement) = search_path {
                        conn.execute(statement.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|err| PortabilityError::from_sqlx("postgres", &server, err))?;
        Ok(Self { pool, server })
    }

    /// The underlying connection pool (its connections use the store's schema).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn db_error(&self, err: sqlx::Error) -> PortabilityError {
        PortabilityError::from_sqlx("postgres", &self.server, err)
    }

    async fn current_version(&self, key: &str) -> Result<Option<u64>> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM portability_state WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(|err| self.db_error(err))?;
        version.map(version_from_db).transpose()
    }
}

/// Creates the schema (if any) and the table, serialized across processes by an advisory lock
/// so concurrent first starts do not race on the catalog.
async fn create_tables(
    conn: &mut PgConnection,
    schema: Option<&str>,
    search_path: Option<&str>,
) -> sqlx::Result<()> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SETUP_LOCK)
        .execute(&mut *tx)
        .await?;
    if let Some(schema) = schema {
        tx.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
            .await?;
    }
    if let Some(statement) = search_path {
        tx.execute(statement).await?;
    }
    tx.execute(CREATE_TABLE).await?;
    tx.commit().await
}

/// Accepts lowercase SQL identifiers only, so the name can be quoted verbatim.
fn validate_schema(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid_start && valid_rest && schema.len() <= 63 {
        Ok(())
    } else {
        Err(PortabilityError::InvalidInput(format!(
            "schema name {schema:?} must match [a-z_][a-z0-9_]* and be at most 63 bytes"
        )))
    }
}

#[async_trait]
impl StateStore for PostgresStateStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>> {
        validate_key(key)?;
        let row = sqlx::query("SELECT value, version FROM portability_state WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?;
        row.map(|row| {
            Ok(Versioned {
                value: row.try_get("value").map_err(|err| self.db_error(err))?,
                version: version_from_db(
                    row.try_get("version").map_err(|err| self.db_error(err))?,
                )?,
            })
        })
        .transpose()
    }

    async fn insert(&self, key: &str, value: Vec<u8>) -> Result<u64> {
        validate_key(key)?;
        let inserted = sqlx::query(
            "INSERT INTO portability_state (key, value, version) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?
        .rows_affected();
        if inserted == 1 {
            return Ok(1);
        }
        Err(PortabilityError::Conflict {
            key: key.to_owned(),
            expected: None,
            actual: self.current_version(key).await?,
        })
    }

    async fn put(&self, key: &str, value: Vec<u8>, expected_version: Option<u64>) -> Result<u64> {
        validate_key(key)?;
        // Under READ COMMITTED a concurrent UPDATE waits for the row lock and re-checks
        // `version = $3` against the committed row, so only one CAS per version succeeds.
        let new_version: Option<i64> = match expected_version {
            None => sqlx::query_scalar(
                "INSERT INTO portability_state (key, value, version) VALUES ($1, $2, 1)
                 ON CONFLICT (key) DO UPDATE
                 SET value = EXCLUDED.value, version = portability_state.version + 1
                 RETURNING version",
            )
            .bind(key)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?,
            Some(expected) => sqlx::query_scalar(
                "UPDATE portability_state SET value = $2, version = version + 1
                 WHERE key = $1 AND version = $3
                 RETURNING version",
            )
            .bind(key)
            .bind(value)
            .bind(version_to_db(expected)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?,
        };
        match new_version {
            Some(version) => version_from_db(version),
            None => Err(PortabilityError::Conflict {
                key: key.to_owned(),
                expected: expected_version,
                actual: self.current_version(key).await?,
            }),
        }
    }

    async fn delete(&self, key: &str, expected_version: Option<u64>) -> Result<bool> {
        validate_key(key)?;
        let deleted = match expected_version {
            None => sqlx::query("DELETE FROM portability_state WHERE key = $1").bind(key),
            Some(expected) => {
                sqlx::query("DELETE FROM portability_state WHERE key = $1 AND version = $2")
                    .bind(key)
                    .bind(version_to_db(expected)?)
            }
        }
        .execute(&self.pool)
        .await
        .map_err(|err| self.db_error(err))?
        .rows_affected();
        if deleted == 1 {
            return Ok(true);
        }
        match (expected_version, self.current_version(key).await?) {
            (Some(expected), Some(actual)) => Err(PortabilityError::Conflict {
                key: key.to_owned(),
                expected: Some(expected),
                actual: Some(actual),
            }),
            _ => Ok(false),
        }
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Versioned)>> {
        let limit = limit.min(MAX_LIST_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT key, value, version FROM portability_state WHERE key >= ",
        );
        query.push_bind(prefix);
        if let Some(bound) = prefix_upper_bound(prefix) {
            query.push(" AND key < ").push_bind(bound);
        }
        if let Some(after) = after {
            query.push(" AND key > ").push_bind(after);
        }
        query.push(" ORDER BY key LIMIT ").push_bind(limit as i64);
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.db_error(err))?;
        rows.into_iter()
            .map(|row| {
                let key: String = row.try_get("key").map_err(|err| self.db_error(err))?;
                let value: Vec<u8> = row.try_get("value").map_err(|err| self.db_error(err))?;
                let version: i64 = row.try_get("version").map_err(|err| self.db_error(err))?;
                Ok((
                    key,
                    Versioned {
                        value,
                        version: version_from_db(version)?,
                    },
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_lowercase_identifiers() {
        assert!(validate_schema("test_ab12").is_ok());
        assert!(validate_schema("_x").is_ok());
        for bad in ["", "1abc", "Abc", "a-b", "a\"b", &"a".repeat(64)] {
            assert!(validate_schema(bad).is_err(), "{bad}");
        }
    }
}
