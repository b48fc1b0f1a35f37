//! The SQL shared by the SQLite and PostgreSQL [`StateStore`](crate::StateStore) adapters.
//!
//! Both keep one table `portability_state(key, value, version)` and run the same statements
//! (sqlx accepts `$N` placeholders on SQLite too); only the connection set-up and the DDL differ.
//! sqlx's executor traits make a generic implementation over `Database` impractical, so the one
//! implementation is stamped onto both adapter types by this macro. Each adapter provides a
//! `pool` field and a `db_error(&self, sqlx::Error) -> PortabilityError` method.

/// Implements [`StateStore`](crate::StateStore) for `$store` whose pool speaks `$db`.
macro_rules! impl_sql_state_store {
    ($store:ty, $db:ty) => {
        // A const block gives the implementation its own imports, independent of the caller's.
        const _: () = {
            use sqlx::{QueryBuilder, Row};
            use $crate::error::{PortabilityError, Result};
            use $crate::state::{
                MAX_LIST_LIMIT, StateStore, Versioned, prefix_upper_bound, validate_key,
                version_from_db, version_to_db,
            };

            impl $store {
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

            #[async_trait::async_trait]
            impl StateStore for $store {
                async fn get(&self, key: &str) -> Result<Option<Versioned>> {
                    validate_key(key)?;
                    let row =
                        sqlx::query("SELECT value, version FROM portability_state WHERE key = $1")
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

                async fn put(
                    &self,
                    key: &str,
                    value: Vec<u8>,
                    expected_version: Option<u64>,
                ) -> Result<u64> {
                    validate_key(key)?;
                    // SQLite serializes writers; under PostgreSQL's READ COMMITTED a concurrent UPDATE
                    // waits for the row lock and re-checks `version = $3` against the committed row. Either
                    // way only one compare-and-swap per version succeeds.
                    //
                    // The `RETURNING` rows are read with `fetch_all`, never `fetch_optional`: a
                    // statement left before it finishes stays open in SQLite, and its read
                    // snapshot keeps every WAL checkpoint from completing (the log grew without
                    // bound, tests/sqlite_wal.rs).
                    let new_version: Vec<i64> = match expected_version {
                        None => sqlx::query_scalar(
                            "INSERT INTO portability_state (key, value, version) VALUES ($1, $2, 1)
                         ON CONFLICT (key) DO UPDATE
                         SET value = EXCLUDED.value, version = portability_state.version + 1
                         RETURNING version",
                        )
                        .bind(key)
                        .bind(value)
                        .fetch_all(&self.pool)
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
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|err| self.db_error(err))?,
                    };
                    match new_version.first() {
                        Some(&version) => version_from_db(version),
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
                        None => {
                            sqlx::query("DELETE FROM portability_state WHERE key = $1").bind(key)
                        }
                        Some(expected) => sqlx::query(
                            "DELETE FROM portability_state WHERE key = $1 AND version = $2",
                        )
                        .bind(key)
                        .bind(version_to_db(expected)?),
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
                    let mut query = QueryBuilder::<$db>::new(
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
                            let key: String =
                                row.try_get("key").map_err(|err| self.db_error(err))?;
                            let value: Vec<u8> =
                                row.try_get("value").map_err(|err| self.db_error(err))?;
                            let version: i64 =
                                row.try_get("version").map_err(|err| self.db_error(err))?;
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
        };
    };
}

pub(super) use impl_sql_state_store;
