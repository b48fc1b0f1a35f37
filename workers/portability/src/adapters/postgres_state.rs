//! [`StateStore`] on PostgreSQL, for deployments that already run a database server.
//!
//! Same table shape as the SQLite adapter, with the key column in the "C" collation so keys
//! order by code point exactly as on SQLite. An optional schema isolates stores (and tests)
//! sharing one database: it is created if missing and set as each connection's `search_path`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres};

use crate::error::{PortabilityError, Result};

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

super::sql_state::impl_sql_state_store!(PostgresStateStore, Postgres);

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
