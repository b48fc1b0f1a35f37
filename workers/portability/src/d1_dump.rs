//! Reading a Cloudflare D1 export (`wrangler d1 export --output dump.sql`): the dump is SQLite
//! SQL, so it is replayed into a private in-memory SQLite database that the importer then
//! queries with ordinary SQL. A data-only dump (`--no-schema`) gets the original's tables
//! (`schema`) first.

use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};

/// The dump could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the dump cannot be replayed: {0}")]
pub struct DumpError(pub String);

fn dump_error(e: impl std::fmt::Display) -> DumpError {
    DumpError(e.to_string())
}

/// Replays `dump` into a fresh in-memory database; `schema` (`CREATE TABLE IF NOT EXISTS ...`
/// of the tables the importer reads) runs first when the dump has no schema of its own, and
/// after it otherwise, so the importer's queries always find their tables.
pub async fn replay(dump: &str, schema: &str) -> Result<SqliteConnection, DumpError> {
    let mut db = open_memory().await?;
    match sqlx::raw_sql(dump).execute(&mut db).await {
        Ok(_) => {
            sqlx::raw_sql(schema)
                .execute(&mut db)
                .await
                .map_err(dump_error)?;
            Ok(db)
        }
        Err(err) if err.to_string().contains("no such table") => {
            let mut db = open_memory().await?;
            sqlx::raw_sql(schema)
                .execute(&mut db)
                .await
                .map_err(dump_error)?;
            sqlx::raw_sql(dump)
                .execute(&mut db)
                .await
                .map_err(dump_error)?;
            Ok(db)
        }
        Err(err) => Err(dump_error(err)),
    }
}

async fn open_memory() -> Result<SqliteConnection, DumpError> {
    SqliteConnectOptions::from_str("sqlite::memory:")
        .map_err(dump_error)?
        .connect()
        .await
        .map_err(dump_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER);";

    #[tokio::test]
    async fn full_and_data_only_dumps_both_replay() {
        let full = "PRAGMA defer_foreign_keys=TRUE;\nCREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);\nINSERT INTO t VALUES('a',1);";
        let data_only = "INSERT INTO t VALUES('b',2);";
        for (dump, key) in [(full, "a"), (data_only, "b")] {
            let mut db = replay(dump, SCHEMA).await.unwrap();
            let (k,): (String,) = sqlx::query_as("SELECT k FROM t")
                .fetch_one(&mut db)
                .await
                .unwrap();
            assert_eq!(k, key);
        }
        assert!(replay("NOT SQL", SCHEMA).await.is_err());
    }
}
