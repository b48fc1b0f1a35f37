//! voice-rooms' songs registry and booked-session attestation inside the `heaven` binary:
//! `POST /session/:id/attest` reaches the real in-process credits canister in mock escrow
//! mode (a forced verdict is "sent", an unforced one is refused by the timing window, and
//! with attestation off the canister answers the original's `oracle key not configured`);
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
