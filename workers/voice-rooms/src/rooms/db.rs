//! The discovery tables of the free rooms, `rooms` and `room_participants`, with the original's
//! columns (contract §2), on SQLite or Postgres. The participant row is the ownership authority
//! for HTTP calls; the room actor holds the live copy. A partial unique index keeps one active
//! free room per host, whatever the concurrency; `free_room_seats` (ours, not the original's)
//! keeps one active free-room connection per wallet the same way: its row is written in the
//! transaction that inserts the free participant row and deleted when that row is marked left.

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Executor, Row};

const SCHEMA: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS rooms (
        room_id TEXT PRIMARY KEY,
        room_type TEXT NOT NULL CHECK (room_type IN ('free', 'booked')),
        booking_id BIGINT,
        host_wallet TEXT NOT NULL,
        capacity BIGINT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
        metadata_json TEXT,
        created_at TEXT NOT NULL,
        closed_at TEXT
    )",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_rooms_active_free_host ON rooms (host_wallet)
        WHERE room_type = 'free' AND status = 'active'",
    "CREATE TABLE IF NOT EXISTS room_participants (
        connection_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        wallet TEXT NOT NULL,
        agora_uid BIGINT NOT NULL,
        joined_at_epoch BIGINT NOT NULL,
        last_metered_at_epoch BIGINT NOT NULL,
        left_at_epoch BIGINT,
        warned_low BIGINT NOT NULL DEFAULT 0,
        exhausted BIGINT NOT NULL DEFAULT 0,
        debited_seconds BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE INDEX IF NOT EXISTS idx_room_participants_room ON room_participants (room_id, left_at_epoch)",
    "CREATE INDEX IF NOT EXISTS idx_room_participants_wallet_active ON room_participants (wallet)
        WHERE left_at_epoch IS NULL",
    // One seat per wallet across all free rooms: the store-level guard of "one active free
    // room per wallet" (the original only checks it in the handler).
    "CREATE TABLE IF NOT EXISTS free_room_seats (
        wallet TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        connection_id TEXT NOT NULL
    )",
    // Tables made before the guard: seat the wallets already active in free rooms.
    "INSERT INTO free_room_seats (wallet, room_id, connection_id)
        SELECT rp.wallet, MIN(rp.room_id), MIN(rp.connection_id) FROM room_participants rp
        JOIN rooms r ON rp.room_id = r.room_id
        WHERE rp.left_at_epoch IS NULL AND r.room_type = 'free'
        GROUP BY rp.wallet
        ON CONFLICT DO NOTHING",
];

/// Frees a wallet's seat whose connection is no longer active (its row was marked left or
/// removed by hand), so a leave that failed between its two statements cannot block the
/// wallet.
const CLEAR_STALE_SEAT: &str = "DELETE FROM free_room_seats WHERE wallet = $1 AND NOT EXISTS
    (SELECT 1 FROM room_participants rp
     WHERE rp.connection_id = free_room_seats.connection_id AND rp.left_at_epoch IS NULL)";
const TAKE_SEAT: &str =
    "INSERT INTO free_room_seats (wallet, room_id, connection_id) VALUES ($1, $2, $3)";
const INSERT_PARTICIPANT: &str = "INSERT INTO room_participants
    (connection_id, room_id, wallet, agora_uid, joined_at_epoch, last_metered_at_epoch)
    VALUES ($1, $2, $3, $4, $5, $6)";

/// Why the room tables could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RoomsDbError {
    /// The host already has an active free room (the partial unique index refused the row).
    #[error("the host already has an active free room")]
    HostHasActiveRoom,
    /// The wallet already has an active connection in a free room (`free_room_seats` refused
    /// the seat).
    #[error("the wallet is already in a free room")]
    WalletInFreeRoom,
    /// Anything else from the database.
    #[error("rooms database: {0}")]
    Database(#[from] sqlx::Error),
}

/// An active room as the join route reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    /// `free` or `booked`.
    pub room_type: String,
    /// Host wallet (lowercase).
    pub host_wallet: String,
    /// Seats.
    pub capacity: i64,
}

/// A new participant row.
#[derive(Debug, Clone)]
pub struct NewParticipant<'a> {
    /// Connection id (UUID).
    pub connection_id: &'a str,
    /// Room.
    pub room_id: &'a str,
    /// Wallet (lowercase).
    pub wallet: &'a str,
    /// Agora uid.
    pub agora_uid: u32,
    /// Join second (also the first metering second).
    pub joined_at: i64,
}

/// A participant's metering copy, written by the alarm.
#[derive(Debug, Clone)]
pub struct MeteringCopy {
    /// Connection id.
    pub connection_id: String,
    /// Watermark.
    pub last_metered_at: i64,
    /// `credits_low` raised.
    pub warned_low: bool,
    /// `credits_exhausted` raised.
    pub exhausted: bool,
    /// Debited on the connection.
    pub debited_seconds: u64,
}

/// The room tables on one of the two backends.
#[derive(Debug, Clone)]
pub enum RoomsDb {
    /// SQLite (the embedded default).
    Sqlite(SqlitePool),
    /// Postgres.
    Postgres(PgPool),
}

/// Runs the same statement on either pool; SQL is written with `$n` placeholders, which
/// SQLite reads as `?n`.
macro_rules! on_pool {
    ($db:expr, $sql:expr, |$q:ident| $bind:expr, $run:ident) => {{
        match $db {
            RoomsDb::Sqlite(pool) => {
                let sql = $sql.replace('$', "?");
                let $q = sqlx::query(&sql);
                $bind.$run(pool).await.map(Fetched::from)
            }
            RoomsDb::Postgres(pool) => {
                let $q = sqlx::query($sql);
                $bind.$run(pool).await.map(Fetched::from)
            }
        }
    }};
}

/// What a statement returned, on either backend.
enum Fetched {
    Affected(u64),
    Rows(Vec<Values>),
    Row(Option<Values>),
}

/// One row's columns, read by index.
struct Values(Vec<Value>);

impl Values {
    fn text(&self, i: usize) -> String {
        self.0[i].as_str().unwrap_or_default().to_owned()
    }
    fn int(&self, i: usize) -> i64 {
        self.0[i].as_i64().unwrap_or_default()
    }
}

macro_rules! fetched_from {
    ($row:ty, $result:ty) => {
        impl From<$result> for Fetched {
            fn from(r: $result) -> Self {
                Fetched::Affected(r.rows_affected())
            }
        }
        impl From<Vec<$row>> for Fetched {
            fn from(rows: Vec<$row>) -> Self {
                Fetched::Rows(rows.iter().map(values).collect())
            }
        }
        impl From<Option<$row>> for Fetched {
            fn from(row: Option<$row>) -> Self {
                Fetched::Row(row.as_ref().map(values))
            }
        }
    };
}
fetched_from!(sqlx::sqlite::SqliteRow, sqlx::sqlite::SqliteQueryResult);
fetched_from!(sqlx::postgres::PgRow, sqlx::postgres::PgQueryResult);

fn values<R: Row>(row: &R) -> Values
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Values(
        (0..row.len())
            .map(|i| match row.try_get::<i64, _>(i) {
                Ok(n) => Value::from(n),
                Err(_) => row
                    .try_get::<String, _>(i)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            })
            .collect(),
    )
}

impl Fetched {
    fn affected(self) -> u64 {
        match self {
            Fetched::Affected(n) => n,
            _ => 0,
        }
    }
    fn rows(self) -> Vec<Values> {
        match self {
            Fetched::Rows(rows) => rows,
            _ => Vec::new(),
        }
    }
    fn row(self) -> Option<Values> {
        match self {
            Fetched::Row(row) => row,
            _ => None,
        }
    }
}

impl RoomsDb {
    /// Opens `url` (`sqlite:<path>`, `sqlite::memory:`, `postgres://…`) and creates the tables
    /// if missing. `pg_schema` puts the Postgres tables in their own schema (tests).
    pub async fn open(url: &str, pg_schema: Option<&str>) -> Result<Self, RoomsDbError> {
        let db = if url.starts_with("postgres") {
            let options = PgConnectOptions::from_str(url)?;
            let schema = pg_schema.map(str::to_owned);
            if let Some(schema) = &schema {
                let setup = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(options.clone())
                    .await?;
                setup
                    .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
                    .await?;
                setup.close().await;
            }
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    let schema = schema.clone();
                    Box::pin(async move {
                        if let Some(schema) = schema {
                            conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
                                .await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?;
            RoomsDb::Postgres(pool)
        } else {
            let memory = url.contains(":memory:");
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .busy_timeout(Duration::from_secs(5));
            let options = if memory {
                options
            } else {
                options.journal_mode(SqliteJournalMode::Wal)
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(if memory { 1 } else { 4 })
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            RoomsDb::Sqlite(pool)
        };
        for &statement in SCHEMA.iter().chain(duet::SCHEMA.iter()) {
            match &db {
                RoomsDb::Sqlite(pool) => pool.execute(statement).await?,
                RoomsDb::Postgres(pool) => {
                    // Concurrent `CREATE … IF NOT EXISTS` may still race on Postgres' catalog.
                    let _ = pool.execute(statement).await;
                    continue;
                }
            };
        }
        Ok(db)
    }

    /// Whether `wallet` has an active participant row in a free room (status not considered).
    pub async fn in_free_room(&self, wallet: &str) -> Result<bool, RoomsDbError> {
        let sql = "SELECT rp.connection_id FROM room_participants rp
            JOIN rooms r ON rp.room_id = r.room_id
            WHERE rp.wallet = $1 AND rp.left_at_epoch IS NULL AND r.room_type = 'free' LIMIT 1";
        Ok(on_pool!(self, sql, |q| q.bind(wallet), fetch_optional)?
            .row()
            .is_some())
    }

    /// Whether `wallet` hosts an active free room.
    pub async fn hosts_active_free_room(&self, wallet: &str) -> Result<bool, RoomsDbError> {
        let sql = "SELECT room_id FROM rooms
            WHERE host_wallet = $1 AND status = 'active' AND room_type = 'free' LIMIT 1";
        Ok(on_pool!(self, sql, |q| q.bind(wallet), fetch_optional)?
            .row()
            .is_some())
    }

    /// Inserts an active free room; [`RoomsDbError::HostHasActiveRoom`] when the host has one.
    pub async fn insert_free_room(
        &self,
        room_id: &str,
        host: &str,
        capacity: i64,
        metadata_json: &str,
        created_at: &str,
    ) -> Result<(), RoomsDbError> {
        let sql = "INSERT INTO rooms (room_id, room_type, host_wallet, capacity, status, metadata_json, created_at)
            VALUES ($1, 'free', $2, $3, 'active', $4, $5)";
        let inserted = on_pool!(
            self,
            sql,
            |q| q
                .bind(room_id)
                .bind(host)
                .bind(capacity)
                .bind(metadata_json)
                .bind(created_at),
            execute
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(RoomsDbError::HostHasActiveRoom)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The original's `INSERT OR IGNORE` of a booked room's row (active, `booked`); an
    /// existing row, whatever its status, is left as it is.
    pub async fn insert_booked_room(
        &self,
        room_id: &str,
        booking_id: Option<i64>,
        host: &str,
        capacity: i64,
        created_at: &str,
    ) -> Result<(), RoomsDbError> {
        let sql = "INSERT INTO rooms (room_id, room_type, booking_id, host_wallet, capacity, status, created_at)
            VALUES ($1, 'booked', $2, $3, $4, 'active', $5) ON CONFLICT DO NOTHING";
        on_pool!(
            self,
            sql,
            |q| q
                .bind(room_id)
                .bind(booking_id)
                .bind(host)
                .bind(capacity)
                .bind(created_at),
            execute
        )?;
        Ok(())
    }

    /// The first active participant row of `wallet` in `room_id`, as
    /// `(connection_id, joined_at_epoch)`.
    pub async fn active_connection(
        &self,
        room_id: &str,
        wallet: &str,
    ) -> Result<Option<(String, i64)>, RoomsDbError> {
        let sql = "SELECT connection_id, joined_at_epoch FROM room_participants
            WHERE room_id = $1 AND wallet = $2 AND left_at_epoch IS NULL
            ORDER BY joined_at_epoch, connection_id LIMIT 1";
        Ok(
            on_pool!(self, sql, |q| q.bind(room_id).bind(wallet), fetch_optional)?
                .row()
                .map(|r| (r.text(0), r.int(1))),
        )
    }

    /// The active room `room_id`, if any.
    pub async fn active_room(&self, room_id: &str) -> Result<Option<RoomRow>, RoomsDbError> {
        let sql = "SELECT room_type, host_wallet, capacity FROM rooms
            WHERE room_id = $1 AND status = 'active'";
        Ok(on_pool!(self, sql, |q| q.bind(room_id), fetch_optional)?
            .row()
            .map(|r| RoomRow {
                room_type: r.text(0),
                host_wallet: r.text(1),
                capacity: r.int(2),
            }))
    }

    /// The host of free room `room_id` (any status).
    pub async fn free_room_host(&self, room_id: &str) -> Result<Option<String>, RoomsDbError> {
        let sql = "SELECT host_wallet FROM rooms WHERE room_id = $1 AND room_type = 'free'";
        Ok(on_pool!(self, sql, |q| q.bind(room_id), fetch_optional)?
            .row()
            .map(|r| r.text(0)))
    }

    /// Active participant rows of `room_id`.
    pub async fn active_participant_count(&self, room_id: &str) -> Result<i64, RoomsDbError> {
        let sql =
            "SELECT COUNT(*) FROM room_participants WHERE room_id = $1 AND left_at_epoch IS NULL";
        Ok(on_pool!(self, sql, |q| q.bind(room_id), fetch_optional)?
            .row()
            .map_or(0, |r| r.int(0)))
    }

    /// Inserts a participant row (joined = last metered = `joined_at`).
    pub async fn insert_participant(&self, p: &NewParticipant<'_>) -> Result<(), RoomsDbError> {
        on_pool!(
            self,
            INSERT_PARTICIPANT,
            |q| q
                .bind(p.connection_id)
                .bind(p.room_id)
                .bind(p.wallet)
                .bind(i64::from(p.agora_uid))
                .bind(p.joined_at)
                .bind(p.joined_at),
            execute
        )?;
        Ok(())
    }

    /// Inserts a free room's participant row and the wallet's seat in one transaction;
    /// [`RoomsDbError::WalletInFreeRoom`] (and no row) when the wallet holds an active seat.
    pub async fn insert_free_participant(
        &self,
        p: &NewParticipant<'_>,
    ) -> Result<(), RoomsDbError> {
        macro_rules! seat {
            ($pool:expr, $fix:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query(&$fix(CLEAR_STALE_SEAT))
                    .bind(p.wallet)
                    .execute(&mut *tx)
                    .await?;
                let taken = sqlx::query(&$fix(TAKE_SEAT))
                    .bind(p.wallet)
                    .bind(p.room_id)
                    .bind(p.connection_id)
                    .execute(&mut *tx)
                    .await;
                match taken {
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        return Err(RoomsDbError::WalletInFreeRoom);
                    }
                    other => other?,
                };
                sqlx::query(&$fix(INSERT_PARTICIPANT))
                    .bind(p.connection_id)
                    .bind(p.room_id)
                    .bind(p.wallet)
                    .bind(i64::from(p.agora_uid))
                    .bind(p.joined_at)
                    .bind(p.joined_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }};
        }
        match self {
            RoomsDb::Sqlite(pool) => seat!(pool, |sql: &str| sql.replace('$', "?")),
            RoomsDb::Postgres(pool) => seat!(pool, |sql: &str| sql.to_owned()),
        }
    }

    /// The original's ownership check: an active row with this connection, room and wallet,
    /// in a free room.
    pub async fn owns_connection(
        &self,
        wallet: &str,
        connection_id: &str,
        room_id: &str,
    ) -> Result<bool, RoomsDbError> {
        let sql = "SELECT 1 FROM room_participants rp JOIN rooms r ON rp.room_id = r.room_id
            WHERE rp.connection_id = $1 AND rp.room_id = $2 AND rp.wallet = $3
              AND rp.left_at_epoch IS NULL AND r.room_type = 'free'";
        Ok(on_pool!(
            self,
            sql,
            |q| q.bind(connection_id).bind(room_id).bind(wallet),
            fetch_optional
        )?
        .row()
        .is_some())
    }

    /// Marks a participant left with its debited total, and frees its seat (a failure
    /// between the two leaves a stale seat, which the next join of the wallet clears).
    pub async fn mark_left(
        &self,
        connection_id: &str,
        at: i64,
        debited_seconds: u64,
    ) -> Result<(), RoomsDbError> {
        let sql = "UPDATE room_participants SET left_at_epoch = $1, debited_seconds = $2
            WHERE connection_id = $3";
        on_pool!(
            self,
            sql,
            |q| q.bind(at).bind(debited_seconds as i64).bind(connection_id),
            execute
        )?;
        let sql = "DELETE FROM free_room_seats WHERE connection_id = $1";
        on_pool!(self, sql, |q| q.bind(connection_id), execute)?;
        Ok(())
    }

    /// Marks every still-active participant row of the room left, and frees their seats.
    pub async fn mark_all_left(&self, room_id: &str, at: i64) -> Result<u64, RoomsDbError> {
        let sql = "UPDATE room_participants SET left_at_epoch = $1
            WHERE room_id = $2 AND left_at_epoch IS NULL";
        let left = on_pool!(self, sql, |q| q.bind(at).bind(room_id), execute)?.affected();
        let sql = "DELETE FROM free_room_seats WHERE room_id = $1";
        on_pool!(self, sql, |q| q.bind(room_id), execute)?;
        Ok(left)
    }

    /// Closes the room if it is still active.
    pub async fn close_room(&self, room_id: &str, closed_at: &str) -> Result<(), RoomsDbError> {
        let sql = "UPDATE rooms SET status = 'closed', closed_at = $1
            WHERE room_id = $2 AND status = 'active'";
        on_pool!(self, sql, |q| q.bind(closed_at).bind(room_id), execute)?;
        Ok(())
    }

    /// Copies the alarm's metering of each participant to its row.
    pub async fn copy_metering(&self, copies: &[MeteringCopy]) -> Result<(), RoomsDbError> {
        let sql = "UPDATE room_participants
            SET last_metered_at_epoch = $1, warned_low = $2, exhausted = $3, debited_seconds = $4
            WHERE connection_id = $5";
        for c in copies {
            on_pool!(
                self,
                sql,
                |q| q
                    .bind(c.last_metered_at)
                    .bind(i64::from(c.warned_low))
                    .bind(i64::from(c.exhausted))
                    .bind(c.debited_seconds as i64)
                    .bind(c.connection_id.as_str()),
                execute
            )?;
        }
        Ok(())
    }

    /// `GET /rooms/active`: open active free rooms, newest first, at most 50, as
    /// `(room_id, host_wallet, participant_count, created_at)`.
    pub async fn open_active_rooms(
        &self,
    ) -> Result<Vec<(String, String, i64, String)>, RoomsDbError> {
        let sql = "SELECT r.room_id, r.host_wallet, r.metadata_json, r.created_at,
                (SELECT COUNT(*) FROM room_participants rp
                 WHERE rp.room_id = r.room_id AND rp.left_at_epoch IS NULL)
            FROM rooms r
            WHERE r.status = 'active' AND r.room_type = 'free'
            ORDER BY r.created_at DESC";
        let rows = on_pool!(self, sql, |q| q, fetch_all)?.rows();
        Ok(rows
            .into_iter()
            .filter(|r| {
                // The original's `json_extract(metadata_json, '$.visibility') = 'open' OR
                // metadata_json IS NULL`, read here so both backends agree.
                match &r.0[2] {
                    Value::String(json) => serde_json::from_str::<Value>(json)
                        .ok()
                        .is_some_and(|m| m["visibility"] == "open"),
                    _ => true,
                }
            })
            .take(50)
            .map(|r| (r.text(0), r.text(1), r.int(4), r.text(3)))
            .collect())
    }
}

mod duet;
pub use duet::{DiscoveredRoom, DuetRow};

#[cfg(test)]
mod tests;
