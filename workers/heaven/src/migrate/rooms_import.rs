//! `heaven migrate rooms-import <dump.sql>`: voice-control-plane's `rooms`,
//! `room_participants`, `duet_rooms` and `song_registry` rows, from a `wrangler d1 export`, into
//! voice-rooms' tables. The whole dump is read and checked before anything is written; one bad
//! row refuses it all. Rooms still `active` in the dump are closed (their live state was in
//! Durable Objects, which do not come along) at their last metered second, and every
//! participant row still active is marked left at its own last metered second; duet rooms still
//! `created` or `live` are marked `ended` at their last update (`duet_rooms` was only the
//! discovery index of Durable Objects whose state stays behind, so they could not be entered or
//! started here, and discover must not list them). The import is deterministic: re-running it
//! writes the same rows again (existing ids are replaced).

use portability::d1_dump;
use voice_rooms::rooms::db::DuetRow;
use voice_rooms::rooms::import::{ImportedParticipant, ImportedRoom, RoomsImport};
use voice_rooms::songs::Song;

/// The original's tables the import reads (migrations 0001 to 0003), for data-only dumps.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY, room_type TEXT NOT NULL,
  booking_id INTEGER, host_wallet TEXT NOT NULL, capacity INTEGER NOT NULL, status TEXT NOT NULL,
  metadata_json TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, closed_at TEXT);
CREATE TABLE IF NOT EXISTS room_participants (connection_id TEXT PRIMARY KEY, room_id TEXT NOT NULL,
  wallet TEXT NOT NULL, agora_uid INTEGER NOT NULL, joined_at_epoch INTEGER NOT NULL,
  last_metered_at_epoch INTEGER NOT NULL, left_at_epoch INTEGER, warned_low INTEGER NOT NULL DEFAULT 0,
  exhausted INTEGER NOT NULL DEFAULT 0, debited_seconds INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS song_registry (song_id TEXT PRIMARY KEY, title TEXT NOT NULL,
  artist TEXT NOT NULL, title_norm TEXT NOT NULL, artist_norm TEXT NOT NULL,
  story_ip_id TEXT NOT NULL UNIQUE, controller_wallet TEXT NOT NULL, payout_chain_id INTEGER NOT NULL,
  payout_address TEXT NOT NULL, default_upstream_bps INTEGER NOT NULL DEFAULT 0,
  payout_attestation_sig TEXT NOT NULL, license_preset_id TEXT, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS duet_rooms (room_id TEXT PRIMARY KEY, host_wallet TEXT NOT NULL,
  guest_wallet TEXT, status TEXT NOT NULL, split_address TEXT NOT NULL, network TEXT NOT NULL,
  live_amount TEXT NOT NULL, replay_amount TEXT NOT NULL, audience_mode TEXT NOT NULL,
  visibility TEXT NOT NULL DEFAULT 'public', title TEXT, room_kind TEXT,
  listener_count INTEGER NOT NULL DEFAULT 0, live_started_at INTEGER, ended_at INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);";

type RoomTuple = (
    String,
    String,
    Option<i64>,
    String,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
);
type ParticipantTuple = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    i64,
    i64,
    i64,
);

/// A `duet_rooms` row as the dump has it.
#[derive(sqlx::FromRow)]
struct DuetDumpRow {
    room_id: String,
    host_wallet: String,
    guest_wallet: Option<String>,
    status: String,
    split_address: String,
    network: String,
    live_amount: String,
    replay_amount: String,
    audience_mode: String,
    visibility: String,
    title: Option<String>,
    room_kind: Option<String>,
    listener_count: i64,
    live_started_at: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn wallet(text: &str, key: &str) -> Result<String, String> {
    let w = text.trim().to_ascii_lowercase();
    let hex = w.strip_prefix("0x").unwrap_or("");
    if hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(w)
    } else {
        Err(format!("{key}: bad wallet {text:?}"))
    }
}

fn iso(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Reads and checks the room and song tables of `dump`.
pub async fn read(dump: &str) -> Result<RoomsImport, String> {
    let mut db = d1_dump::replay(dump, SCHEMA)
        .await
        .map_err(|e| e.to_string())?;
    let failed = |table: &str| {
        let table = table.to_owned();
        move |e: sqlx::Error| format!("{table}: {e}")
    };
    let rooms: Vec<RoomTuple> = sqlx::query_as(
        "SELECT room_id, room_type, booking_id, host_wallet, capacity, status, metadata_json, \
         created_at, closed_at FROM rooms ORDER BY room_id",
    )
    .fetch_all(&mut db)
    .await
    .map_err(failed("rooms"))?;
    let participants: Vec<ParticipantTuple> = sqlx::query_as(
        "SELECT connection_id, room_id, wallet, agora_uid, joined_at_epoch, \
         last_metered_at_epoch, left_at_epoch, warned_low, exhausted, debited_seconds \
         FROM room_participants ORDER BY connection_id",
    )
    .fetch_all(&mut db)
    .await
    .map_err(failed("room_participants"))?;
    let duets: Vec<DuetDumpRow> = sqlx::query_as(
        "SELECT room_id, host_wallet, guest_wallet, status, split_address, network, \
         live_amount, replay_amount, audience_mode, visibility, title, room_kind, \
         listener_count, live_started_at, ended_at, created_at, updated_at \
         FROM duet_rooms ORDER BY room_id",
    )
    .fetch_all(&mut db)
    .await
    .map_err(failed("duet_rooms"))?;
    let songs: Vec<Song> = sqlx::query_as(
        "SELECT song_id, title, artist, title_norm, artist_norm, story_ip_id, \
         controller_wallet, payout_chain_id, payout_address, default_upstream_bps, \
         payout_attestation_sig, license_preset_id, created_at, updated_at \
         FROM song_registry ORDER BY song_id",
    )
    .fetch_all(&mut db)
    .await
    .map_err(failed("song_registry"))?;

    let mut out = RoomsImport::default();
    for (connection_id, room_id, w, uid, joined, metered, left, low, exhausted, debited) in
        participants
    {
        let key = format!("room_participants {connection_id}");
        if !rooms.iter().any(|r| r.0 == room_id) {
            return Err(format!("{key}: no rooms row {room_id:?}"));
        }
        if u32::try_from(uid).is_err() {
            return Err(format!("{key}: agora_uid {uid} is not a u32"));
        }
        if joined < 0 || metered < joined || left.is_some_and(|l| l < joined) {
            return Err(format!(
                "{key}: times out of order (joined {joined}, metered {metered}, left {left:?})"
            ));
        }
        if debited < 0 || !(0..=1).contains(&low) || !(0..=1).contains(&exhausted) {
            return Err(format!("{key}: bad debited_seconds/warned_low/exhausted"));
        }
        out.participants.push(ImportedParticipant {
            wallet: wallet(&w, &key)?,
            connection_id,
            room_id,
            agora_uid: uid,
            joined_at_epoch: joined,
            last_metered_at_epoch: metered,
            // Still active: its live state is gone with the Durable Object; it left at the
            // last second it was metered.
            left_at_epoch: Some(left.unwrap_or(metered)),
            warned_low: low,
            exhausted,
            debited_seconds: debited,
        });
    }
    for (room_id, room_type, booking_id, host, capacity, status, metadata, created, closed) in rooms
    {
        let key = format!("rooms {room_id}");
        if room_type != "free" && room_type != "booked" {
            return Err(format!("{key}: unknown room_type {room_type:?}"));
        }
        if status != "active" && status != "closed" {
            return Err(format!("{key}: unknown status {status:?}"));
        }
        if capacity <= 0 {
            return Err(format!("{key}: capacity {capacity}"));
        }
        if let Some(m) = &metadata
            && serde_json::from_str::<serde_json::Value>(m).is_err()
        {
            return Err(format!("{key}: metadata_json is not JSON"));
        }
        if crate::migrate::credits_import::parse_time(&created).is_none() {
            return Err(format!("{key}: bad created_at {created:?}"));
        }
        let closed_at = match (status.as_str(), closed) {
            ("closed", at) => at,
            // Closed on import, at the last second anyone in it was metered.
            (_, _) => Some(
                out.participants
                    .iter()
                    .filter(|p| p.room_id == room_id)
                    .map(|p| p.last_metered_at_epoch)
                    .max()
                    .map_or_else(|| created.clone(), iso),
            ),
        };
        out.rooms.push(ImportedRoom {
            host_wallet: wallet(&host, &key)?,
            room_id,
            room_type,
            booking_id,
            capacity,
            status: "closed".to_owned(),
            metadata_json: metadata,
            created_at: created,
            closed_at,
        });
    }
    for duet in duets {
        out.duet_rooms.push(duet_row(duet)?);
    }
    for s in songs {
        let key = format!("song_registry {}", s.song_id);
        if s.song_id.trim().is_empty() || s.story_ip_id.trim().is_empty() {
            return Err(format!("{key}: empty song_id or story_ip_id"));
        }
        if s.default_upstream_bps < 0 || s.default_upstream_bps > 10_000 {
            return Err(format!(
                "{key}: default_upstream_bps {}",
                s.default_upstream_bps
            ));
        }
        out.songs.push(s);
    }
    Ok(out)
}

/// Checks one `duet_rooms` row and ends it if it was not.
fn duet_row(row: DuetDumpRow) -> Result<DuetRow, String> {
    let DuetDumpRow {
        room_id,
        host_wallet: host,
        guest_wallet: guest,
        status,
        split_address: split,
        network,
        live_amount: live,
        replay_amount: replay,
        audience_mode: audience,
        visibility,
        title,
        room_kind,
        listener_count: listeners,
        live_started_at,
        ended_at,
        created_at,
        updated_at,
    } = row;
    let key = format!("duet_rooms {room_id}");
    let amount = |text: &str, field: &str| {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(format!("{key}: {field} {text:?} is not a base-unit amount"))
        }
    };
    amount(&live, "live_amount")?;
    amount(&replay, "replay_amount")?;
    if !matches!(status.as_str(), "created" | "live" | "ended") {
        return Err(format!("{key}: unknown status {status:?}"));
    }
    if visibility != "public" && visibility != "unlisted" {
        return Err(format!("{key}: unknown visibility {visibility:?}"));
    }
    if network.trim().is_empty() {
        return Err(format!("{key}: empty network"));
    }
    if listeners < 0 || created_at < 0 || updated_at < created_at {
        return Err(format!(
            "{key}: bad listener_count/created_at/updated_at ({listeners}, {created_at}, {updated_at})"
        ));
    }
    let mut duet = DuetRow {
        host_wallet: wallet(&host, &key)?,
        guest_wallet: guest.as_deref().map(|g| wallet(g, &key)).transpose()?,
        split_address: wallet(&split, &key)?,
        room_id,
        status,
        network,
        live_amount: live,
        replay_amount: replay,
        visibility,
        title,
        room_kind,
        listener_count: listeners,
        live_started_at,
        ended_at,
        created_at,
        updated_at,
    };
    if duet.audience_mode() != audience {
        return Err(format!(
            "{key}: audience_mode {audience:?} does not match live_amount {:?}",
            duet.live_amount
        ));
    }
    if duet.status != "ended" {
        duet.status = "ended".to_owned();
        duet.ended_at = Some(duet.ended_at.unwrap_or(updated_at));
    }
    Ok(duet)
}
