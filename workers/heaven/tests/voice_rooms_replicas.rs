//! Two `heaven serve rooms` processes on one PostgreSQL database and one Redis, both using the
//! same credits canister (the real wasm, served by the harness's IC HTTP interface and reached
//! through ic-agent, as a deployment reaches the IC), behave as one service (issue 14, ADR
//! 0022):
//!
//! - a room created on replica A and joined through replica B has one owner: B forwards;
//! - replica A is killed with SIGKILL: B adopts the room within seconds, with both
//!   participants, and serves their heartbeats and leaves;
//! - each wallet is billed exactly the wall-clock seconds between its join and its leave, in
//!   the one shared ledger: nothing charged twice by the two replicas, nothing lost in the
//!   handover.
//!
//! Real clock and real child processes (leases of 1.5 s).

mod common;

use std::time::{Duration, Instant};

use candid::{Encode, Principal};
use common::postgres::Database;
use common::rooms::{Wallet, create_room, credits, join_room, login, now, post};
use common::{Heaven, free_port};
use credits_canister::endpoints::CallError;
use credits_canister::lifecycle::InitArg;
use ic_wasm_harness::ic_http::IcHttpServer;
use ic_wasm_harness::{Harness, canister_wasm};
use k256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// The worker identity both replicas share (a deployment gives its replicas one PEM).
fn worker_key() -> k256::SecretKey {
    k256::SecretKey::from_slice(&[7; 32]).unwrap()
}

/// Grants `seconds` to `wallet` as the controller.
fn grant(harness: &mut Harness, c: Principal, wallet: &str, seconds: u64) {
    let reply = harness
        .update_call(
            c,
            Harness::controller(),
            "grant_credits",
            Encode!(&wallet, &seconds).unwrap(),
        )
        .unwrap();
    let granted =
        candid::decode_one::<Result<credits_canister::api::CreditBalance, CallError>>(&reply)
            .unwrap();
    assert!(granted.is_ok(), "{granted:?}");
}

/// The credits wasm with the worker listed and both wallets granted 1800 s.
async fn credits_canister(wallets: &[&Wallet]) -> (IcHttpServer, Principal) {
    let mut harness = Harness::at_wall_clock();
    let wasm = canister_wasm("credits").unwrap_or_else(|e| panic!("{e}"));
    let init = Encode!(&InitArg {
        ecdsa_key_name: "dfx_test_key".into()
    })
    .unwrap();
    let c = harness.create_and_install(&wasm, init).unwrap();
    let der = worker_key().public_key().to_public_key_der().unwrap();
    let worker = Principal::self_authenticating(der.as_bytes()).to_text();
    let reply = harness
        .update_call(
            c,
            Harness::controller(),
            "set_workers",
            Encode!(&vec![worker]).unwrap(),
        )
        .unwrap();
    assert_eq!(
        candid::decode_one::<Result<(), CallError>>(&reply).unwrap(),
        Ok(())
    );
    for wallet in wallets {
        grant(&mut harness, c, &wallet.address.to_lowercase(), 1800);
    }
    (IcHttpServer::start(harness).await.unwrap(), c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_rooms_and_a_killed_ones_room_moves_billed_exactly() {
    let host = Wallet::new(41);
    let guest = Wallet::new(42);
    let (ic, canister) = credits_canister(&[&host, &guest]).await;
    let db = Database::create("replicas").await;
    let pem = worker_key()
        .to_sec1_pem(LineEnding::LF)
        .unwrap()
        .to_string();
    let canister_id = canister.to_text();
    let ic_url = ic.url();
    let database_url = db.url();
    let start = |id: &str, port: u16, data: &std::path::Path| {
        let port_text = port.to_string();
        let peer = format!("http://127.0.0.1:{port}");
        let env = [
            ("STATE_STORE", "postgres"),
            ("DATABASE_URL", database_url.as_str()),
            ("CACHE_STORE", "redis"),
            ("CACHE_URL", "redis://127.0.0.1:6379"),
            ("JWT_SECRET", "replicas-test-secret"),
            ("VOICE_ROOMS_PORT", port_text.as_str()),
            ("ROOMS_REPLICA_ID", id),
            ("ROOMS_PEER_URL", peer.as_str()),
            ("ROOMS_PEER_SECRET", "replicas-peer-secret"),
            ("ROOMS_LEASE_TTL_MS", "1500"),
            ("ICP_URL", ic_url.as_str()),
            ("ICP_NETWORK", "local"),
            ("ICP_IDENTITY_PEM", pem.as_str()),
            ("ICP_CREDITS_CANISTER_ID", canister_id.as_str()),
        ];
        Heaven::start(&["serve", "rooms"], data, &env, false)
    };
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start("replica-a", free_port(), data_a.path());
    let b = start("replica-b", free_port(), data_b.path());
    let (base_a, base_b) = (a.url("voice-rooms"), b.url("voice-rooms"));
    let http = reqwest::Client::new();

    // Logins through either replica: nonces live in the shared store.
    let host_token = login(&http, &base_a, &host).await;
    let guest_token = login(&http, &base_b, &guest).await;
    let room = create_room(&http, &base_a, &host_token).await;

    // The host joins on A, the guest through B (forwarded to A, the room's one owner).
    let mut joins = Vec::new();
    for (base, token) in [(&base_a, &host_token), (&base_b, &guest_token)] {
        let before = now();
        let conn = join_room(&http, base, token, &room).await;
        joins.push((conn, before, now()));
    }
    let active: Value = http
        .get(format!("{base_b}/rooms/active"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["rooms"][0]["participant_count"], 2, "{active}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, beat) = post(
        &http,
        format!("{base_b}/rooms/heartbeat"),
        &host_token,
        json!({ "room_id": room, "connection_id": joins[0].0 }),
    )
    .await;
    assert_eq!(status, 200, "{beat}");

    // A dies. B answers for the room within seconds (lease 1.5 s + the scan).
    let status = a.kill();
    assert!(!status.success());
    let killed_at = Instant::now();
    loop {
        let (status, beat) = post(
            &http,
            format!("{base_b}/rooms/heartbeat"),
            &guest_token,
            json!({ "room_id": room, "connection_id": joins[1].0 }),
        )
        .await;
        if status == 200 {
            assert_eq!(beat["ok"], true, "{beat}");
            break;
        }
        assert_eq!(status, 503, "only unavailable while the room moves: {beat}");
        assert!(
            killed_at.elapsed() < Duration::from_secs(10),
            "B never took the room over"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let handover = killed_at.elapsed();
    assert!(
        handover < Duration::from_secs(6),
        "handover took {handover:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Both leave through B; each is billed join → leave once, in the shared ledger.
    for (i, token) in [(1usize, &guest_token), (0usize, &host_token)] {
        let (conn, join_before, join_after) = &joins[i];
        let leave_before = now();
        let (status, left) = post(
            &http,
            format!("{base_b}/rooms/leave"),
            token,
            json!({ "room_id": room, "connection_id": conn }),
        )
        .await;
        let leave_after = now();
        assert_eq!(status, 200, "{left}");
        let (used, _) = credits(&http, &base_b, token).await;
        let elapsed = leave_before - join_after..=leave_after - join_before;
        assert!(
            elapsed.contains(&used),
            "wallet {i}: consumed {used}, elapsed {elapsed:?}"
        );
        assert_eq!(left["debited_seconds"].as_u64(), Some(used), "{left}");
    }
    let (status, _) = b.stop();
    assert!(status.success());
}
