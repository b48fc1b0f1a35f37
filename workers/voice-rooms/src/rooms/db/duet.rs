//! `duet_rooms`, the duet rooms' discovery index (the original's migration 0003): written by
//! the `/duet` routes after the room answered, read by `GET /duet/discover`. The rooms' own
//! state is their actors'; this table is only for listing.

use serde_json::Value;

use super::{Fetched, RoomsDb, RoomsDbError};

/// The table and its indexes.
pub(super) const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS duet_rooms (
        room_id TEXT PRIMARY KEY,
        host_wallet TEXT NOT NULL,
        guest_wallet TEXT,
        status TEXT NOT NULL CHECK (status IN ('created', 'live', 'ended')),
        split_address TEXT NOT NULL,
        network TEXT NOT NULL,
        live_amount TEXT NOT NULL,
        replay_amount TEXT NOT NULL,
        audience_mode TEXT NOT NULL CHECK (audience_mode IN ('free', 'ticketed')),
        visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted')),
        title TEXT,
        room_kind TEXT,
        listener_count BIGINT NOT NULL DEFAULT 0,
        live_started_at BIGINT,
        ended_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS idx_duet_rooms_status_visibility_time
        ON duet_rooms (status, visibility, created_at DESC)",
    "CREATE INDEX IF NOT EXISTS idx_duet_rooms_host_status ON duet_rooms (host_wallet, status)",
];

/// A new room's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuetRow {
    /// Room id.
    pub room_id: String,
    /// Host (lowercase).
    pub host_wallet: String,
    /// Guest (lowercase).
    pub guest_wallet: Option<String>,
    /// `created`, `live` or `ended`.
    pub status: String,
    /// Payee.
    pub split_address: String,
    /// Network.
    pub network: String,
    /// Base units.
    pub live_amount: String,
    /// Base units.
    pub replay_amount: String,
    /// `public` or `unlisted`.
    pub visibility: String,
    /// Title.
    pub title: Option<String>,
    /// Kind.
    pub room_kind: Option<String>,
    /// Listener count (enter calls).
    pub listener_count: i64,
    /// Start second.
    pub live_started_at: Option<i64>,
    /// End second.
    pub ended_at: Option<i64>,
    /// Creation second.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A listed room, in `GET /duet/discover`'s order of fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiscoveredRoom {
    /// Room id.
    pub room_id: String,
    /// Host.
    pub host_wallet: String,
    /// Guest.
    pub guest_wallet: Option<String>,
    /// Status.
    pub status: String,
    /// Title.
    pub title: Option<String>,
    /// Kind.
    pub room_kind: Option<String>,
    /// Base units.
    pub live_amount: String,
    /// Base units.
    pub replay_amount: String,
    /// `free` or `ticketed`.
    pub audience_mode: String,
    /// Enter calls counted.
    pub listener_count: i64,
    /// Start second.
    pub live_started_at: Option<i64>,
    /// `live_started_at`, else `created_at`.
    pub started_at: i64,
    /// Creation second.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl DuetRow {
    /// `free` when the live price is zero, else `ticketed` (the original's rule).
    pub fn audience_mode(&self) -> &'static str {
        if self.live_amount == "0" {
            "free"
        } else {
            "ticketed"
        }
    }
}

fn opt_text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

impl RoomsDb {
    /// Inserts a room's row (an existing row keeps its values where the new ones are null,
    /// and the larger listener count, as the original's upsert).
    pub async fn upsert_duet_room(&self, row: &DuetRow) -> Result<(), RoomsDbError> {
        let max = match self {
            RoomsDb::Sqlite(_) => "MAX",
            RoomsDb::Postgres(_) => "GREATEST",
        };
        let sql = format!(
            "INSERT INTO duet_rooms (room_id, host_wallet, guest_wallet, status, split_address,
                network, live_amount, replay_amount, audience_mode, visibility, title, room_kind,
                listener_count, live_started_at, ended_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            ON CONFLICT (room_id) DO UPDATE SET
                host_wallet = excluded.host_wallet,
                guest_wallet = COALESCE(excluded.guest_wallet, duet_rooms.guest_wallet),
                status = excluded.status,
                split_address = excluded.split_address,
                network = excluded.network,
                live_amount = excluded.live_amount,
                replay_amount = excluded.replay_amount,
                audience_mode = excluded.audience_mode,
                visibility = excluded.visibility,
                title = COALESCE(excluded.title, duet_rooms.title),
                room_kind = COALESCE(excluded.room_kind, duet_rooms.room_kind),
                listener_count = {max}(duet_rooms.listener_count, excluded.listener_count),
                live_started_at = COALESCE(excluded.live_started_at, duet_rooms.live_started_at),
                ended_at = COALESCE(excluded.ended_at, duet_rooms.ended_at),
                updated_at = excluded.updated_at"
        );
        let audience = row.audience_mode();
        on_pool!(
            self,
            sql.as_str(),
            |q| q
                .bind(&row.room_id)
                .bind(&row.host_wallet)
                .bind(&row.guest_wallet)
                .bind(&row.status)
                .bind(&row.split_address)
                .bind(&row.network)
                .bind(&row.live_amount)
                .bind(&row.replay_amount)
                .bind(audience)
                .bind(&row.visibility)
                .bind(&row.title)
                .bind(&row.room_kind)
                .bind(row.listener_count)
                .bind(row.live_started_at)
                .bind(row.ended_at)
                .bind(row.created_at)
                .bind(row.updated_at),
            execute
        )?;
        Ok(())
    }

    /// Sets the accepted guest.
    pub async fn set_duet_guest(
        &self,
        room_id: &str,
        guest: &str,
        now: i64,
    ) -> Result<(), RoomsDbError> {
        let sql = "UPDATE duet_rooms SET guest_wallet = $1, updated_at = $2 WHERE room_id = $3";
        on_pool!(
            self,
            sql,
            |q| q.bind(guest).bind(now).bind(room_id),
            execute
        )?;
        Ok(())
    }

    /// Sets the status (start and end seconds kept when `None`).
    pub async fn set_duet_status(
        &self,
        room_id: &str,
        status: &str,
        live_started_at: Option<i64>,
        ended_at: Option<i64>,
        now: i64,
    ) -> Result<(), RoomsDbError> {
        let sql = "UPDATE duet_rooms SET status = $1,
                live_started_at = COALESCE($2, live_started_at),
                ended_at = COALESCE($3, ended_at), updated_at = $4
            WHERE room_id = $5";
        on_pool!(
            self,
            sql,
            |q| q
                .bind(status)
                .bind(live_started_at)
                .bind(ended_at)
                .bind(now)
                .bind(room_id),
            execute
        )?;
        Ok(())
    }

    /// Counts one more enter.
    pub async fn count_duet_listener(&self, room_id: &str, now: i64) -> Result<(), RoomsDbError> {
        let sql = "UPDATE duet_rooms SET listener_count = listener_count + 1, updated_at = $1
            WHERE room_id = $2";
        on_pool!(self, sql, |q| q.bind(now).bind(room_id), execute)?;
        Ok(())
    }

    /// `GET /duet/discover`: created or live rooms that are public or have `wallet` as host
    /// or guest, live first, then newest start; at most 100.
    pub async fn discover_duet_rooms(
        &self,
        wallet: &str,
    ) -> Result<Vec<DiscoveredRoom>, RoomsDbError> {
        let sql = "SELECT room_id, host_wallet, guest_wallet, status, title, room_kind,
                live_amount, replay_amount, audience_mode, listener_count,
                COALESCE(live_started_at, -1), created_at, updated_at
            FROM duet_rooms
            WHERE status IN ('created', 'live')
              AND (visibility = 'public' OR host_wallet = $1 OR guest_wallet = $2)
            ORDER BY CASE status WHEN 'live' THEN 0 ELSE 1 END,
                COALESCE(live_started_at, created_at) DESC
            LIMIT 100";
        let rows = on_pool!(self, sql, |q| q.bind(wallet).bind(wallet), fetch_all)?.rows();
        Ok(rows
            .into_iter()
            .map(|r| {
                // NULL comes back as -1 (SQLite's driver reads a NULL integer as 0).
                let live_started_at = r.0[10].as_i64().filter(|&at| at >= 0);
                let created_at = r.int(11);
                DiscoveredRoom {
                    room_id: r.text(0),
                    host_wallet: r.text(1),
                    guest_wallet: opt_text(&r.0[2]),
                    status: r.text(3),
                    title: opt_text(&r.0[4]),
                    room_kind: opt_text(&r.0[5]),
                    live_amount: r.text(6),
                    replay_amount: r.text(7),
                    audience_mode: r.text(8),
                    listener_count: r.int(9).max(0),
                    live_started_at,
                    started_at: live_started_at.unwrap_or(created_at),
                    created_at,
                    updated_at: r.0[12].as_i64().unwrap_or(created_at),
                }
            })
            .collect())
    }
}
