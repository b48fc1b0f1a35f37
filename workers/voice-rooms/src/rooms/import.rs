//! Writing the original's `rooms`, `room_participants`, `duet_rooms` and `song_registry` rows
//! (checked by `heaven migrate rooms-import`) into our tables, in one transaction per database.
//! Existing ids are replaced (upsert), so re-running the same dump changes nothing.

use super::db::{DuetRow, RoomsDb};
use crate::songs::Song;

/// A `rooms` row as imported (already closed if it was active in the dump).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRoom {
    /// `room_id`.
    pub room_id: String,
    /// `free` or `booked`.
    pub room_type: String,
    /// `booking_id` (booked rooms).
    pub booking_id: Option<i64>,
    /// Host wallet (lowercase).
    pub host_wallet: String,
    /// Seats.
    pub capacity: i64,
    /// `active` or `closed`.
    pub status: String,
    /// `metadata_json`.
    pub metadata_json: Option<String>,
    /// ISO time.
    pub created_at: String,
    /// ISO time.
    pub closed_at: Option<String>,
}

/// A `room_participants` row as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedParticipant {
    /// `connection_id`.
    pub connection_id: String,
    /// `room_id`.
    pub room_id: String,
    /// Wallet (lowercase).
    pub wallet: String,
    /// Agora uid.
    pub agora_uid: i64,
    /// Join second.
    pub joined_at_epoch: i64,
    /// Watermark.
    pub last_metered_at_epoch: i64,
    /// Leave second (`None` = active).
    pub left_at_epoch: Option<i64>,
    /// `warned_low` (0/1).
    pub warned_low: i64,
    /// `exhausted` (0/1).
    pub exhausted: i64,
    /// Debited on the connection.
    pub debited_seconds: i64,
}

/// The rows of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomsImport {
    /// `rooms`.
    pub rooms: Vec<ImportedRoom>,
    /// `room_participants`.
    pub participants: Vec<ImportedParticipant>,
    /// `duet_rooms` (the discovery index; already `ended` if the room was not).
    pub duet_rooms: Vec<DuetRow>,
    /// `song_registry`.
    pub songs: Vec<Song>,
}

const ROOM_UPSERT: &str = "INSERT INTO rooms (room_id, room_type, booking_id, host_wallet,
        capacity, status, metadata_json, created_at, closed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (room_id) DO UPDATE SET room_type = excluded.room_type,
        booking_id = excluded.booking_id, host_wallet = excluded.host_wallet,
        capacity = excluded.capacity, status = excluded.status,
        metadata_json = excluded.metadata_json, created_at = excluded.created_at,
        closed_at = excluded.closed_at";

const PARTICIPANT_UPSERT: &str = "INSERT INTO room_participants (connection_id, room_id, wallet,
        agora_uid, joined_at_epoch, last_metered_at_epoch, left_at_epoch, warned_low, exhausted,
        debited_seconds)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (connection_id) DO UPDATE SET room_id = excluded.room_id,
        wallet = excluded.wallet, agora_uid = excluded.agora_uid,
        joined_at_epoch = excluded.joined_at_epoch,
        last_metered_at_epoch = excluded.last_metered_at_epoch,
        left_at_epoch = excluded.left_at_epoch, warned_low = excluded.warned_low,
        exhausted = excluded.exhausted, debited_seconds = excluded.debited_seconds";

const DUET_UPSERT: &str = "INSERT INTO duet_rooms (room_id, host_wallet, guest_wallet, status,
        split_address, network, live_amount, replay_amount, audience_mode, visibility, title,
        room_kind, listener_count, live_started_at, ended_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    ON CONFLICT (room_id) DO UPDATE SET host_wallet = excluded.host_wallet,
        guest_wallet = excluded.guest_wallet, status = excluded.status,
        split_address = excluded.split_address, network = excluded.network,
        live_amount = excluded.live_amount, replay_amount = excluded.replay_amount,
        audience_mode = excluded.audience_mode, visibility = excluded.visibility,
        title = excluded.title, room_kind = excluded.room_kind,
        listener_count = excluded.listener_count, live_started_at = excluded.live_started_at,
        ended_at = excluded.ended_at, created_at = excluded.created_at,
        updated_at = excluded.updated_at";

const SONG_UPSERT: &str = "INSERT INTO song_registry (song_id, title, artist, title_norm,
        artist_norm, story_ip_id, controller_wallet, payout_chain_id, payout_address,
        default_upstream_bps, payout_attestation_sig, license_preset_id, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
    ON CONFLICT (song_id) DO UPDATE SET title = excluded.title, artist = excluded.artist,
        title_norm = excluded.title_norm, artist_norm = excluded.artist_norm,
        story_ip_id = excluded.story_ip_id, controller_wallet = excluded.controller_wallet,
        payout_chain_id = excluded.payout_chain_id, payout_address = excluded.payout_address,
        default_upstream_bps = excluded.default_upstream_bps,
        payout_attestation_sig = excluded.payout_attestation_sig,
        license_preset_id = excluded.license_preset_id, created_at = excluded.created_at,
        updated_at = excluded.updated_at";

/// What the import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// `rooms` rows.
    pub rooms: usize,
    /// `room_participants` rows.
    pub participants: usize,
    /// `duet_rooms` rows.
    pub duet_rooms: usize,
    /// `song_registry` rows.
    pub songs: usize,
}

/// A row the database refused; the transaction was rolled back.
#[derive(Debug, thiserror::Error)]
#[error("{table} {key}: {source}")]
pub struct ImportError {
    /// The table.
    pub table: &'static str,
    /// The row's key (empty when the failure was not a row's, e.g. the commit).
    pub key: String,
    /// The database error.
    pub source: sqlx::Error,
}

fn refused<'a>(table: &'static str, key: &'a str) -> impl FnOnce(sqlx::Error) -> ImportError + 'a {
    move |source| ImportError {
        table,
        key: key.to_owned(),
        source,
    }
}

macro_rules! write_all {
    ($pool:expr, $fix:expr, $data:expr, $with_songs:expr) => {{
        let mut tx = $pool.begin().await.map_err(refused("transaction", ""))?;
        let room_sql = $fix(ROOM_UPSERT);
        for r in &$data.rooms {
            sqlx::query(&room_sql)
                .bind(&r.room_id)
                .bind(&r.room_type)
                .bind(r.booking_id)
                .bind(&r.host_wallet)
                .bind(r.capacity)
                .bind(&r.status)
                .bind(&r.metadata_json)
                .bind(&r.created_at)
                .bind(&r.closed_at)
                .execute(&mut *tx)
                .await
                .map_err(refused("rooms", &r.room_id))?;
        }
        let participant_sql = $fix(PARTICIPANT_UPSERT);
        for p in &$data.participants {
            sqlx::query(&participant_sql)
                .bind(&p.connection_id)
                .bind(&p.room_id)
                .bind(&p.wallet)
                .bind(p.agora_uid)
                .bind(p.joined_at_epoch)
                .bind(p.last_metered_at_epoch)
                .bind(p.left_at_epoch)
                .bind(p.warned_low)
                .bind(p.exhausted)
                .bind(p.debited_seconds)
                .execute(&mut *tx)
                .await
                .map_err(refused("room_participants", &p.connection_id))?;
        }
        let duet_sql = $fix(DUET_UPSERT);
        for d in &$data.duet_rooms {
            sqlx::query(&duet_sql)
                .bind(&d.room_id)
                .bind(&d.host_wallet)
                .bind(&d.guest_wallet)
                .bind(&d.status)
                .bind(&d.split_address)
                .bind(&d.network)
                .bind(&d.live_amount)
                .bind(&d.replay_amount)
                .bind(d.audience_mode())
                .bind(&d.visibility)
                .bind(&d.title)
                .bind(&d.room_kind)
                .bind(d.listener_count)
                .bind(d.live_started_at)
                .bind(d.ended_at)
                .bind(d.created_at)
                .bind(d.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(refused("duet_rooms", &d.room_id))?;
        }
        let song_sql = $fix(SONG_UPSERT);
        let songs: &[Song] = if $with_songs { &$data.songs } else { &[] };
        for s in songs {
            sqlx::query(&song_sql)
                .bind(&s.song_id)
                .bind(&s.title)
                .bind(&s.artist)
                .bind(&s.title_norm)
                .bind(&s.artist_norm)
                .bind(&s.story_ip_id)
                .bind(&s.controller_wallet)
                .bind(s.payout_chain_id)
                .bind(&s.payout_address)
                .bind(s.default_upstream_bps)
                .bind(&s.payout_attestation_sig)
                .bind(&s.license_preset_id)
                .bind(s.created_at)
                .bind(s.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(refused("song_registry", &s.song_id))?;
        }
        tx.commit().await.map_err(refused("transaction", ""))?;
        Ok(ImportCounts {
            rooms: $data.rooms.len(),
            participants: $data.participants.len(),
            duet_rooms: $data.duet_rooms.len(),
            songs: songs.len(),
        })
    }};
}

fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn pg_sql(sql: &str) -> String {
    sql.to_owned()
}

impl RoomsDb {
    /// Writes the rows in one transaction; `with_songs` also writes `song_registry` in it (the
    /// table must exist in this database: open the [`crate::songs::SongRegistry`] on the same
    /// URL first). Any refused row rolls everything back.
    pub async fn import(
        &self,
        data: &RoomsImport,
        with_songs: bool,
    ) -> Result<ImportCounts, ImportError> {
        match self {
            RoomsDb::Sqlite(pool) => write_all!(pool, sqlite_sql, data, with_songs),
            RoomsDb::Postgres(pool) => write_all!(pool, pg_sql, data, with_songs),
        }
    }
}

impl crate::songs::SongRegistry {
    /// Writes `songs` in one transaction (when the room tables live in another database).
    pub async fn import(&self, songs: &[Song]) -> Result<usize, ImportError> {
        let data = RoomsImport {
            songs: songs.to_vec(),
            ..RoomsImport::default()
        };
        let counts: Result<ImportCounts, ImportError> = match self {
            Self::Sqlite(pool) => write_all!(pool, sqlite_sql, data, true),
            Self::Postgres(pool) => write_all!(pool, pg_sql, data, true),
        };
        counts.map(|c| c.songs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::songs::SongRegistry;

    fn data() -> RoomsImport {
        RoomsImport {
            rooms: vec![ImportedRoom {
                room_id: "r1".into(),
                room_type: "free".into(),
                booking_id: None,
                host_wallet: "0x00000000000000000000000000000000000000aa".into(),
                capacity: 6,
                status: "closed".into(),
                metadata_json: Some(r#"{"visibility":"open","ai_enabled":false}"#.into()),
                created_at: "2026-01-10T10:00:00.000Z".into(),
                closed_at: Some("2026-01-10T10:30:00.000Z".into()),
            }],
            participants: vec![ImportedParticipant {
                connection_id: "c1".into(),
                room_id: "r1".into(),
                wallet: "0x00000000000000000000000000000000000000aa".into(),
                agora_uid: 7,
                joined_at_epoch: 100,
                last_metered_at_epoch: 160,
                left_at_epoch: Some(160),
                warned_low: 0,
                exhausted: 0,
                debited_seconds: 60,
            }],
            duet_rooms: vec![DuetRow {
                room_id: "d1".into(),
                host_wallet: "0x00000000000000000000000000000000000000aa".into(),
                guest_wallet: None,
                status: "ended".into(),
                split_address: "0x00000000000000000000000000000000000000ee".into(),
                network: "eip155:84532".into(),
                live_amount: "100000".into(),
                replay_amount: "100000".into(),
                visibility: "public".into(),
                title: Some("Set".into()),
                room_kind: None,
                listener_count: 3,
                live_started_at: Some(150),
                ended_at: Some(200),
                created_at: 100,
                updated_at: 200,
            }],
            songs: vec![Song {
                song_id: "s1".into(),
                title: "T".into(),
                artist: "A".into(),
                title_norm: "t".into(),
                artist_norm: "a".into(),
                story_ip_id: "0xstory".into(),
                controller_wallet: "0x00000000000000000000000000000000000000aa".into(),
                payout_chain_id: 1315,
                payout_address: "0x00000000000000000000000000000000000000ee".into(),
                default_upstream_bps: 0,
                payout_attestation_sig: "0xsig".into(),
                license_preset_id: None,
                created_at: 1,
                updated_at: 2,
            }],
        }
    }

    /// Imports, re-imports (same counts, same rows), then a dump whose song clashes on the
    /// story id with a stored one: refused, naming the row, and the room change before it in
    /// the same transaction is rolled back.
    async fn scenario(db: RoomsDb, songs: SongRegistry) {
        let d = data();
        let counts = db.import(&d, true).await.unwrap();
        assert_eq!(
            (
                counts.rooms,
                counts.participants,
                counts.duet_rooms,
                counts.songs
            ),
            (1, 1, 1, 1)
        );
        db.import(&d, true).await.unwrap();
        assert_eq!(songs.get("s1").await.unwrap(), Some(d.songs[0].clone()));
        assert_eq!(
            db.free_room_host("r1").await.unwrap().as_deref(),
            Some(d.rooms[0].host_wallet.as_str())
        );
        let mut clash = data();
        clash.rooms[0].host_wallet = "0x00000000000000000000000000000000000000bb".into();
        clash.songs[0].song_id = "s2".into();
        let err = db.import(&clash, true).await.unwrap_err();
        assert_eq!((err.table, err.key.as_str()), ("song_registry", "s2"));
        assert_eq!(
            db.free_room_host("r1").await.unwrap().as_deref(),
            Some("0x00000000000000000000000000000000000000aa"),
            "rolled back"
        );
        assert_eq!(songs.get("s2").await.unwrap(), None);
        // The songs on their own (another database than the rooms).
        assert_eq!(songs.import(&d.songs).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn sqlite_import_is_one_transaction_and_rerunnable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let songs = SongRegistry::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let db = RoomsDb::open(&format!("sqlite:{}", path.display()), None)
            .await
            .unwrap();
        scenario(db, songs).await;
    }

    #[tokio::test]
    async fn postgres_import_is_one_transaction_and_rerunnable() {
        if tokio::net::TcpStream::connect("127.0.0.1:5432")
            .await
            .is_err()
        {
            eprintln!("no Postgres on 127.0.0.1:5432; skipped");
            return;
        }
        let schema = format!("rooms_import_{}", rand::random::<u32>());
        let db = RoomsDb::open("postgres://postgres@127.0.0.1:5432/test", Some(&schema))
            .await
            .unwrap();
        let RoomsDb::Postgres(pool) = &db else {
            unreachable!()
        };
        let songs = SongRegistry::with_postgres(pool.clone()).await.unwrap();
        scenario(db, songs).await;
    }
}
