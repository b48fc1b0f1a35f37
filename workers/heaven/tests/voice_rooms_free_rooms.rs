//! voice-rooms' free rooms inside the `heaven` binary, on the real in-process credits canister
//! and the real clock: a room created and joined survives a restart of the stack (actors
//! reloaded from the state store, rows in the state store's database), and ten parallel
//! heartbeats bill the elapsed seconds once, read back from the canister's balance.

mod common;

use std::time::Duration;

use common::rooms::{Wallet, create_room, join_room, login, now, post};
use common::{Heaven, run_to_end};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_free_room_survives_a_restart_and_parallel_heartbeats_bill_once() {
    let data = tempfile::tempdir().unwrap();
    let env = [("RPC_URL", "http://127.0.0.1:1")];
    let host = Wallet::new(21);
    let guest = Wallet::new(22);
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    for wallet in [&host, &guest] {
        let (code, _, err) = run_to_end(
            &["credits", "grant", &wallet.address, "1800"],
            data.path(),
            &[],
        );
        assert_eq!(code, 0, "{err}");
    }
    let http = reqwest::Client::new();
    let base = stack.url("voice-rooms");
    let host_token = login(&http, &base, &host).await;
    let guest_token = login(&http, &base, &guest).await;
    let room = create_room(&http, &base, &host_token).await;
    let host_conn = join_room(&http, &base, &host_token, &room).await;
    let joined_before = now();
    let guest_conn = join_room(&http, &base, &guest_token, &room).await;
    let joined_after = now();
    let (status, _) = stack.stop();
    assert!(status.success());

    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let base = stack.url("voice-rooms");
    let active: Value = http
        .get(format!("{base}/rooms/active"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["rooms"][0]["room_id"], room.as_str());
    assert_eq!(active["rooms"][0]["participant_count"], 2);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = now();
    let beats: Vec<_> = (0..10)
        .map(|_| {
            let http = http.clone();
            let url = format!("{base}/rooms/heartbeat");
            let token = guest_token.clone();
            let body = json!({ "room_id": room, "connection_id": guest_conn });
            tokio::spawn(async move { post(&http, url, &token, body).await })
        })
        .collect();
    for beat in beats {
        let (status, body) = beat.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ok"], true);
    }
    let ended = now();
    let balance: Value = http
        .get(format!("{base}/credits"))
        .bearer_auth(&guest_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let consumed = balance["consumed_seconds"].as_u64().unwrap();
    assert_eq!(
        balance["remaining_seconds"].as_u64().unwrap() + consumed,
        1800
    );
    // Billed once: between the seconds that certainly and possibly elapsed since the join.
    assert!(
        (started - joined_after..=ended - joined_before).contains(&consumed),
        "consumed {consumed}, elapsed {}..={}",
        started - joined_after,
        ended - joined_before
    );

    let (status, left) = post(
        &http,
        format!("{base}/rooms/leave"),
        &host_token,
        json!({ "room_id": room, "connection_id": host_conn }),
    )
    .await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(left["closed"], true);
    let (status, refused) = post(
        &http,
        format!("{base}/rooms/heartbeat"),
        &guest_token,
        json!({ "room_id": room, "connection_id": guest_conn }),
    )
    .await;
    assert_eq!(
        (status, refused),
        (403, json!({"error": "not_your_connection"}))
    );
    let (status, _) = stack.stop();
    assert!(status.success());
}
