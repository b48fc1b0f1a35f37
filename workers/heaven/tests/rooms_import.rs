//! `heaven migrate rooms-import` of the original's `rooms`, `room_participants`, `duet_rooms`
//! and `song_registry` from a `wrangler d1 export` dump: imported exactly (active rooms closed
//! at their last metered second, active participants marked left, duet rooms not ended marked
//! ended at their last update), a bad row imports nothing, re-running changes nothing.

mod common;

use common::d1_dump::ROOMS_DUMP as DUMP;
use common::run_to_end;
use sqlx::{Connection, SqliteConnection};

/// What the tables must hold after importing [`DUMP`].
const EXPECTED: &str = "\
rooms booked-7|booked|7|0x00000000000000000000000000000000000000bb|2|closed|NULL|2026-01-10T12:00:00.000Z|2026-01-10T12:00:00.000Z
rooms r-closed|free|NULL|0x00000000000000000000000000000000000000aa|6|closed|{\"visibility\":\"open\",\"ai_enabled\":false}|2026-01-10T10:00:00.000Z|2026-01-10T10:30:00.000Z
rooms r-live|free|NULL|0x00000000000000000000000000000000000000aa|6|closed|{\"visibility\":\"private\",\"ai_enabled\":true}|2026-01-10T11:00:00.000Z|2026-01-10T11:10:30.000Z
room_participants c1|r-closed|0x00000000000000000000000000000000000000aa|11|1768039200|1768041000|1768041000|0|0|1800
room_participants c2|r-live|0x00000000000000000000000000000000000000aa|12|1768042800|1768043400|1768043400|1|0|600
room_participants c3|r-live|0x00000000000000000000000000000000000000cc|13|1768042900|1768043430|1768043430|0|0|530
room_participants c4|r-live|0x00000000000000000000000000000000000000dd|4294967295|1768042800|1768042860|1768042860|0|1|60
duet_rooms d-created|0x00000000000000000000000000000000000000bb|NULL|ended|0x00000000000000000000000000000000000000ee|eip155:84532|250000|100000|ticketed|public|Soon|duet|0|NULL|1768045000|1768045000|1768045000
duet_rooms d-ended|0x00000000000000000000000000000000000000aa|0x00000000000000000000000000000000000000cc|ended|0x00000000000000000000000000000000000000ee|eip155:84532|100000|50000|ticketed|public|Late set|dj_set|12|1768040000|1768043600|1768039000|1768043600
duet_rooms d-live|0x00000000000000000000000000000000000000aa|NULL|ended|0x00000000000000000000000000000000000000ee|eip155:84532|0|0|free|unlisted|NULL|NULL|4|1768044000|1768044500|1768043900|1768044500
song_registry s1|Héllo|Ärtist|hello|artist|0xstory1|0x00000000000000000000000000000000000000aa|1315|0x00000000000000000000000000000000000000ee|250|0xsig|NULL|1768000000|1768000100
song_registry s2|Two|Band|two|band|0xstory2|0x00000000000000000000000000000000000000aa|1315|0x00000000000000000000000000000000000000ee|0|0xsig2|preset-1|1768000200|1768000200
";

/// Every row of the three tables, one line each, in key order.
async fn tables(data: &std::path::Path) -> String {
    let path = data.join("state.sqlite3");
    if !path.exists() {
        return String::new();
    }
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mut out = String::new();
    for (table, key) in [
        ("rooms", "room_id"),
        ("room_participants", "connection_id"),
        ("duet_rooms", "room_id"),
        ("song_registry", "song_id"),
    ] {
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind(table)
                .fetch_optional(&mut db)
                .await
                .unwrap();
        if exists.is_none() {
            continue;
        }
        let columns: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .fetch_all(&mut db)
        .await
        .unwrap();
        let row = columns
            .iter()
            .map(|(c,)| format!("COALESCE(CAST({c} AS TEXT), 'NULL')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT {row} FROM {table} ORDER BY {key}"))
                .fetch_all(&mut db)
                .await
                .unwrap();
        for (r,) in rows {
            out.push_str(&format!("{table} {r}\n"));
        }
    }
    out
}

fn import(data: &std::path::Path, dump: &str) -> (i32, String, String) {
    let file = data.join("dump.sql");
    std::fs::write(&file, dump).unwrap();
    run_to_end(
        &["migrate", "rooms-import", file.to_str().unwrap()],
        data,
        &[],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_original_room_tables_import_exactly_whole_or_not_at_all_and_rerun_unchanged() {
    let data = tempfile::tempdir().unwrap();

    // A bad row (a participant of a room the dump does not have) refuses the dump.
    let orphan = DUMP.replace("VALUES('c3','r-live'", "VALUES('c3','r-gone'");
    let (code, _, err) = import(data.path(), &orphan);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("room_participants c3: no rooms row \"r-gone\""),
        "{err}"
    );
    assert_eq!(tables(data.path()).await, "", "nothing was imported");

    // The whole dump, exactly; active rooms closed, active participants left.
    let (code, out, err) = import(data.path(), DUMP);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("imported 3 rooms, 4 room participants, 3 duet rooms and 2 songs"),
        "{out}"
    );
    assert_eq!(tables(data.path()).await, EXPECTED);

    // Re-running changes nothing.
    let (code, _, err) = import(data.path(), DUMP);
    assert_eq!(code, 0, "{err}");
    assert_eq!(tables(data.path()).await, EXPECTED);

    // A row the database refuses (a new song with an imported song's story id) rolls back
    // the rows written before it in the same transaction: the changed room stays as it was.
    let clash = DUMP
        .replace(
            "'r-closed','free',NULL,'0x00000000000000000000000000000000000000aa',6",
            "'r-closed','free',NULL,'0x00000000000000000000000000000000000000aa',2",
        )
        .replace("VALUES('s2'", "VALUES('s0'")
        .replace("'0xstory2'", "'0xstory1x'")
        .replace("VALUES('s1'", "VALUES('s9'")
        .replace("'0xstory1'", "'0xstory2'");
    // s0 now claims story 1x (new) and s9 claims story 2, which s2 already holds.
    let (code, _, err) = import(data.path(), &clash);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("song_registry s9"), "{err}");
    assert_eq!(tables(data.path()).await, EXPECTED, "nothing was written");

    // A refused check on the host wallet names the table and row too.
    let bad_host = DUMP.replace(
        "'booked',7,'0x00000000000000000000000000000000000000bb'",
        "'booked',7,'nobody'",
    );
    let (code, _, err) = import(data.path(), &bad_host);
    assert_eq!(code, 1);
    assert!(err.contains("rooms booked-7: bad wallet"), "{err}");
    assert_eq!(tables(data.path()).await, EXPECTED);

    // A duet row whose audience mode contradicts its price is refused, not silently changed.
    let free_but_priced = DUMP.replace(
        "'d-live','0x00000000000000000000000000000000000000AA',NULL,'live','0x00000000000000000000000000000000000000ee','eip155:84532','0'",
        "'d-live','0x00000000000000000000000000000000000000AA',NULL,'live','0x00000000000000000000000000000000000000ee','eip155:84532','5'",
    );
    assert_ne!(free_but_priced, DUMP);
    let (code, _, err) = import(data.path(), &free_but_priced);
    assert_eq!(code, 1);
    assert!(
        err.contains("duet_rooms d-live: audience_mode \"free\" does not match"),
        "{err}"
    );
    assert_eq!(tables(data.path()).await, EXPECTED);
}
