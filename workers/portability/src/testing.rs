//! Fixtures for the tests of crates built on this one (feature `test-support`).

use std::hash::{BuildHasher, Hasher};

/// The PostgreSQL tests use: `TEST_DATABASE_URL`, else the local server CI starts.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A private PostgreSQL schema for one test, dropped when the fixture is (even after a
/// panic). Open stores on [`PgSchema::url`] with [`PgSchema::name`] as their schema.
pub struct PgSchema {
    /// The server's URL.
    pub url: String,
    /// `<prefix>_<random>`.
    pub name: String,
}

impl PgSchema {
    /// A fresh schema name starting with `prefix` on the test server (created by the stores
    /// that use it).
    pub fn new(prefix: &str) -> Self {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        Self {
            url: std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned()),
            name: format!("{prefix}_{:016x}", hasher.finish()),
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        use sqlx::Connection;
        let (url, name) = (self.url.clone(), self.name.clone());
        // A runtime of its own, on a thread of its own: drop may run inside a test's runtime.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}
