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

/// A facilitator that accepts connections and never answers, counting them.
async fn silent_facilitator() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_during_a_settlement_never_settles_that_signature_twice() {
    use std::sync::atomic::Ordering;
    let data = tempfile::tempdir().unwrap();
    let (facilitator, settles) = silent_facilitator().await;
    let env = [
        ("RPC_URL", "http://127.0.0.1:1"),
        ("X402_FACILITATOR_MODE", "self"),
        ("PAYMENT_FACILITATOR_BASE_URL", facilitator.as_str()),
        ("X402_FACILITATOR_AUTH_TOKEN", "t"),
        ("X402_PENDING_WAIT_MS", "500"),
    ];
    let host = Wallet::new(51);
    let viewer = Wallet::new(52);
    let attacker = Wallet::new(53);
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let http = reqwest::Client::new();
    let base = stack.url("voice-rooms");
    let host_token = login(&http, &base, &host).await;
    let viewer_token = login(&http, &base, &viewer).await;
    let attacker_token = login(&http, &base, &attacker).await;
    let (_, created) = post(
        &http,
        format!("{base}/duet/create"),
        &host_token,
        json!({"split_address": host.address}),
    )
    .await;
    let room = created["room_id"].as_str().unwrap().to_owned();
    post(
        &http,
        format!("{base}/duet/{room}/start"),
        &host_token,
        json!({}),
    )
    .await;
    let signature = json!({"x402Version": 2, "payload": {"signature": "0xabc"}}).to_string();
    // The entry hangs at the facilitator with its claim pending; the worker is killed there.
    let hanging = {
        let (http, base, room, token, signature) = (
            http.clone(),
            base.clone(),
            room.clone(),
            viewer_token.clone(),
            signature.clone(),
        );
        tokio::spawn(async move { enter(&http, &base, &room, &token, Some(&signature)).await })
    };
    for _ in 0..100 {
        if settles.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        settles.load(Ordering::SeqCst),
        1,
        "the settle call was made"
    );
    let status = stack.kill();
    assert!(!status.success());
    // The hanging entry never got an answer (its connection died with the process).
    assert!(hanging.await.is_err());

    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let base = stack.url("voice-rooms");
    // The pending claim survived the kill: neither the payer's retry nor another wallet
    // reaches the facilitator again.
    for token in [&viewer_token, &attacker_token] {
        let (status, refused, _) = enter(&http, &base, &room, token, Some(&signature)).await;
        assert_eq!(status, 409, "{refused}");
        assert_eq!(refused["error"], "payment_settlement_in_progress");
    }
    assert_eq!(settles.load(Ordering::SeqCst), 1);
    // Without a signature the viewer is simply asked to pay: nothing was granted.
    let (status, _, _) = enter(&http, &base, &room, &viewer_token, None).await;
    assert_eq!(status, 402);
}
