//! Duet rooms over real HTTP (no payment): create and its refusals, the state machine
//! created → live → ended with idempotent start and end, guest seats and revocation, bridge
//! tokens, heartbeats and public-info, segments, recording, discover, the 404 of unknown
//! rooms and a restart with the rooms' state intact. Bodies are compared as the original's
//! JSON text where its field order matters to the contract.

mod common;

use std::sync::Arc;

use common::duet::{APP_ID, DuetStack, USDC};
use common::{FakeCredits, START, User};
use serde_json::{Value, json};
use voice_rooms::Clock;

const SPLIT: &str = "0x00000000000000000000000000000000000000aa";

async fn stack() -> (tempfile::TempDir, DuetStack) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
    let stack = DuetStack::start(dir.path(), clock, credits, &[]).await;
    (dir, stack)
}

#[tokio::test]
async fn create_answers_the_original_body_and_refuses_bad_terms_with_its_codes() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let unauth = s
        .post(None, "/duet/create", json!({"split_address": SPLIT}))
        .await;
    assert_eq!(
        (unauth.status, unauth.body.as_str()),
        (401, r#"{"error":"unauthorized"}"#)
    );
    let created = s
        .post(Some(&host), "/duet/create", json!({"split_address": SPLIT}))
        .await;
    assert_eq!(created.status, 200);
    let id = created.json()["room_id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body,
        format!(
            r#"{{"ok":true,"room_id":"{id}","agora_channel":"heaven-duet-{id}","status":"created"}}"#
        )
    );
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), r#"{"error":"invalid_split_address"}"#),
        (
            json!({"split_address": "0x12"}),
            r#"{"error":"invalid_split_address"}"#,
        ),
        (
            json!({"split_address": SPLIT, "guest_wallet": "bob"}),
            r#"{"error":"invalid_guest_wallet"}"#,
        ),
        (
            json!({"split_address": SPLIT, "network": "eip155:1"}),
            r#"{"error":"invalid_network"}"#,
        ),
        (
            json!({"split_address": SPLIT, "network": "eip155:8453"}),
            r#"{"error":"network_not_allowed","allowed":["eip155:84532"]}"#,
        ),
        (
            json!({"split_address": SPLIT, "asset_usdc": "usdc"}),
            r#"{"error":"invalid_asset_usdc"}"#,
        ),
        (
            json!({"split_address": SPLIT, "asset_usdc": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"}),
            r#"{"error":"asset_not_allowed","allowed":["0x036cbd53842c5426634e7929541ec2318f3dcf7e"]}"#,
        ),
        (
            json!({"split_address": SPLIT, "live_amount": -1}),
            r#"{"error":"invalid_live_amount"}"#,
        ),
        (
            json!({"split_address": SPLIT, "replay_amount": "1.1234567"}),
            r#"{"error":"invalid_replay_amount"}"#,
        ),
        (
            json!({"split_address": SPLIT, "access_window_minutes": 0}),
            r#"{"error":"invalid_access_window"}"#,
        ),
        (
            json!({"split_address": SPLIT, "access_window_minutes": "60"}),
            r#"{"error":"invalid_access_window"}"#,
        ),
        (
            json!({"split_address": SPLIT, "replay_mode": "free"}),
            r#"{"error":"invalid_replay_mode"}"#,
        ),
        (
            json!({"split_address": SPLIT, "recording_mode": "tape"}),
            r#"{"error":"invalid_recording_mode"}"#,
        ),
    ];
    for (body, expected) in cases {
        let answer = s.post(Some(&host), "/duet/create", body.clone()).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (400, expected),
            "{body}"
        );
    }
    // A body that is not JSON is `{}`.
    let token = s.token(&host);
    let bad = s
        .send("POST", "/duet/create", Some(&token), &[], Some("{nope"))
        .await;
    assert_eq!(
        (bad.status, bad.body.as_str()),
        (400, r#"{"error":"invalid_split_address"}"#)
    );
}

#[tokio::test]
async fn the_state_machine_runs_created_live_ended_with_idempotent_start_and_end() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let other = User::new(2);
    let room = s.create(&host, json!({"split_address": SPLIT})).await;
    let info = s.get(&format!("/duet/{room}/public-info")).await.json();
    assert_eq!(info["status"], "created");
    assert_eq!(info["can_enter"], false);
    let forbidden = s
        .post(Some(&other), &format!("/duet/{room}/start"), json!({}))
        .await;
    assert_eq!(
        (forbidden.status, forbidden.body.as_str()),
        (403, r#"{"error":"forbidden"}"#)
    );
    let enter_early = s.enter(&other, &room, None).await;
    assert_eq!(
        (enter_early.status, enter_early.body.as_str()),
        (400, r#"{"error":"room_not_live","status":"created"}"#)
    );

    let first = s
        .post(Some(&host), &format!("/duet/{room}/start"), json!({}))
        .await;
    assert_eq!(first.status, 200);
    let body = first.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(body["ok"], true);
    assert_eq!(body["status"], "live");
    assert_eq!(body["agora_app_id"], APP_ID);
    assert_eq!(body["token_expires_in_seconds"], 7200);
    assert_eq!(body["recording_mode"], "host_local");
    assert_eq!(body["audience_media_mode"], "bridge");
    assert!(
        body["agora_broadcaster_token"]
            .as_str()
            .unwrap()
            .starts_with("007")
    );
    let ticket = body["bridge_ticket"].as_str().unwrap().to_owned();
    assert_eq!(ticket.len(), 48);
    assert!(
        first
            .body
            .starts_with(r#"{"ok":true,"status":"live","agora_app_id":"#),
        "{keys:?}"
    );

    s.clock.advance(30);
    let again = s
        .post(Some(&host), &format!("/duet/{room}/start"), json!({}))
        .await;
    let again = again.json();
    assert_eq!(again["already_live"], true);
    assert_eq!(again["bridge_ticket"], ticket.as_str());
    assert_eq!(again["live_started_at"], START);
    assert_eq!(
        again["agora_broadcaster_uid"],
        body["agora_broadcaster_uid"]
    );

    s.clock.advance(10);
    let ended = s
        .post(Some(&host), &format!("/duet/{room}/end"), json!({}))
        .await;
    assert_eq!(
        ended.body,
        format!(
            r#"{{"ok":true,"status":"ended","ended_at":{},"bridge_ticket_valid_until":{}}}"#,
            START + 40,
            START + 40 + 1800
        )
    );
    let ended_again = s
        .post(Some(&host), &format!("/duet/{room}/end"), json!({}))
        .await;
    assert_eq!(
        ended_again.body,
        format!(
            r#"{{"ok":true,"already_ended":true,"ended_at":{}}}"#,
            START + 40
        )
    );
    let restart = s
        .post(Some(&host), &format!("/duet/{room}/start"), json!({}))
        .await;
    assert_eq!(
        (restart.status, restart.body.as_str()),
        (400, r#"{"error":"room_already_ended"}"#)
    );
    let late = s.enter(&other, &room, None).await;
    assert_eq!(late.body, r#"{"error":"room_not_live","status":"ended"}"#);
    // The bridge ticket no longer refreshes tokens after the end.
    let token = s
        .with_ticket(&ticket, &format!("/duet/{room}/bridge/token"), json!({}))
        .await;
    assert_eq!(
        (token.status, token.body.as_str()),
        (400, r#"{"error":"room_not_live"}"#)
    );
    let info = s.get(&format!("/duet/{room}/public-info")).await.json();
    assert_eq!(info["status"], "ended");
    assert_eq!(info["broadcast_state"], "stopped");
}

#[tokio::test]
async fn unknown_rooms_answer_404_and_leave_nothing_behind() {
    let (_dir, s) = stack().await;
    let user = User::new(3);
    for path in ["/duet/nope/public-info", "/duet/nope/replay"] {
        let answer = s.get(path).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (404, r#"{"error":"room_not_found"}"#)
        );
    }
    let enter = s.enter(&user, "nope", None).await;
    assert_eq!(enter.status, 404);
    let public = s.public_enter("nope", json!({"wallet": "bad"}), None).await;
    assert_eq!(public.status, 404);
    let long = "x".repeat(200);
    assert_eq!(
        s.get(&format!("/duet/{long}/public-info")).await.status,
        404
    );
    assert!(
        s.store
            .list("voice-rooms/duet/", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Unknown paths under /duet are the plain-text 404, as Hono's.
    let unknown = s.get("/duet/nope/whatever").await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (404, "404 Not Found")
    );
}

#[tokio::test]
async fn guest_seats_accept_start_token_and_revocation_are_seat_aware() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let guest = User::new(2);
    let intruder = User::new(3);
    let (room, host_ticket) = s
        .live_room(
            &host,
            json!({"split_address": SPLIT, "guest_wallet": guest.wallet}),
        )
        .await;
    let early = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/start"),
            json!({}),
        )
        .await;
    assert_eq!(
        (early.status, early.body.as_str()),
        (403, r#"{"error":"guest_not_accepted"}"#)
    );
    let locked = s
        .post(
            Some(&intruder),
            &format!("/duet/{room}/guest/accept"),
            json!({}),
        )
        .await;
    assert_eq!(
        (locked.status, locked.body.as_str()),
        (403, r#"{"error":"guest_wallet_locked"}"#)
    );
    let accepted = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/accept"),
            json!({}),
        )
        .await;
    assert_eq!(
        accepted.body,
        format!(
            r#"{{"ok":true,"guest_wallet":"{}","guest_accepted_at":{START}}}"#,
            guest.lower()
        )
    );
    let twice = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/accept"),
            json!({}),
        )
        .await;
    assert_eq!(
        twice.body,
        format!(
            r#"{{"ok":true,"already_accepted":true,"guest_wallet":"{}"}}"#,
            guest.lower()
        )
    );
    let started = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/start"),
            json!({}),
        )
        .await;
    assert_eq!(started.status, 200);
    let g = started.json();
    assert_eq!(g["seat"], "guest");
    assert_eq!(g["audience_media_mode"], "bridge");
    assert!(g["agora_broadcaster_uid"].is_u64());
    let guest_ticket = g["guest_bridge_ticket"].as_str().unwrap().to_owned();

    let token_path = format!("/duet/{room}/bridge/token");
    let host_token = s.with_ticket(&host_ticket, &token_path, json!({})).await;
    assert_eq!(host_token.json()["seat"], "host");
    let guest_token = s.with_ticket(&guest_ticket, &token_path, json!({})).await;
    assert_eq!(guest_token.json()["seat"], "guest");
    assert_eq!(
        guest_token.json()["agora_broadcaster_uid"],
        g["agora_broadcaster_uid"]
    );
    let stranger = s
        .with_ticket(&"ab".repeat(24), &token_path, json!({}))
        .await;
    assert_eq!(
        (stranger.status, stranger.body.as_str()),
        (403, r#"{"error":"forbidden"}"#)
    );
    let no_ticket = s.send("POST", &token_path, None, &[], None).await;
    assert_eq!(
        (no_ticket.status, no_ticket.body.as_str()),
        (401, r#"{"error":"bridge_ticket_required"}"#)
    );

    let not_host = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/remove"),
            json!({}),
        )
        .await;
    assert_eq!(not_host.status, 403);
    let removed = s
        .post(
            Some(&host),
            &format!("/duet/{room}/guest/remove"),
            json!({}),
        )
        .await;
    assert_eq!(
        removed.body,
        r#"{"ok":true,"revoked":true,"already_revoked":false,"audience_media_mode":"bridge"}"#
    );
    let heartbeat_path = format!("/duet/{room}/broadcast/heartbeat");
    for path in [&token_path, &heartbeat_path] {
        let revoked = s.with_ticket(&guest_ticket, path, json!({})).await;
        assert_eq!(
            (revoked.status, revoked.body.as_str()),
            (403, r#"{"error":"guest_revoked"}"#)
        );
    }
    assert_eq!(
        s.with_ticket(&host_ticket, &heartbeat_path, json!({}))
            .await
            .status,
        200
    );
    let removed_again = s
        .post(
            Some(&host),
            &format!("/duet/{room}/guest/remove"),
            json!({}),
        )
        .await;
    assert_eq!(removed_again.json()["already_revoked"], true);
    // Removal does not un-accept: the guest may start again with a new ticket (quirk 7).
    let restarted = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/start"),
            json!({}),
        )
        .await;
    assert_eq!(restarted.status, 200);
    assert_ne!(
        restarted.json()["guest_bridge_ticket"],
        guest_ticket.as_str()
    );
}

#[tokio::test]
async fn heartbeats_drive_media_mode_online_state_and_public_info() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let (room, ticket) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let path = format!("/duet/{room}/broadcast/heartbeat");
    let audio = s
        .with_ticket(
            &ticket,
            &path,
            json!({"status": "live", "mode": "mic", "media": {"audio": true, "video": false}}),
        )
        .await;
    assert_eq!(
        audio.body,
        format!(
            r#"{{"ok":true,"seat":"host","room_id":"{room}","broadcast_state":"live","broadcast_mode":"mic","broadcast_heartbeat_at":{START},"broadcaster_online":true,"audience_media_mode":"bridge","host_broadcaster_online":true,"guest_broadcaster_online":false}}"#
        )
    );
    s.clock.advance(5);
    let video = s
        .with_ticket(
            &ticket,
            &path,
            json!({"media": {"audio": true, "video": true}}),
        )
        .await
        .json();
    assert_eq!(video["audience_media_mode"], "direct");
    assert_eq!(video["broadcast_mode"], "mic");
    let info = s.get(&format!("/duet/{room}/public-info")).await;
    let i = info.json();
    assert_eq!(i["audience_media_mode"], "direct");
    assert_eq!(i["host_broadcast"]["media"]["video"], true);
    assert_eq!(i["host_broadcast"]["online"], true);
    assert_eq!(i["guest_broadcast"]["state"], "idle");
    assert!(i["broadcaster_uids"]["host"].is_u64());
    assert!(i["broadcaster_uids"]["guest"].is_null());
    assert!(info.body.starts_with(&format!(
        r#"{{"room_id":"{room}","status":"live","audience_mode":"ticketed","can_enter":true,"broadcast_state":"live","#
    )));
    // Online only within 20 s of the last heartbeat; the seat state itself stays live.
    s.clock.advance(21);
    let stale = s.get(&format!("/duet/{room}/public-info")).await.json();
    assert_eq!(stale["broadcaster_online"], false);
    assert_eq!(stale["broadcast_state"], "live");
    let stopped = s
        .with_ticket(&ticket, &path, json!({"status": "stopped"}))
        .await
        .json();
    assert_eq!(stopped["audience_media_mode"], "bridge");
    assert_eq!(stopped["broadcast_state"], "stopped");
    assert_eq!(stopped["broadcaster_online"], false);
    // A body that is not JSON is `{}`: a live heartbeat keeping the previous mode.
    let raw = s
        .send("POST", &path, Some(&ticket), &[], Some("garbage"))
        .await;
    assert_eq!(raw.json()["broadcast_state"], "live");
    assert_eq!(raw.json()["broadcast_mode"], "mic");
}

#[tokio::test]
async fn segments_start_checks_host_payee_songs_and_the_500_cap() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let viewer = User::new(2);
    let payee = "0x00000000000000000000000000000000000000BB";
    let room = s.create(&host, json!({"split_address": SPLIT})).await;
    let path = format!("/duet/{room}/segments/start");
    let not_live = s.post(Some(&host), &path, json!({"pay_to": payee})).await;
    assert_eq!(
        not_live.body,
        r#"{"error":"room_not_live","status":"created"}"#
    );
    s.post(Some(&host), &format!("/duet/{room}/start"), json!({}))
        .await;
    let bad = s.post(Some(&host), &path, json!({"pay_to": "x"})).await;
    assert_eq!(
        (bad.status, bad.body.as_str()),
        (400, r#"{"error":"invalid_pay_to"}"#)
    );
    let other = s.post(Some(&viewer), &path, json!({"pay_to": payee})).await;
    assert_eq!(other.status, 403);
    let song = s
        .post(
            Some(&host),
            &path,
            json!({"pay_to": payee, "song_id": "missing"}),
        )
        .await;
    assert_eq!(
        (song.status, song.body.as_str()),
        (400, r#"{"error":"song_not_found"}"#)
    );
    let started = s
        .post(
            Some(&host),
            &path,
            json!({"pay_to": payee, "rights": {"kind": "original"}}),
        )
        .await;
    assert_eq!(started.status, 200);
    let b = started.json();
    let id = b["current_segment_id"].as_str().unwrap();
    assert_eq!(b["segment"]["id"], id);
    assert_eq!(b["segment"]["pay_to"], payee.to_lowercase());
    assert_eq!(
        b["segment"]["pricing"],
        json!({"live_amount": "100000", "replay_amount": "100000"})
    );
    assert_eq!(b["segment"]["rights"], json!({"kind": "original"}));
    // The 402 now quotes the new segment and payee.
    let quote = s.enter(&viewer, &room, None).await;
    let required = quote.header_json("payment-required");
    assert_eq!(required["accepts"][0]["payTo"], payee.to_lowercase());
    assert_eq!(
        required["resource"],
        format!("/duet/{room}/enter?segment_id={id}")
    );
    for _ in 0..498 {
        let ok = s.post(Some(&host), &path, json!({"pay_to": payee})).await;
        assert_eq!(ok.status, 200);
    }
    let capped = s.post(Some(&host), &path, json!({"pay_to": payee})).await;
    assert_eq!(
        (capped.status, capped.body.as_str()),
        (400, r#"{"error":"max_segments_reached","max":500}"#)
    );
}

#[tokio::test]
async fn recording_complete_takes_the_host_ticket_only_and_clears_the_tickets() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let guest = User::new(2);
    let (room, host_ticket) = s
        .live_room(
            &host,
            json!({"split_address": SPLIT, "replay_mode": "load_gated"}),
        )
        .await;
    s.post(
        Some(&guest),
        &format!("/duet/{room}/guest/accept"),
        json!({}),
    )
    .await;
    let g = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/start"),
            json!({}),
        )
        .await;
    let guest_ticket = g.json()["guest_bridge_ticket"].as_str().unwrap().to_owned();
    let path = format!("/duet/{room}/recording/complete");
    let by_guest = s
        .with_ticket(&guest_ticket, &path, json!({"load_dataitem_id": "d"}))
        .await;
    assert_eq!(
        (by_guest.status, by_guest.body.as_str()),
        (403, r#"{"error":"forbidden"}"#)
    );
    let missing = s.with_ticket(&host_ticket, &path, json!({})).await;
    assert_eq!(missing.body, r#"{"error":"missing_load_dataitem_id"}"#);
    let no_url = s
        .with_ticket(&host_ticket, &path, json!({"load_dataitem_id": "d"}))
        .await;
    assert_eq!(no_url.body, r#"{"error":"missing_replay_x402_url"}"#);
    s.post(Some(&host), &format!("/duet/{room}/end"), json!({}))
        .await;
    s.clock.advance(60);
    let done = s
        .with_ticket(
            &host_ticket,
            &path,
            json!({"load_dataitem_id": "d", "replay_x402_url": "https://load/x", "created_at": 5}),
        )
        .await;
    assert_eq!(
        done.body,
        r#"{"ok":true,"replay_mode":"load_gated","recording":{"load_dataitem_id":"d","replay_x402_url":"https://load/x","created_at":5}}"#
    );
    let after = s
        .with_ticket(&host_ticket, &path, json!({"load_dataitem_id": "d"}))
        .await;
    assert_eq!(after.body, r#"{"error":"bridge_not_started"}"#);
    let replay = s.get(&format!("/duet/{room}/replay")).await;
    assert_eq!(
        replay.body,
        r#"{"mode":"load_gated","replay_x402_url":"https://load/x"}"#
    );
}

#[tokio::test]
async fn the_host_ticket_expires_30_minutes_after_the_end() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let (room, ticket) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    s.post(Some(&host), &format!("/duet/{room}/end"), json!({}))
        .await;
    s.clock.advance(1801);
    let late = s
        .with_ticket(
            &ticket,
            &format!("/duet/{room}/recording/complete"),
            json!({"load_dataitem_id": "d", "replay_url": "https://r"}),
        )
        .await;
    assert_eq!(
        (late.status, late.body.as_str()),
        (401, r#"{"error":"bridge_ticket_expired"}"#)
    );
}

#[tokio::test]
async fn discover_lists_public_and_own_rooms_live_first_then_newest() {
    let (_dir, s) = stack().await;
    let host = User::new(1);
    let friend = User::new(2);
    let stranger = User::new(3);
    let old = s
        .create(
            &host,
            json!({"split_address": SPLIT, "title": "  Old  ", "room_kind": "DJ_SET"}),
        )
        .await;
    s.clock.advance(10);
    let hidden = s
        .create(&host, json!({"split_address": SPLIT, "visibility": "unlisted", "guest_wallet": friend.wallet}))
        .await;
    s.clock.advance(10);
    let live = s
        .create(&host, json!({"split_address": SPLIT, "live_amount": 0}))
        .await;
    s.clock.advance(10);
    s.post(Some(&host), &format!("/duet/{live}/start"), json!({}))
        .await;
    let ended = s.create(&host, json!({"split_address": SPLIT})).await;
    s.post(Some(&host), &format!("/duet/{ended}/end"), json!({}))
        .await;

    let ids = |v: Value| -> Vec<String> {
        v["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["room_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let anonymous = s.get("/duet/discover").await.json();
    assert_eq!(ids(anonymous.clone()), vec![live.clone(), old.clone()]);
    let first = &anonymous["rooms"][0];
    assert_eq!(first["status"], "live");
    assert_eq!(first["audience_mode"], "free");
    assert_eq!(first["live_started_at"], START + 30);
    assert_eq!(first["started_at"], START + 30);
    let second = &anonymous["rooms"][1];
    assert_eq!(second["title"], "Old");
    assert_eq!(second["room_kind"], "dj_set");
    assert_eq!(second["started_at"], START);
    assert!(second["live_started_at"].is_null());
    let token = s.token(&friend);
    let mine = s
        .send("GET", "/duet/discover", Some(&token), &[], None)
        .await
        .json();
    assert_eq!(ids(mine), vec![live.clone(), hidden.clone(), old.clone()]);
    let token = s.token(&stranger);
    let theirs = s
        .send("GET", "/duet/discover", Some(&token), &[], None)
        .await
        .json();
    assert_eq!(ids(theirs), vec![live.clone(), old]);
    // Every grant counts a listener (quirk 6).
    let viewer = User::new(9);
    for _ in 0..2 {
        assert_eq!(s.enter(&viewer, &live, None).await.status, 200);
    }
    let counted = s.get("/duet/discover").await.json();
    assert_eq!(counted["rooms"][0]["listener_count"], 2);
}

#[tokio::test]
async fn a_restarted_service_keeps_rooms_tickets_seats_and_segments() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
    let host = User::new(1);
    let guest = User::new(2);
    let (room, ticket, segment) = {
        let s = DuetStack::start(dir.path(), clock.clone(), credits.clone(), &[]).await;
        let (room, ticket) = s.live_room(&host, json!({"split_address": SPLIT})).await;
        s.post(
            Some(&guest),
            &format!("/duet/{room}/guest/accept"),
            json!({}),
        )
        .await;
        s.with_ticket(
            &ticket,
            &format!("/duet/{room}/broadcast/heartbeat"),
            json!({"mode": "mic"}),
        )
        .await;
        let seg = s
            .post(
                Some(&host),
                &format!("/duet/{room}/segments/start"),
                json!({"pay_to": SPLIT}),
            )
            .await
            .json()["current_segment_id"]
            .as_str()
            .unwrap()
            .to_owned();
        (room, ticket, seg)
    };
    let s = DuetStack::start(dir.path(), clock, credits, &[]).await;
    let again = s
        .post(Some(&host), &format!("/duet/{room}/start"), json!({}))
        .await
        .json();
    assert_eq!(again["already_live"], true);
    assert_eq!(again["bridge_ticket"], ticket.as_str());
    let info = s.get(&format!("/duet/{room}/public-info")).await.json();
    assert_eq!(info["broadcast_mode"], "mic");
    assert_eq!(info["broadcaster_online"], true);
    let twice = s
        .post(
            Some(&guest),
            &format!("/duet/{room}/guest/accept"),
            json!({}),
        )
        .await;
    assert_eq!(twice.json()["already_accepted"], true);
    let viewer = User::new(5);
    let required = s
        .enter(&viewer, &room, None)
        .await
        .header_json("payment-required");
    assert_eq!(
        required["resource"],
        format!("/duet/{room}/enter?segment_id={segment}")
    );
    let listed = s.get("/duet/discover").await.json();
    assert_eq!(listed["rooms"][0]["room_id"], room.as_str());
    let _ = USDC;
}

#[tokio::test]
async fn the_pages_embed_the_room_and_the_guest_link_redirects_with_its_query() {
    let (_dir, s) = stack().await;
    let watch = s.get("/duet/room-1%3Cx/watch").await;
    assert_eq!(watch.status, 200);
    assert_eq!(watch.headers["content-type"], "text/html; charset=UTF-8");
    assert!(watch.body.contains(r#"const roomId = "room-1x";"#));
    assert!(watch.body.contains(r#"const facilitatorMode = "mock";"#));
    for id in [
        "enterBtn",
        "remote",
        "message",
        "error",
        "connectBtn",
        "statusRow",
        "walletRow",
    ] {
        assert!(watch.body.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    let page = s
        .get(&format!(
            "/duet/room-1/broadcast?bridgeTicket={}",
            "ab".repeat(24)
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!(r#"const bridgeTicket = "{}";"#, "ab".repeat(24)))
    );
    assert!(page.body.contains(&format!(r#"const appId = "{APP_ID}";"#)));
    for id in [
        "startBtn",
        "stopBtn",
        "toneBtn",
        "shareBtn",
        "cameraBtn",
        "stopVideoBtn",
        "screenVideoBtn",
        "statePill",
        "message",
        "error",
        "micSelect",
        "camSelect",
        "diag",
        "localPreview",
    ] {
        assert!(page.body.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client
        .get(format!(
            "{}/duet/a%20b/guest/broadcast?bridgeTicket=abc&x=1",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    assert_eq!(
        redirect.headers()["location"],
        "/duet/a%20b/broadcast?bridgeTicket=abc&x=1"
    );
}
