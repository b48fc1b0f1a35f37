//! The same scenario on SQLite and on the Postgres of the machine (skipped when
//! `127.0.0.1:5432` does not answer): one active free room per host even under concurrent
//! inserts, ownership, leave and close, and the `/rooms/active` listing; booked rooms'
//! insert-or-ignore and a wallet's first active connection.

use super::*;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

async fn scenario(db: RoomsDb) {
    let host = "0x00000000000000000000000000000000000000aa";
    let inserts = (0..8).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            db.insert_free_room(
                &format!("room-{i}"),
                host,
                6,
                r#"{"visibility":"open","ai_enabled":false}"#,
                "2026-01-01T00:00:00.000Z",
            )
            .await
        })
    });
    let mut created = Vec::new();
    for (i, insert) in inserts.enumerate() {
        match insert.await.unwrap() {
            Ok(()) => created.push(format!("room-{i}")),
            Err(RoomsDbError::HostHasActiveRoom) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(created.len(), 1, "one active free room per host");
    let room = &created[0];
    assert!(db.hosts_active_free_room(host).await.unwrap());
    assert_eq!(
        db.active_room(room).await.unwrap(),
        Some(RoomRow {
            room_type: "free".into(),
            host_wallet: host.into(),
            capacity: 6
        })
    );
    db.insert_free_room(
        "hidden",
        "0x00000000000000000000000000000000000000bb",
        6,
        r#"{"visibility":"private","ai_enabled":true}"#,
        "2026-01-01T00:00:01.000Z",
    )
    .await
    .unwrap();
    db.insert_participant(&NewParticipant {
        connection_id: "c1",
        room_id: room,
        wallet: host,
        agora_uid: 170,
        joined_at: 100,
    })
    .await
    .unwrap();
    assert!(db.in_free_room(host).await.unwrap());
    assert!(db.owns_connection(host, "c1", room).await.unwrap());
    assert!(!db.owns_connection(host, "c1", "hidden").await.unwrap());
    assert_eq!(db.active_participant_count(room).await.unwrap(), 1);
    assert_eq!(
        db.open_active_rooms().await.unwrap(),
        vec![(
            room.clone(),
            host.to_owned(),
            1,
            "2026-01-01T00:00:00.000Z".to_owned()
        )]
    );
    db.mark_left("c1", 130, 30).await.unwrap();
    assert!(!db.in_free_room(host).await.unwrap());
    db.close_room(room, "2026-01-01T00:01:00.000Z")
        .await
        .unwrap();
    assert!(db.active_room(room).await.unwrap().is_none());
    assert!(!db.hosts_active_free_room(host).await.unwrap());
    assert_eq!(
        db.free_room_host(room).await.unwrap().as_deref(),
        Some(host)
    );
    booked(&db).await;
}

async fn booked(db: &RoomsDb) {
    let host = "0x00000000000000000000000000000000000000cc";
    let at = "2026-01-01T00:00:00.000Z";
    db.insert_booked_room("booked-9", Some(9), host, 2, at)
        .await
        .unwrap();
    // A second insert (another joiner) leaves the row as it is.
    db.insert_booked_room("booked-9", Some(9), "0xother", 6, at)
        .await
        .unwrap();
    let row = RoomRow {
        room_type: "booked".into(),
        host_wallet: host.into(),
        capacity: 2,
    };
    assert_eq!(db.active_room("booked-9").await.unwrap(), Some(row));
    for (id, joined) in [("b2", 120), ("b1", 110)] {
        db.insert_participant(&NewParticipant {
            connection_id: id,
            room_id: "booked-9",
            wallet: host,
            agora_uid: 1,
            joined_at: joined,
        })
        .await
        .unwrap();
    }
    assert!(!db.in_free_room(host).await.unwrap());
    assert_eq!(
        db.active_connection("booked-9", host).await.unwrap(),
        Some(("b1".to_owned(), 110))
    );
    assert_eq!(
        db.active_connection("booked-9", "0xother").await.unwrap(),
        None
    );
    db.mark_left("b1", 130, 0).await.unwrap();
    assert_eq!(
        db.active_connection("booked-9", host).await.unwrap(),
        Some(("b2".to_owned(), 120))
    );
    db.close_room("booked-9", at).await.unwrap();
    db.insert_booked_room("booked-9", Some(9), host, 2, at)
        .await
        .unwrap();
    assert!(
        db.active_room("booked-9").await.unwrap().is_none(),
        "stays closed"
    );
}

#[tokio::test]
async fn sqlite_tables_keep_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("rooms.db").display());
    scenario(RoomsDb::open(&url, None).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_tables_keep_the_contract() {
    if tokio::net::TcpStream::connect("127.0.0.1:5432")
        .await
        .is_err()
    {
        eprintln!("no Postgres on 127.0.0.1:5432; skipped");
        return;
    }
    let schema = format!("rooms_test_{}", rand::random::<u32>());
    scenario(RoomsDb::open(PG_URL, Some(&schema)).await.unwrap()).await;
}

/// One wallet joining four free rooms concurrently (two attempts each) gets exactly one seat;
/// leave frees it, a seat left stale by a half-done leave does not block, and closing a room
/// frees its seats.
async fn one_seat_per_wallet(db: RoomsDb) {
    let wallet = "0x00000000000000000000000000000000000000cc";
    for i in 0..4u8 {
        db.insert_free_room(
            &format!("seat-room-{i}"),
            &format!("0x00000000000000000000000000000000000000{:02x}", 0xd0 + i),
            6,
            r#"{"visibility":"open","ai_enabled":false}"#,
            "2026-01-01T00:00:00.000Z",
        )
        .await
        .unwrap();
    }
    let joins = (0..8u8).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let connection = format!("seat-c{i}");
            let room = format!("seat-room-{}", i % 4);
            db.insert_free_participant(&NewParticipant {
                connection_id: &connection,
                room_id: &room,
                wallet,
                agora_uid: 1,
                joined_at: 100,
            })
            .await
            .map(|()| connection)
        })
    });
    let mut seated = Vec::new();
    for join in joins {
        match join.await.unwrap() {
            Ok(connection) => seated.push(connection),
            Err(RoomsDbError::WalletInFreeRoom) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(seated.len(), 1, "exactly one seat: {seated:?}");
    let mut active = 0;
    for i in 0..4 {
        active += db
            .active_participant_count(&format!("seat-room-{i}"))
            .await
            .unwrap();
    }
    assert_eq!(active, 1, "no participant row without its seat");

    let join = |connection: &'static str, room: &'static str| {
        let db = db.clone();
        async move {
            db.insert_free_participant(&NewParticipant {
                connection_id: connection,
                room_id: room,
                wallet,
                agora_uid: 1,
                joined_at: 200,
            })
            .await
        }
    };
    // Leave frees the seat.
    db.mark_left(&seated[0], 150, 0).await.unwrap();
    join("seat-d1", "seat-room-1").await.unwrap();
    assert!(matches!(
        join("seat-d2", "seat-room-2").await,
        Err(RoomsDbError::WalletInFreeRoom)
    ));
    // A leave whose seat delete never ran: the next join clears the stale seat.
    let stale = "UPDATE room_participants SET left_at_epoch = 250 WHERE connection_id = 'seat-d1'";
    match &db {
        RoomsDb::Sqlite(pool) => pool.execute(stale).await.map(|_| ()),
        RoomsDb::Postgres(pool) => pool.execute(stale).await.map(|_| ()),
    }
    .unwrap();
    join("seat-d3", "seat-room-3").await.unwrap();
    // Closing the room frees its seats.
    db.mark_all_left("seat-room-3", 300).await.unwrap();
    join("seat-d4", "seat-room-0").await.unwrap();
}

#[tokio::test]
async fn sqlite_keeps_one_free_seat_per_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("rooms.db").display());
    one_seat_per_wallet(RoomsDb::open(&url, None).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_keeps_one_free_seat_per_wallet() {
    if tokio::net::TcpStream::connect("127.0.0.1:5432")
        .await
        .is_err()
    {
        eprintln!("no Postgres on 127.0.0.1:5432; skipped");
        return;
    }
    let schema = format!("rooms_seats_{}", rand::random::<u32>());
    one_seat_per_wallet(RoomsDb::open(PG_URL, Some(&schema)).await.unwrap()).await;
}

/// Tables made before the guard: opening them seats the wallets already active in free rooms.
#[tokio::test]
async fn opening_older_tables_seats_the_active_free_participants() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("rooms.db").display());
    let db = RoomsDb::open(&url, None).await.unwrap();
    let wallet = "0x00000000000000000000000000000000000000cc";
    for room in ["old-a", "old-b"] {
        db.insert_free_room(room, room, 6, "{}", "2026-01-01T00:00:00.000Z")
            .await
            .unwrap();
    }
    // A row written without a seat, as before the guard existed.
    db.insert_participant(&NewParticipant {
        connection_id: "old-c",
        room_id: "old-a",
        wallet,
        agora_uid: 1,
        joined_at: 100,
    })
    .await
    .unwrap();
    let RoomsDb::Sqlite(pool) = &db else {
        unreachable!()
    };
    pool.execute("DELETE FROM free_room_seats").await.unwrap();
    pool.close().await;
    let db = RoomsDb::open(&url, None).await.unwrap();
    let again = db
        .insert_free_participant(&NewParticipant {
            connection_id: "new-c",
            room_id: "old-b",
            wallet,
            agora_uid: 1,
            joined_at: 200,
        })
        .await;
    assert!(
        matches!(again, Err(RoomsDbError::WalletInFreeRoom)),
        "{again:?}"
    );
}
