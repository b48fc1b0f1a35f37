//! The `song_registry` table (the original's migration 0002: same columns, unique story id,
//! indexes on the normalised title and artist and on `updated_at DESC`) on SQLite or
//! PostgreSQL through sqlx. The local stack puts it in the database of its state store.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use super::{Song, SongSummary};

/// Search hits per query.
pub const SEARCH_LIMIT: i64 = 25;

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS song_registry (
        song_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        artist TEXT NOT NULL,
        title_norm TEXT NOT NULL,
        artist_norm TEXT NOT NULL,
        story_ip_id TEXT NOT NULL,
        controller_wallet TEXT NOT NULL,
        payout_chain_id BIGINT NOT NULL,
        payout_address TEXT NOT NULL,
        default_upstream_bps BIGINT NOT NULL DEFAULT 0,
        payout_attestation_sig TEXT NOT NULL,
        license_preset_id TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_song_registry_story_ip_id ON song_registry(story_ip_id)",
    "CREATE INDEX IF NOT EXISTS idx_song_registry_title_norm ON song_registry(title_norm)",
    "CREATE INDEX IF NOT EXISTS idx_song_registry_artist_norm ON song_registry(artist_norm)",
];
const UPDATED_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS idx_song_registry_updated_at ON song_registry(updated_at DESC)";

const SUMMARY_COLUMNS: &str = "song_id, title, artist, story_ip_id, payout_chain_id, \
     payout_address, default_upstream_bps, license_preset_id, updated_at";

const INSERT: &str = "INSERT INTO song_registry (song_id, title, artist, title_norm, \
     artist_norm, story_ip_id, controller_wallet, payout_chain_id, payout_address, \
     default_upstream_bps, payout_attestation_sig, license_preset_id, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// What [`SongRegistry::insert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The row is stored.
    Stored,
    /// Another row has this story id (a concurrent create won the unique index).
    DuplicateStoryId,
}

/// The `song_registry` table in a SQLite or PostgreSQL database.
#[derive(Clone, Debug)]
pub enum SongRegistry {
    /// SQLite (the embedded default).
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

impl SongRegistry {
    /// Opens the database of a store URL (`sqlite://<path>`, `sqlite::memory:`,
    /// `postgres://…`, `postgresql://…`, as `portability::open_state_store` takes them) and
    /// creates the table and its indexes if missing.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let registry = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Self::Postgres(pool)
        } else if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            Self::Sqlite(pool)
        } else if let Some(rest) = url.strip_prefix("sqlite://") {
            let path = rest.split_once('?').map_or(rest, |(path, _)| path);
            Self::Sqlite(open_sqlite_file(Path::new(path)).await?)
        } else {
            return Err(sqlx::Error::Configuration(
                format!("the songs registry needs a sqlite:// or postgres:// URL, not {url:?}")
                    .into(),
            ));
        };
        registry.create_table().await?;
        Ok(registry)
    }

    /// Over an open pool (tests choose a PostgreSQL schema this way); creates the table.
    pub async fn with_postgres(pool: PgPool) -> Result<Self, sqlx::Error> {
        let registry = Self::Postgres(pool);
        registry.create_table().await?;
        Ok(registry)
    }

    async fn create_table(&self) -> Result<(), sqlx::Error> {
        for statement in SCHEMA.iter().chain([&UPDATED_INDEX]) {
            match self {
                Self::Sqlite(pool) => {
                    sqlx::query(statement).execute(pool).await?;
                }
                Self::Postgres(pool) => {
                    sqlx::query(statement).execute(pool).await?;
                }
            }
        }
        Ok(())
    }

    /// Rows whose `title_norm`, `artist_norm` or `story_ip_id` contain `needle`, newest
    /// `updated_at` first, at most [`SEARCH_LIMIT`]. `needle` goes into `LIKE '%needle%'` as
    /// it is: `%` and `_` in it are wildcards (the original's quirk, kept). SQLite's `LIKE`
    /// ignores ASCII case; on PostgreSQL `ILIKE … ESCAPE ''` does the same and, like SQLite,
    /// treats no character as an escape.
    pub async fn search(&self, needle: &str) -> Result<Vec<SongSummary>, sqlx::Error> {
        let pattern = format!("%{needle}%");
        match self {
            Self::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {SUMMARY_COLUMNS} FROM song_registry \
                     WHERE title_norm LIKE ?1 OR artist_norm LIKE ?1 OR story_ip_id LIKE ?1 \
                     ORDER BY updated_at DESC LIMIT {SEARCH_LIMIT}"
                );
                sqlx::query_as(&sql).bind(pattern).fetch_all(pool).await
            }
            Self::Postgres(pool) => {
                let sql = format!(
                    "SELECT {SUMMARY_COLUMNS} FROM song_registry \
                     WHERE title_norm ILIKE $1 ESCAPE '' OR artist_norm ILIKE $1 ESCAPE '' \
                     OR story_ip_id ILIKE $1 ESCAPE '' \
                     ORDER BY updated_at DESC LIMIT {SEARCH_LIMIT}"
                );
                sqlx::query_as(&sql).bind(pattern).fetch_all(pool).await
            }
        }
    }

    /// The row `song_id`.
    pub async fn get(&self, song_id: &str) -> Result<Option<Song>, sqlx::Error> {
        let sql = "SELECT song_id, title, artist, title_norm, artist_norm, story_ip_id, \
                   controller_wallet, payout_chain_id, payout_address, default_upstream_bps, \
                   payout_attestation_sig, license_preset_id, created_at, updated_at \
                   FROM song_registry WHERE song_id = $1";
        match self {
            Self::Sqlite(pool) => sqlx::query_as(sql).bind(song_id).fetch_optional(pool).await,
            Self::Postgres(pool) => sqlx::query_as(sql).bind(song_id).fetch_optional(pool).await,
        }
    }

    /// The song id registered for `story_ip_id`.
    pub async fn song_of_story(&self, story_ip_id: &str) -> Result<Option<String>, sqlx::Error> {
        let sql = "SELECT song_id FROM song_registry WHERE story_ip_id = $1";
        match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar(sql)
                    .bind(story_ip_id)
                    .fetch_optional(pool)
                    .await
            }
            Self::Postgres(pool) => {
                sqlx::query_scalar(sql)
                    .bind(story_ip_id)
                    .fetch_optional(pool)
                    .await
            }
        }
    }

    /// Inserts `song`; a story id already present is [`Inserted::DuplicateStoryId`].
    pub async fn insert(&self, song: &Song) -> Result<Inserted, sqlx::Error> {
        macro_rules! bind_all {
            ($q:expr) => {
                $q.bind(&song.song_id)
                    .bind(&song.title)
                    .bind(&song.artist)
                    .bind(&song.title_norm)
                    .bind(&song.artist_norm)
                    .bind(&song.story_ip_id)
                    .bind(&song.controller_wallet)
                    .bind(song.payout_chain_id)
                    .bind(&song.payout_address)
                    .bind(song.default_upstream_bps)
                    .bind(&song.payout_attestation_sig)
                    .bind(&song.license_preset_id)
                    .bind(song.created_at)
                    .bind(song.updated_at)
            };
        }
        let result = match self {
            Self::Sqlite(pool) => bind_all!(sqlx::query(INSERT))
                .execute(pool)
                .await
                .map(|_| ()),
            Self::Postgres(pool) => bind_all!(sqlx::query(INSERT))
                .execute(pool)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => Ok(Inserted::Stored),
            Err(err)
                if err
                    .as_database_error()
                    .is_some_and(|e| e.is_unique_violation()) =>
            {
                Ok(Inserted::DuplicateStoryId)
            }
            Err(err) => Err(err),
        }
    }
}

async fn open_sqlite_file(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
}
