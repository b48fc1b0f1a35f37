//! A PostgreSQL database of a test's own on the test server (`TEST_DATABASE_URL`, else the
//! local one CI starts), dropped when the test ends, even after a panic.

use portability::testing::DEFAULT_TEST_DATABASE_URL;
use sqlx::Connection;

/// A fresh database named `heaven_<label>_<pid>`.
pub struct Database {
    admin_url: String,
    name: String,
}

impl Database {
    /// Creates it (dropping a leftover of the same name first).
    pub async fn create(label: &str) -> Self {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
        let name = format!("heaven_{label}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|err| panic!("PostgreSQL is not reachable at {admin_url}: {err}"));
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
        }
        Self { admin_url, name }
    }

    /// Its URL (the admin URL with the database name replaced).
    pub fn url(&self) -> String {
        let base = self.admin_url.rsplit_once('/').map_or("", |(base, _)| base);
        format!("{base}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // A runtime of its own, on a thread of its own: drop may run inside a test's runtime.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::query(&sql).execute(&mut conn).await;
                    }
                });
        })
        .join();
    }
}
