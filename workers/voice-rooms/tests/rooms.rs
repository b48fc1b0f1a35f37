//! The free rooms over real HTTP: room actors in a SQLite state store, the tables in a SQLite
//! file, the credits double with the canister's watermark rule, a manual clock. The alarm is
//! rung through [`Rooms::ring_alarm`] after moving the clock (its tokio timer is covered by
//! portability's actor tests; the SQLite pools run on their own threads, so paused tokio time
//! would race their timeouts).

mod common;

use std::sync::Arc;

use common::rooms_stack::{Stack, start};
use common::{FakeCredits, START, User};
use serde_json::{Value, json};
use voice_rooms::{Clock, CreditBalance};

async fn stack() -> (tempfile::TempDir, Stack) {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(
        dir.path(),
        Clock::manual(START),
        Arc::new(FakeCredits::default()),
    )
    .await;
    (dir, stack)
}

#[tokio::test]
async fn lifecycle_bodies_create_join_heartbeat_renew_leave_and_host_close() {
    let (_dir, s) = stack().await;
    let host = s.named(1);
    let guest = s.named(2);

    let (status, body) = s
        .post(
            Some(&host),
            "/rooms/create",
            r#"{"visibility":"public","ai_enabled":"yes"}"#,
        )
        .await;
    assert_eq!(status, 200);
    let room = serde_json::from_str::<Value>(&body).unwrap()["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body,
        format!(r#"{{"room_id":"{room}","channel":"heaven-free-{room}","visibility":"open"}}"#)
    );
    assert_eq!(
        s.get("/rooms/active").await,
        (
            200,
            format!(
                r#"{{"rooms":[{{"room_id":"{room}","host_wallet":"{}","participant_count":0,"created_at":"2026-01-01T00:00:00.000Z"}}]}}"#,
                host.lower()
            )
        )
    );

    let (status, body) = s
        .post(
            Some(&host),
            "/rooms/join",
            &json!({ "room_id": room }).to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let joined: Value = serde_json::from_str(&body).unwrap();
    let host_conn = joined["connection_id"].as_str().unwrap().to_owned();
    let token = joined["agora_token"].as_str().unwrap();
    assert!(token.starts_with("007"), "{token}");
    let uid = u32::from_str_radix(&host.lower()[34..], 16).unwrap();
    assert_eq!(
        body,
        format!(
            r#"{{"room_id":"{room}","channel":"heaven-free-{room}","connection_id":"{host_conn}","agora_uid":{uid},"host_wallet":"{}","is_host":true,"agora_token":"{token}","token_expires_in_seconds":90,"renew_after_seconds":45,"heartbeat_interval_seconds":30,"remaining_seconds":1800}}"#,
            host.lower()
        )
    );
    let guest_conn = s.join(&guest, &room).await;

    s.clock.advance(10);
    assert_eq!(
        s.on(&guest, "/rooms/heartbeat", &room, &guest_conn).await,
        (
            200,
            r#"{"ok":true,"remaining_seconds":1790,"events":[]}"#.into()
        )
    );
    s.clock.advance(5);
    let (status, body) = s.on(&guest, "/rooms/token/renew", &room, &guest_conn).await;
    assert_eq!(status, 200);
    let renewed: Value = serde_json::from_str(&body).unwrap();
    let token = renewed["agora_token"].as_str().unwrap();
    assert!(token.starts_with("007"));
    assert_eq!(
        body,
        format!(
            r#"{{"agora_token":"{token}","token_expires_in_seconds":90,"remaining_seconds":1785,"events":[]}}"#
        )
    );

    // A third user joins and leaves: not the last one, so the room stays open.
    let third = s.named(3);
    let third_conn = s.join(&third, &room).await;
    s.clock.advance(4);
    assert_eq!(
        s.on(&third, "/rooms/leave", &room, &third_conn).await,
        (
            200,
            r#"{"ok":true,"debited_seconds":4,"remaining_seconds":1796,"closed":false}"#.into()
        )
    );
    assert_eq!(
        s.on(&third, "/rooms/heartbeat", &room, &third_conn).await,
        (403, r#"{"error":"not_your_connection"}"#.into())
    );

    // The host's leave closes the room for everyone, metering both.
    s.clock.advance(1);
    assert_eq!(
        s.on(&host, "/rooms/leave", &room, &host_conn).await,
        (
            200,
            r#"{"ok":true,"debited_seconds":20,"remaining_seconds":1780,"closed":true}"#.into()
        )
    );
    assert_eq!(s.balance(&guest).consumed_seconds, 20);
    assert_eq!(
        s.on(&guest, "/rooms/heartbeat", &room, &guest_conn).await,
        (403, r#"{"error":"not_your_connection"}"#.into())
    );
    assert!(!s.db.in_free_room(&guest.lower()).await.unwrap());
    assert!(s.db.active_room(&room).await.unwrap().is_none());
    assert_eq!(
        s.get("/rooms/active").await,
        (200, r#"{"rooms":[]}"#.into())
    );
    assert!(!s.rooms.is_live(&room), "an ended room stops its actor");
    // The host may create again.
    s.create(&host).await;
}

#[tokio::test]
async fn checks_run_in_the_original_order_with_its_bodies() {
    let (_dir, s) = stack().await;
    let err = |code: &str| format!(r#"{{"error":"{code}"}}"#);

    // Auth first on every /rooms path but GET /rooms/active.
    assert_eq!(
        s.post(None, "/rooms/create", "{}").await,
        (401, err("unauthorized"))
    );
    assert_eq!(
        s.post(None, "/rooms/nope", "{}").await,
        (401, err("unauthorized"))
    );
    let host = s.named(1);
    assert_eq!(
        s.post(Some(&host), "/rooms/nope", "{}").await,
        (404, "404 Not Found".into())
    );

    // No name, no base grant.
    let nameless = User::new(9);
    assert_eq!(
        s.post(Some(&nameless), "/rooms/create", "not json").await,
        (403, err("heaven_name_required"))
    );
    // Under 90 s.
    let poor = s.named(8);
    s.credits.balances.lock().unwrap().insert(
        poor.lower(),
        CreditBalance {
            remaining_seconds: 50,
            base_granted_seconds: 1800,
            bonus_granted_seconds: 0,
            consumed_seconds: 1750,
        },
    );
    assert_eq!(
        s.post(Some(&poor), "/rooms/create", "{}").await,
        (
            403,
            r#"{"error":"insufficient_credits","remaining_seconds":50}"#.into()
        )
    );

    let room = s.create(&host).await;
    assert_eq!(
        s.post(Some(&host), "/rooms/create", "{}").await,
        (409, err("already_hosting_free_room"))
    );
    // Join: missing id before credits; credits before the room.
    assert_eq!(
        s.post(Some(&nameless), "/rooms/join", "{}").await,
        (400, err("missing room_id"))
    );
    assert_eq!(
        s.post(Some(&nameless), "/rooms/join", r#"{"room_id":"x"}"#)
            .await,
        (403, err("heaven_name_required"))
    );
    let guest = s.named(2);
    assert_eq!(
        s.post(Some(&guest), "/rooms/join", r#"{"room_id":"x"}"#)
            .await,
        (404, err("room_not_found"))
    );
    let guest_conn = s.join(&guest, &room).await;
    // In a free room: 409 on create and join, before anything about the target room.
    assert_eq!(
        s.post(Some(&guest), "/rooms/create", "{}").await,
        (409, err("already_in_free_room"))
    );
    assert_eq!(
        s.post(Some(&guest), "/rooms/join", r#"{"room_id":"x"}"#)
            .await,
        (409, err("already_in_free_room"))
    );
    // Connection calls.
    for path in ["/rooms/heartbeat", "/rooms/token/renew", "/rooms/leave"] {
        assert_eq!(
            s.post(Some(&guest), path, &json!({ "room_id": room }).to_string())
                .await,
            (400, err("missing room_id or connection_id"))
        );
        assert_eq!(
            s.on(&host, path, &room, &guest_conn).await,
            (403, err("not_your_connection")),
            "{path}: another wallet's connection"
        );
        assert_eq!(
            s.on(&guest, path, "other-room", &guest_conn).await,
            (403, err("not_your_connection"))
        );
    }
    // The row is the ownership authority; a host without a live connection gets the room's
    // 404 once a row says otherwise is not reachable here, so check the room's own 404.
    assert_eq!(
        s.rooms
            .call(
                &room,
                voice_rooms::rooms::RoomCommand::Heartbeat {
                    connection_id: "ghost".into()
                }
            )
            .await
            .unwrap()
            .body,
        err("participant_not_found")
    );
    assert_eq!(
        s.rooms
            .call(
                "never-created",
                voice_rooms::rooms::RoomCommand::Heartbeat {
                    connection_id: "ghost".into()
                }
            )
            .await
            .unwrap()
            .body,
        err("room_not_initialized")
    );
}

#[tokio::test]
async fn twenty_concurrent_joins_into_six_seats_admit_exactly_six() {
    let (_dir, s) = stack().await;
    let s = Arc::new(s);
    let host = s.named(1);
    let room = s.create(&host).await;
    let joins: Vec<_> = (0..20u8)
        .map(|i| {
            let s = s.clone();
            let room = room.clone();
            let user = s.named(10 + i);
            tokio::spawn(async move {
                s.post(
                    Some(&user),
                    "/rooms/join",
                    &json!({ "room_id": room }).to_string(),
                )
                .await
            })
        })
        .collect();
    let mut admitted = 0;
    for join in joins {
        match join.await.unwrap() {
            (200, _) => admitted += 1,
            (409, body) => assert_eq!(body, r#"{"error":"room_full"}"#),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted, 6);
    assert_eq!(s.db.active_participant_count(&room).await.unwrap(), 6);
}

#[tokio::test]
async fn one_wallet_joining_several_rooms_concurrently_gets_exactly_one_seat() {
    let (_dir, s) = stack().await;
    let s = Arc::new(s);
    let mut rooms = Vec::new();
    for seed in 1..=5u8 {
        // Hosts sit in their rooms, so the guest's leave does not close them.
        let host = s.named(seed);
        let room = s.create(&host).await;
        s.join(&host, &room).await;
        rooms.push(room);
    }
    let guest = Arc::new(s.named(40));
    for round in 0..3 {
        let joins: Vec<_> = rooms
            .iter()
            .flat_map(|room| [room.clone(), room.clone()])
            .map(|room| {
                let s = s.clone();
                let guest = guest.clone();
                tokio::spawn(async move {
                    let body = json!({ "room_id": room }).to_string();
                    (room, s.post(Some(&guest), "/rooms/join", &body).await)
                })
            })
            .collect();
        let mut seats = Vec::new();
        for join in joins {
            match join.await.unwrap() {
                (room, (200, body)) => {
                    let body: Value = serde_json::from_str(&body).unwrap();
                    seats.push((room, body["connection_id"].as_str().unwrap().to_owned()));
                }
                (_, (409, body)) => assert_eq!(body, r#"{"error":"already_in_free_room"}"#),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seats.len(), 1, "round {round}: {seats:?}");
        let mut rows = 0;
        for room in &rooms {
            rows += s.db.active_participant_count(room).await.unwrap();
        }
        assert_eq!(rows, 5 + 1, "round {round}: the hosts and one guest row");
        // Leaving frees the seat for the next round.
        let (room, connection) = &seats[0];
        let (status, body) = s.on(&guest, "/rooms/leave", room, connection).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn concurrent_creates_by_one_host_make_one_room() {
    let (_dir, s) = stack().await;
    let s = Arc::new(s);
    for seed in 1..=5u8 {
        let host = Arc::new(s.named(seed));
        let creates: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                let host = host.clone();
                tokio::spawn(async move { s.post(Some(&host), "/rooms/create", "{}").await })
            })
            .collect();
        let mut statuses = Vec::new();
        for create in creates {
            let (status, body) = create.await.unwrap();
            if status == 409 {
                assert_eq!(body, r#"{"error":"already_hosting_free_room"}"#);
            }
            statuses.push(status);
        }
        statuses.sort();
        assert_eq!(statuses, vec![200, 409], "host {seed}");
    }
    let (_, body) = s.get("/rooms/active").await;
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["rooms"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn parallel_heartbeats_bill_exactly_the_elapsed_seconds() {
    let (_dir, s) = stack().await;
    let s = Arc::new(s);
    let host = s.named(1);
    let room = s.create(&host).await;
    let conn = s.join(&host, &room).await;
    for (round, advance) in [(1, 5), (2, 3)] {
        s.clock.advance(advance);
        let beats: Vec<_> = (0..10)
            .map(|_| {
                let s = s.clone();
                let host = User::new(1);
                let room = room.clone();
                let conn = conn.clone();
                tokio::spawn(async move { s.on(&host, "/rooms/heartbeat", &room, &conn).await })
            })
            .collect();
        let mut remaining = Vec::new();
        for beat in beats {
            let (status, body) = beat.await.unwrap();
            assert_eq!(status, 200, "{body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            remaining.push(body["remaining_seconds"].as_u64().unwrap());
        }
        let consumed = if round == 1 { 5 } else { 8 };
        assert!(
            remaining.iter().all(|r| *r == 1800 - consumed),
            "{remaining:?}"
        );
        let balance = s.balance(&host);
        assert_eq!(balance.consumed_seconds, consumed);
        assert_eq!(balance.remaining_seconds + balance.consumed_seconds, 1800);
    }
}

#[tokio::test]
async fn the_alarm_meters_everyone_delivers_its_events_later_and_evicts_the_silent() {
    let (_dir, s) = stack().await;
    let host = s.named(1);
    let guest = s.named(2);
    let room = s.create(&host).await;
    let host_conn = s.join(&host, &room).await;
    let guest_conn = s.join(&guest, &room).await;
    // The guest is close to the low-credit line.
    s.credits
        .balances
        .lock()
        .unwrap()
        .get_mut(&guest.lower())
        .unwrap()
        .remaining_seconds = 320;

    s.clock.advance(30);
    s.rooms.ring_alarm(&room).await.unwrap();
    assert_eq!(s.balance(&host).consumed_seconds, 30);
    assert_eq!(s.balance(&guest).remaining_seconds, 290);
    // The alarm's credits_low waits for the guest's next heartbeat.
    s.clock.advance(5);
    assert_eq!(
        s.on(&guest, "/rooms/heartbeat", &room, &guest_conn).await,
        (
            200,
            format!(
                r#"{{"ok":true,"remaining_seconds":285,"events":[{{"type":"credits_low","wallet":"{}","remaining_seconds":290,"at_epoch":{}}}]}}"#,
                guest.lower(),
                START + 30
            )
        )
    );

    // The host stays silent: still there at 90 s, evicted after.
    s.clock.advance(55); // START + 90
    s.rooms.ring_alarm(&room).await.unwrap();
    assert!(s.db.in_free_room(&host.lower()).await.unwrap());
    s.on(&guest, "/rooms/heartbeat", &room, &guest_conn).await;
    s.clock.advance(1); // START + 91
    s.rooms.ring_alarm(&room).await.unwrap();
    assert!(!s.db.in_free_room(&host.lower()).await.unwrap());
    assert_eq!(s.balance(&host).consumed_seconds, 91);
    assert_eq!(
        s.on(&host, "/rooms/heartbeat", &room, &host_conn).await.0,
        403
    );
    assert!(s.db.active_room(&room).await.unwrap().is_some());

    // Then the guest goes silent too: evicted, the room closes and its actor stops.
    s.clock.advance(91);
    s.rooms.ring_alarm(&room).await.unwrap();
    assert!(!s.db.in_free_room(&guest.lower()).await.unwrap());
    assert!(s.db.active_room(&room).await.unwrap().is_none());
    assert!(!s.rooms.is_live(&room));
    assert_eq!(s.balance(&guest).remaining_seconds, 320 - 182);
}

#[tokio::test]
async fn a_room_survives_a_restart_of_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let credits = Arc::new(FakeCredits::default());
    let (room, conn) = {
        let s = start(dir.path(), clock.clone(), credits.clone()).await;
        let host = s.named(1);
        let room = s.create(&host).await;
        let conn = s.join(&host, &room).await;
        (room, conn)
    };
    let s = start(dir.path(), clock.clone(), credits.clone()).await;
    assert!(s.rooms.is_live(&room), "reopened from the state store");
    s.clock.advance(12);
    assert_eq!(
        s.on(&User::new(1), "/rooms/heartbeat", &room, &conn).await,
        (
            200,
            r#"{"ok":true,"remaining_seconds":1788,"events":[]}"#.into()
        )
    );
    let guest = s.named(2);
    s.join(&guest, &room).await;
}

#[tokio::test]
async fn a_failed_alarm_changes_nothing_and_tries_again_an_interval_later() {
    let (_dir, s) = stack().await;
    let host = s.named(1);
    let room = s.create(&host).await;
    let conn = s.join(&host, &room).await;
    s.clock.advance(30);
    *s.credits.down.lock().unwrap() = Some(voice_rooms::CreditsError::Unreachable("down".into()));
    let answer = s.rooms.ring_alarm(&room).await.unwrap();
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, r#"{"error":"service unavailable"}"#)
    );
    let key = format!("{}{room}", voice_rooms::rooms::ROOM_STATE_PREFIX);
    let stored = s.store.get(&key).await.unwrap().unwrap();
    let state: voice_rooms::rooms::RoomState = serde_json::from_slice(&stored.value).unwrap();
    assert_eq!(state.alarm_at, Some(START + 60));
    assert_eq!(state.participants[&conn].last_metered_at, START);
    *s.credits.down.lock().unwrap() = None;
    s.clock.advance(30);
    s.rooms.ring_alarm(&room).await.unwrap();
    assert_eq!(s.balance(&host).consumed_seconds, 60);
}

/// The original's `smoke-test-compensate`: the participant row is the ownership authority.
#[tokio::test]
async fn the_participant_row_decides_ownership_even_while_the_room_holds_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        Clock::manual(START),
        Arc::new(FakeCredits::default()),
    )
    .await;
    let host = s.named(1);
    let guest = s.named(2);
    let room = s.create(&host).await;
    let host_conn = s.join(&host, &room).await;
    let guest_conn = s.join(&guest, &room).await;
    let sql =
        sqlx::SqlitePool::connect(&format!("sqlite:{}", dir.path().join("rooms.db").display()))
            .await
            .unwrap();
    sqlx::query("DELETE FROM room_participants WHERE connection_id = ?")
        .bind(&guest_conn)
        .execute(&sql)
        .await
        .unwrap();
    for path in ["/rooms/heartbeat", "/rooms/leave"] {
        assert_eq!(
            s.on(&guest, path, &room, &guest_conn).await,
            (403, r#"{"error":"not_your_connection"}"#.into())
        );
    }
    sqlx::query(
        "INSERT INTO room_participants (connection_id, room_id, wallet, agora_uid, joined_at_epoch, last_metered_at_epoch) VALUES (?, ?, ?, 12345, ?, ?)",
    )
    .bind(&guest_conn)
    .bind(&room)
    .bind(guest.lower())
    .bind(START)
    .bind(START)
    .execute(&sql)
    .await
    .unwrap();
    let (status, body) = s.on(&guest, "/rooms/leave", &room, &guest_conn).await;
    assert_eq!(status, 200);
    assert!(body.ends_with(r#""closed":false}"#), "{body}");
    let (status, body) = s.on(&host, "/rooms/leave", &room, &host_conn).await;
    assert_eq!(status, 200);
    assert!(body.ends_with(r#""closed":true}"#), "{body}");
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM room_participants WHERE room_id = ? AND left_at_epoch IS NULL",
    )
    .bind(&room)
    .fetch_one(&sql)
    .await
    .unwrap();
    assert_eq!(open, 0);
    let status: String = sqlx::query_scalar("SELECT status FROM rooms WHERE room_id = ?")
        .bind(&room)
        .fetch_one(&sql)
        .await
        .unwrap();
    assert_eq!(status, "closed");
}
