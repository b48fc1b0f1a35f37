//! voice-rooms' songs registry and booked sessions inside the `heaven` binary:
//! `POST /session/:id/attest` reaches the real in-process credits canister in mock escrow
//! mode (a forced verdict is "sent", an unforced one is refused by the timing window, and
//! with attestation off the canister answers the original's `oracle key not configured`);
//! the mock booking's host and guest join and leave it (`/session/join`, `/session/:id/leave`,
//! each recorded in the canister), then a forced attestation of it is sent;
//! a song created with a real payout attestation is stored in the state store's database
//! and is still there after a restart.

mod common;

use common::Heaven;
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};

const ORACLE: &str = "oracle-token";
const ADMIN: &str = "admin-token";
const MOCK_TX_HASH: &str = "0x0000000000000000000000000000000000000000000000000000000000000001";

async fn attest(http: &reqwest::Client, rooms: &str, path: &str) -> (u16, String) {
    let response = http
        .post(format!("{rooms}{path}"))
        .header("x-service-token", ORACLE)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn attest_reaches_the_credits_canister_in_mock_escrow_mode() {
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("RPC_URL", "http://127.0.0.1:1"),
        ("ESCROW_MODE", "mock"),
        ("ORACLE_SERVICE_TOKEN", ORACLE),
        ("ATTESTATION_ENABLED", "true"),
    ];
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let rooms = stack.url("voice-rooms");
    let http = reqwest::Client::new();
    assert_eq!(
        attest(&http, &rooms, "/session/17/attest?force_outcome=completed").await,
        (
            200,
            format!(r#"{{"outcome":"completed","tx_hash":"{MOCK_TX_HASH}"}}"#)
        )
    );
    // Nobody joined and the mock slot started a minute ago: the no-show window is not open.
    assert_eq!(
        attest(&http, &rooms, "/session/17/attest").await,
        (400, r#"{"error":"grace_not_over"}"#.to_owned())
    );
    assert_eq!(
        attest(&http, &rooms, "/session/17/attest?force_outcome=maybe").await,
        (400, r#"{"error":"invalid force_outcome"}"#.to_owned())
    );
    assert_eq!(
        attest(&http, &rooms, "/session/abc/attest").await,
        (400, r#"{"error":"invalid booking_id"}"#.to_owned())
    );
    let (status, _) = stack.stop();
    assert!(status.success());

    // Attestation switched off: the canister's answer replaces the missing oracle key.
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env[..3], false);
    let rooms = stack.url("voice-rooms");
    assert_eq!(
        attest(&http, &rooms, "/session/17/attest?force_outcome=completed").await,
        (503, r#"{"error":"oracle key not configured"}"#.to_owned())
    );
    let (status, _) = stack.stop();
    assert!(status.success());
}

async fn session_call(
    http: &reqwest::Client,
    rooms: &str,
    wallet: &str,
    path: &str,
    body: Value,
) -> (u16, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = voice_rooms::auth::SessionToken::new(JWT).issue(wallet, now);
    let response = http
        .post(format!("{rooms}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const JWT: &str = "sessions-jwt-secret";

#[tokio::test(flavor = "multi_thread")]
async fn booked_session_join_and_leave_reach_the_canister_attestation() {
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("RPC_URL", "http://127.0.0.1:1"),
        ("ESCROW_MODE", "mock"),
        ("ORACLE_SERVICE_TOKEN", ORACLE),
        ("ATTESTATION_ENABLED", "true"),
        ("JWT_SECRET", JWT),
    ];
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let rooms = stack.url("voice-rooms");
    let http = reqwest::Client::new();
    let host = "0x000000000000000000000000000000000000dead";
    let guest = "0x0000000000000000000000000000000000000001";
    for wallet in [host, guest] {
        let (status, body) = session_call(
            &http,
            &rooms,
            wallet,
            "/session/join",
            json!({"booking_id": "31"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["channel"], "heaven-42431-31");
    }
    let (status, body) = session_call(
        &http,
        &rooms,
        "0x00000000000000000000000000000000000000aa",
        "/session/join",
        json!({"booking_id": "31"}),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"error":"not a participant"}"#)
    );
    for wallet in [host, guest] {
        let (status, body) =
            session_call(&http, &rooms, wallet, "/session/31/leave", json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.starts_with(r#"{"ok":true,"duration_ms":"#), "{body}");
    }
    // Each join and leave above answered 200 only after the canister recorded it.
    assert_eq!(
        attest(&http, &rooms, "/session/31/attest?force_outcome=completed").await,
        (
            200,
            format!(r#"{{"outcome":"completed","tx_hash":"{MOCK_TX_HASH}"}}"#)
        )
    );
    let (status, _) = stack.stop();
    assert!(status.success());
}

/// The controller's EIP-712 `StoryPayoutAttestation` signature.
fn payout_signature(key: &SigningKey, story: &str, payout: &str, bps: u64) -> String {
    let attestation = heaven_eth::eip712::StoryPayoutAttestation {
        storyIpId: story.into(),
        payoutChainId: heaven_eth::U256::from(84532u64),
        payoutAddress: heaven_eth::address::parse(payout).unwrap(),
        upstreamRoyaltyBps: heaven_eth::U256::from(bps),
    };
    let digest = heaven_eth::eip712::story_payout_digest(&attestation, 84532);
    let (signature, id) = key.sign_prehash_recoverable(digest.as_slice()).unwrap();
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + id.to_byte());
    format!("0x{}", hex::encode(bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_song_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("RPC_URL", "http://127.0.0.1:1"),
        ("SONG_REGISTRY_ADMIN_TOKEN", ADMIN),
    ];
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let rooms = stack.url("voice-rooms");
    let http = reqwest::Client::new();
    let key = SigningKey::from_slice(&[5u8; 32]).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let controller = heaven_eth::address::from_public_key(point.as_bytes()).unwrap();
    let payout = "0x00000000000000000000000000000000000000aa";
    let created: Value = http
        .post(format!("{rooms}/songs"))
        .bearer_auth(ADMIN)
        .json(&json!({
            "title": "Song Title",
            "artist": "Someone",
            "story_ip_id": "0xStory",
            "controller_wallet": heaven_eth::address::to_checksum(&controller),
            "payout_address": payout,
            "default_upstream_bps": 100,
            "payout_attestation_sig": payout_signature(&key, "0xStory", payout, 100),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["ok"], true, "{created}");
    let song_id = created["song_id"].as_str().unwrap().to_owned();
    let (status, _) = stack.stop();
    assert!(status.success());

    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let rooms = stack.url("voice-rooms");
    let row: Value = http
        .get(format!("{rooms}/songs/{song_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(row["story_ip_id"], "0xStory");
    assert_eq!(row["title_norm"], "song title");
    let found: Value = http
        .get(format!("{rooms}/songs/search?q=SONG"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["songs"][0]["song_id"], song_id.as_str());
    let (status, _) = stack.stop();
    assert!(status.success());
}
