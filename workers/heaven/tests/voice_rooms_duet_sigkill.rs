//! A `heaven serve rooms` process killed with SIGKILL during a live duet room (issue 15): the
//! restarted process, on the same data dir, still has the room's meta (live, same host bridge
//! ticket, broadcast state, accepted guest), the viewer's paid entitlement (re-entry without
//! paying, same expiry), the settlement marker (the signature is still refused to another
//! wallet) and the discovery index. Real child processes and the real native credits canister; the mock
//! facilitator (the default mode), whose signatures may be raw JSON.

mod common;

use common::Heaven;
use common::rooms::{Wallet, login, post};
use serde_json::{Value, json};

const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";

async fn enter(
    http: &reqwest::Client,
    base: &str,
    room: &str,
    token: &str,
    signature: Option<&str>,
) -> (u16, Value, bool) {
    let mut request = http
        .post(format!("{base}/duet/{room}/enter"))
        .bearer_auth(token);
    if let Some(signature) = signature {
        request = request.header("payment-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let paid = response.headers().contains_key("payment-response");
    (status, response.json().await.unwrap(), paid)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sigkilled_worker_keeps_live_duet_rooms_entitlements_and_markers() {
    let data = tempfile::tempdir().unwrap();
    let env = [("RPC_URL", "http://127.0.0.1:1")];
    let host = Wallet::new(41);
    let guest = Wallet::new(42);
    let viewer = Wallet::new(43);
    let attacker = Wallet::new(44);
    let split = host.address.to_lowercase();
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let http = reqwest::Client::new();
    let base = stack.url("voice-rooms");
    let host_token = login(&http, &base, &host).await;
    let guest_token = login(&http, &base, &guest).await;
    let viewer_token = login(&http, &base, &viewer).await;
    let attacker_token = login(&http, &base, &attacker).await;

    let (status, created) = post(
        &http,
        format!("{base}/duet/create"),
        &host_token,
        json!({"split_address": split, "title": "Kill test"}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let room = created["room_id"].as_str().unwrap().to_owned();
    let (status, started) = post(
        &http,
        format!("{base}/duet/{room}/start"),
        &host_token,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let ticket = started["bridge_ticket"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &http,
        format!("{base}/duet/{room}/guest/accept"),
        &guest_token,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, beat) = post(
        &http,
        format!("{base}/duet/{room}/broadcast/heartbeat"),
        &ticket,
        json!({"mode": "mic", "media": {"audio": true, "video": true}}),
    )
    .await;
    assert_eq!(status, 200, "{beat}");

    let (status, _, _) = enter(&http, &base, &room, &viewer_token, None).await;
    assert_eq!(status, 402);
    let signature = json!({
        "network": "eip155:84532", "asset": USDC, "amount": "100000", "payTo": split,
        "wallet": viewer.address.to_lowercase(),
        "resource": format!("/duet/{room}/enter?segment_id=seg-1"),
    })
    .to_string();
    let (status, granted, paid) = enter(&http, &base, &room, &viewer_token, Some(&signature)).await;
    assert_eq!(status, 200, "{granted}");
    assert!(paid);
    let until = granted["live_expires_at"].as_u64().unwrap();

    let status = stack.kill();
    assert!(!status.success(), "killed, not exited: {status:?}");

    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let base = stack.url("voice-rooms");
    let info: Value = http
        .get(format!("{base}/duet/{room}/public-info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["status"], "live", "{info}");
    assert_eq!(info["broadcast_mode"], "mic", "{info}");
    assert_eq!(info["audience_media_mode"], "direct", "{info}");
    let (_, again) = post(
        &http,
        format!("{base}/duet/{room}/start"),
        &host_token,
        json!({}),
    )
    .await;
    assert_eq!(again["already_live"], true, "{again}");
    assert_eq!(again["bridge_ticket"], ticket.as_str());
    let (_, accepted) = post(
        &http,
        format!("{base}/duet/{room}/guest/accept"),
        &guest_token,
        json!({}),
    )
    .await;
    assert_eq!(accepted["already_accepted"], true, "{accepted}");

    // The entitlement survived: re-entry without paying, same expiry.
    let (status, reentered, paid) = enter(&http, &base, &room, &viewer_token, None).await;
    assert_eq!(status, 200, "{reentered}");
    assert!(!paid);
    assert_eq!(reentered["live_expires_at"].as_u64(), Some(until));
    // The marker survived: another wallet is refused the signature.
    let (status, refused, _) = enter(&http, &base, &room, &attacker_token, Some(&signature)).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "payment_signature_reused");
    let discover: Value = http
        .get(format!("{base}/duet/discover"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discover["rooms"][0]["room_id"], room.as_str(), "{discover}");
    assert_eq!(discover["rooms"][0]["status"], "live");
    assert_eq!(discover["rooms"][0]["title"], "Kill test");
    let (status, ended) = post(
        &http,
        format!("{base}/duet/{room}/end"),
        &host_token,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{ended}");
    let (status, late, _) = enter(&http, &base, &room, &viewer_token, None).await;
    assert_eq!(
        (status, late["error"].as_str()),
        (400, Some("room_not_live"))
    );
}
