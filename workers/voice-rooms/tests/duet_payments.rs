//! Paid duet entry over real HTTP: the original's mock-mode smoke flow (public and JWT entry,
//! re-entry while entitled, reuse by another wallet, worker-gated replay with one-time tokens),
//! the `self` facilitator faked at its `POST /settle` shape (request body, bearer token, its
//! errors surfaced as 402 reasons), money exactly once under 100 concurrent requests with one
//! signature, segment checkout tokens, free rooms and the end of an entitlement window.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::duet::{DuetStack, FakeFacilitator, USDC, mock_signature};
use common::{FakeCredits, START, User};
use serde_json::{Value, json};
use voice_rooms::Clock;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SPLIT: &str = "0x00000000000000000000000000000000000000aa";

async fn stack_with(vars: &[(&str, &str)]) -> (tempfile::TempDir, DuetStack) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
    let stack = DuetStack::start(dir.path(), clock, credits, vars).await;
    (dir, stack)
}

async fn self_stack(facilitator: &FakeFacilitator) -> (tempfile::TempDir, DuetStack) {
    let vars = facilitator.vars();
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    stack_with(&pairs).await
}

fn b64(value: &Value) -> String {
    STANDARD.encode(value.to_string())
}

#[tokio::test]
async fn the_mock_mode_flow_of_the_original_smoke_test() {
    let (_dir, s) = stack_with(&[]).await;
    let replay_server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/recording.mp3"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "audio/mpeg")
                .set_body_bytes(b"ID3-bytes".to_vec()),
        )
        .mount(&replay_server)
        .await;
    let host = User::new(1);
    let viewer = User::new(2);
    let public_viewer = User::new(3);
    let attacker = User::new(4);
    let (room, ticket) = s
        .live_room(&host, json!({"split_address": host.wallet}))
        .await;

    // Public entry: 402 with a segment-pinned resource and a checkout token.
    let quoted = s
        .public_enter(&room, json!({"wallet": public_viewer.lower()}), None)
        .await;
    assert_eq!(
        (quoted.status, quoted.body.as_str()),
        (402, r#"{"error":"payment_required"}"#)
    );
    let required = quoted.header_json("payment-required");
    assert_eq!(required["x402Version"], 2);
    assert_eq!(
        required["resource"],
        format!("/duet/{room}/public-enter?segment_id=seg-1")
    );
    assert_eq!(
        required["accepts"][0],
        json!({"scheme": "exact", "network": "eip155:84532", "asset": USDC, "amount": "100000",
               "payTo": host.lower(), "maxTimeoutSeconds": 3600,
               "extra": {"assetTransferMethod": "eip3009", "name": "USDC", "version": "2"}})
    );
    assert_eq!(
        required["extensions"]["segment_checkout"]["segment_id"],
        "seg-1"
    );
    assert_eq!(
        required["extensions"]["segment_checkout"]["expires_at"],
        START + 300
    );
    let exposed = quoted.headers["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert_eq!(exposed, "PAYMENT-REQUIRED,PAYMENT-RESPONSE");

    let signature = mock_signature(&required, &public_viewer.lower());
    let paid = s
        .public_enter(
            &room,
            json!({"wallet": public_viewer.lower()}),
            Some(&signature),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let until = START + 1440 * 60;
    let grant = paid.json();
    assert_eq!(grant["live_expires_at"], until);
    assert_eq!(grant["token_expires_in_seconds"], 90);
    assert_eq!(
        grant["agora_uid"],
        agora::address_to_uid(&public_viewer.lower())
    );
    assert!(
        grant["agora_viewer_token"]
            .as_str()
            .unwrap()
            .starts_with("007")
    );
    assert_eq!(
        paid.header_json("payment-response"),
        json!({"settled": true, "idempotent": false, "entitlement": "live",
               "expires_at": until, "facilitator": "mock"})
    );
    let again = s
        .public_enter(&room, json!({"wallet": public_viewer.lower()}), None)
        .await;
    assert_eq!(again.status, 200);
    assert!(again.headers.get("payment-response").is_none());

    // JWT entry.
    let quoted = s.enter(&viewer, &room, None).await;
    assert_eq!(quoted.status, 402);
    let required = quoted.header_json("payment-required");
    assert_eq!(
        required["resource"],
        format!("/duet/{room}/enter?segment_id=seg-1")
    );
    let signature = mock_signature(&required, &viewer.lower());
    let paid = s.enter(&viewer, &room, Some(&signature)).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(
        paid.body,
        format!(
            r#"{{"ok":true,"room_id":"{room}","agora_app_id":"{}","agora_channel":"heaven-duet-{room}","agora_uid":{},"agora_viewer_token":"{}","token_expires_in_seconds":90,"live_expires_at":{until}}}"#,
            common::duet::APP_ID,
            agora::address_to_uid(&viewer.lower()),
            paid.json()["agora_viewer_token"].as_str().unwrap()
        )
    );
    let reused = s.enter(&attacker, &room, Some(&signature)).await;
    assert_eq!(
        (reused.status, reused.body.as_str()),
        (409, r#"{"error":"payment_signature_reused"}"#)
    );
    let again = s.enter(&viewer, &room, None).await;
    assert_eq!(again.json()["live_expires_at"], until);

    // Recording, then a worker-gated replay paid once, tokens used once.
    let url = format!("{}/recording.mp3", replay_server.uri());
    let done = s
        .with_ticket(
            &ticket,
            &format!("/duet/{room}/recording/complete"),
            json!({"load_dataitem_id": "item", "replay_url": url}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let token = s.token(&viewer);
    let replay_path = format!("/duet/{room}/replay");
    let quoted = s.send("GET", &replay_path, Some(&token), &[], None).await;
    assert_eq!(quoted.status, 402);
    let required = quoted.header_json("payment-required");
    assert_eq!(required["resource"], replay_path.as_str());
    assert_eq!(required["accepts"][0]["payTo"], host.lower());
    assert!(required.get("extensions").is_none());
    let signature = mock_signature(&required, &viewer.lower());
    let paid = s
        .send(
            "GET",
            &replay_path,
            Some(&token),
            &[("payment-signature", &signature)],
            None,
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let body = paid.json();
    assert_eq!(body["mode"], "worker_gated");
    assert_eq!(body["replay_access_expires_at"], START + 60);
    assert_eq!(body["replay_expires_at"], until);
    assert_eq!(
        paid.header_json("payment-response")["entitlement"],
        "replay"
    );
    let access = body["replay_access_token"].as_str().unwrap().to_owned();
    let source = s
        .get(&format!("/duet/{room}/replay/source?token={access}"))
        .await;
    assert_eq!(source.status, 200);
    assert_eq!(source.body, "ID3-bytes");
    assert_eq!(source.headers["content-type"], "audio/mpeg");
    assert_eq!(source.headers["cache-control"], "no-store");
    let spent = s
        .get(&format!("/duet/{room}/replay/source?token={access}"))
        .await;
    assert_eq!(
        (spent.status, spent.body.as_str()),
        (401, r#"{"error":"invalid_or_expired_replay_token"}"#)
    );
    let missing = s.get(&format!("/duet/{room}/replay/source")).await;
    assert_eq!(missing.body, r#"{"error":"missing_replay_access_token"}"#);
    let again = s.send("GET", &replay_path, Some(&token), &[], None).await;
    assert_eq!(again.status, 200);
    assert_ne!(again.json()["replay_access_token"], access.as_str());
    let anonymous = s.get(&replay_path).await;
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (401, r#"{"error":"wallet_required"}"#)
    );
    let bad_jwt = s.send("GET", &replay_path, Some("junk"), &[], None).await;
    assert_eq!(
        (bad_jwt.status, bad_jwt.body.as_str()),
        (401, r#"{"error":"unauthorized"}"#)
    );

    // The end closes entry.
    s.post(Some(&host), &format!("/duet/{room}/end"), json!({}))
        .await;
    let after = s.enter(&viewer, &room, None).await;
    assert_eq!(after.body, r#"{"error":"room_not_live","status":"ended"}"#);
    assert_eq!(s.credits.duet.lock().unwrap().settled.len(), 3);
}

#[tokio::test]
async fn one_hundred_concurrent_enters_with_one_signature_settle_once() {
    let viewer = User::new(2);
    let facilitator =
        FakeFacilitator::settling_for(&viewer.lower(), Duration::from_millis(300)).await;
    let (_dir, s) = self_stack(&facilitator).await;
    let host = User::new(1);
    let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let required = s
        .enter(&viewer, &room, None)
        .await
        .header_json("payment-required");
    let signature = b64(&json!({"x402Version": 2, "resource": required["resource"],
        "accepted": required["accepts"][0], "payload": {"signature": "0xsig"},
        "extensions": required["extensions"]}));
    let s = Arc::new(s);
    let calls = (0..100).map(|_| {
        let s = s.clone();
        let signature = signature.clone();
        let room = room.clone();
        let viewer = User::new(2);
        tokio::spawn(async move { s.enter(&viewer, &room, Some(&signature)).await })
    });
    let answers = futures_util::future::join_all(calls).await;
    let mut fresh = 0;
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.json()["live_expires_at"], START + 1440 * 60);
        // Requests that reached the entitlement check after the commit get a plain grant;
        // the others a PAYMENT-RESPONSE, fresh for exactly one of them.
        if answer.headers.get("payment-response").is_some()
            && answer.header_json("payment-response")["idempotent"] == false
        {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
    assert_eq!(facilitator.settles().await.len(), 1);
    let duet = s.credits.duet.lock().unwrap();
    assert_eq!(duet.settled.len(), 1);
    assert_eq!(duet.claims, 1);
    assert_eq!(duet.settled[0].transaction_hash.as_deref(), Some("0xfeed"));
}

#[tokio::test]
async fn the_self_facilitator_gets_the_original_request_and_its_errors_are_surfaced() {
    let viewer = User::new(2);
    let facilitator = FakeFacilitator::settling_for(&viewer.lower(), Duration::ZERO).await;
    let (_dir, s) = self_stack(&facilitator).await;
    let host = User::new(1);
    let (room, _) = s
        .live_room(&host, json!({"split_address": SPLIT, "live_amount": "250"}))
        .await;
    let required = s
        .enter(&viewer, &room, None)
        .await
        .header_json("payment-required");
    let payload = json!({"x402Version": 2, "resource": required["resource"],
        "accepted": required["accepts"][0], "payload": {"signature": "0xsig"}});
    let paid = s.enter(&viewer, &room, Some(&b64(&payload))).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(
        paid.header_json("payment-response"),
        json!({"settled": true, "idempotent": false, "entitlement": "live",
               "expires_at": START + 86400, "facilitator": "self", "transaction_hash": "0xfeed"})
    );
    let requests = facilitator.server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.path(), "/settle");
    assert_eq!(
        requests[0].headers["authorization"],
        "Bearer facilitator-secret"
    );
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"x402Version": 2, "paymentPayload": payload, "paymentRequirements": {
            "scheme": "exact", "network": "eip155:84532", "asset": USDC, "payTo": SPLIT,
            "resource": format!("/duet/{room}/enter?segment_id=seg-1"), "amount": "250",
            "maxAmountRequired": "250", "maxTimeoutSeconds": 3600,
            "extra": {"assetTransferMethod": "eip3009", "name": "USDC", "version": "2"}}})
    );
}

async fn refused_with(answer: (u16, Value), expected: &str) {
    let facilitator = FakeFacilitator::answering(answer.0, answer.1, Duration::ZERO).await;
    let (_dir, s) = self_stack(&facilitator).await;
    let host = User::new(1);
    let viewer = User::new(2);
    let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let signature = b64(&json!({"payload": {"signature": "0x"}}));
    for _ in 0..2 {
        // The claim is released after a failure: the same signature may be presented again.
        let refused = s.enter(&viewer, &room, Some(&signature)).await;
        assert_eq!(refused.status, 402);
        assert_eq!(refused.json(), json!({"error": expected}));
        assert_eq!(
            refused.header_json("payment-required")["resource"],
            format!("/duet/{room}/enter?segment_id=seg-1")
        );
    }
    assert_eq!(facilitator.settles().await.len(), 2);
    assert!(s.credits.duet.lock().unwrap().settled.is_empty());
}

#[tokio::test]
async fn facilitator_refusals_are_402_with_the_original_reason() {
    refused_with(
        (
            422,
            json!({"error": {"code": "invalid_payload", "message": "m"}}),
        ),
        "invalid_payload",
    )
    .await;
    refused_with(
        (402, json!({"errorReason": "insufficient_funds"})),
        "insufficient_funds",
    )
    .await;
    refused_with((500, Value::Null), "facilitator_http_500").await;
    refused_with(
        (200, json!({"ok": true})),
        "payment_settlement_not_explicitly_confirmed",
    )
    .await;
    refused_with(
        (
            200,
            json!({"success": false, "errorReason": "invalid_nonce"}),
        ),
        "invalid_nonce",
    )
    .await;
}

#[tokio::test]
async fn facilitator_configuration_errors_are_402_reasons() {
    let host = User::new(1);
    let viewer = User::new(2);
    let signature = b64(&json!({"payload": {}}));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("X402_FACILITATOR_MODE", "self")],
            "facilitator_base_url_not_configured",
        ),
        (
            vec![
                ("X402_FACILITATOR_MODE", "self"),
                ("X402_FACILITATOR_BASE_URL", "http://127.0.0.1:9"),
            ],
            "facilitator_auth_not_configured",
        ),
        (
            vec![
                ("X402_FACILITATOR_MODE", "self"),
                ("X402_FACILITATOR_BASE_URL", "http://127.0.0.1:9"),
                ("X402_FACILITATOR_AUTH_TOKEN", "t"),
            ],
            "facilitator_unreachable",
        ),
        (
            vec![("X402_FACILITATOR_MODE", "cdp")],
            "unsupported_facilitator_mode",
        ),
    ];
    for (vars, expected) in cases {
        let (_dir, s) = stack_with(&vars).await;
        let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
        let refused = s.enter(&viewer, &room, Some(&signature)).await;
        assert_eq!(refused.json(), json!({"error": expected}), "{vars:?}");
        let unparseable = s.enter(&viewer, &room, Some("%%%")).await;
        let format = if expected == "unsupported_facilitator_mode" {
            expected
        } else {
            "invalid_payment_signature_format"
        };
        assert_eq!(unparseable.json(), json!({"error": format}));
    }
}

#[tokio::test]
async fn mock_claims_must_match_the_quote_and_the_payer() {
    let (_dir, s) = stack_with(&[]).await;
    let host = User::new(1);
    let viewer = User::new(2);
    let other = User::new(3);
    let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let required = s
        .enter(&viewer, &room, None)
        .await
        .header_json("payment-required");
    let mut wrong = required.clone();
    wrong["accepts"][0]["amount"] = json!("1");
    let refused = s
        .enter(
            &viewer,
            &room,
            Some(&mock_signature(&wrong, &viewer.lower())),
        )
        .await;
    assert_eq!(refused.json(), json!({"error": "payment_amount_mismatch"}));
    let mut wrong = required.clone();
    wrong["accepts"][0]["payTo"] = json!(host.lower());
    let refused = s
        .enter(
            &viewer,
            &room,
            Some(&mock_signature(&wrong, &viewer.lower())),
        )
        .await;
    assert_eq!(refused.json(), json!({"error": "payment_payto_mismatch"}));
    // The settle resource is the signature's own `resource`; nested `claims` naming another
    // one do not match it.
    let accept = &required["accepts"][0];
    let nested = b64(&json!({"resource": required["resource"], "claims": {
        "network": accept["network"], "asset": accept["asset"], "amount": accept["amount"],
        "payTo": accept["payTo"], "wallet": viewer.lower(),
        "resource": "https://elsewhere.example/duet/other/enter"}}));
    let refused = s.enter(&viewer, &room, Some(&nested)).await;
    assert_eq!(
        refused.json(),
        json!({"error": "payment_resource_mismatch"})
    );
    // Paid by someone else: refused to the caller, but the payer keeps what it paid for.
    let by_other = mock_signature(&required, &other.lower());
    let mismatch = s.enter(&viewer, &room, Some(&by_other)).await;
    assert_eq!(mismatch.json(), json!({"error": "payment_wallet_mismatch"}));
    let payer = s
        .public_enter(&room, json!({"wallet": other.lower()}), None)
        .await;
    assert_eq!(payer.status, 200);
}

#[tokio::test]
async fn anonymous_public_payments_buy_one_grant_and_no_entitlement() {
    let (_dir, s) = stack_with(&[]).await;
    let host = User::new(1);
    let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let required = s
        .public_enter(&room, json!({}), None)
        .await
        .header_json("payment-required");
    let mut claims = required.clone();
    claims["accepts"][0]["payTo"] = required["accepts"][0]["payTo"].clone();
    let accept = &required["accepts"][0];
    let signature = b64(
        &json!({"network": accept["network"], "asset": accept["asset"],
        "amount": accept["amount"], "payTo": accept["payTo"], "resource": required["resource"]}),
    );
    let paid = s.public_enter(&room, json!({}), Some(&signature)).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert!(paid.json().get("live_expires_at").is_none());
    assert!(paid.json()["agora_viewer_token"].is_string());
    assert_eq!(
        paid.header_json("payment-response")["expires_at"],
        Value::Null
    );
    let again = s.public_enter(&room, json!({}), None).await;
    assert_eq!(again.status, 402);
    let replayed = s.public_enter(&room, json!({}), Some(&signature)).await;
    assert_eq!(
        (replayed.status, replayed.body.as_str()),
        (409, r#"{"error":"payment_signature_already_consumed"}"#)
    );
    let bad = s.public_enter(&room, json!({"wallet": "0x12"}), None).await;
    assert_eq!(
        (bad.status, bad.body.as_str()),
        (400, r#"{"error":"invalid_wallet"}"#)
    );
}

#[tokio::test]
async fn a_checkout_token_pins_the_segment_the_payer_was_quoted() {
    let (_dir, s) = stack_with(&[]).await;
    let host = User::new(1);
    let early = User::new(2);
    let late = User::new(3);
    let stale = User::new(4);
    let payee = "0x00000000000000000000000000000000000000bb";
    let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let quote_early = s
        .enter(&early, &room, None)
        .await
        .header_json("payment-required");
    let quote_stale = s
        .enter(&stale, &room, None)
        .await
        .header_json("payment-required");
    let started = s
        .post(
            Some(&host),
            &format!("/duet/{room}/segments/start"),
            json!({"pay_to": payee}),
        )
        .await
        .json();
    let seg2 = started["current_segment_id"].as_str().unwrap().to_owned();
    // Quoted for seg-1 with its token: settles seg-1 at its payee.
    let paid = s
        .enter(
            &early,
            &room,
            Some(&mock_signature(&quote_early, &early.lower())),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let settled = s.credits.duet.lock().unwrap().settled[0].clone();
    assert_eq!(settled.segment_id.as_deref(), Some("seg-1"));
    assert_eq!(settled.pay_to.as_deref(), Some(SPLIT));
    // Naming seg-1 without a token is refused once seg-1 is no longer current.
    let mut no_token = quote_stale.clone();
    no_token.as_object_mut().unwrap().remove("extensions");
    let refused = s
        .enter(
            &stale,
            &room,
            Some(&mock_signature(&no_token, &stale.lower())),
        )
        .await;
    assert_eq!(
        refused.json(),
        json!({"error": "segment_checkout_required"})
    );
    let fresh = refused.header_json("payment-required");
    assert_eq!(fresh["accepts"][0]["payTo"], payee);
    assert_eq!(
        fresh["extensions"]["segment_checkout"]["segment_id"],
        seg2.as_str()
    );
    // A valid token with a resource naming another segment is a mismatch.
    let mut crossed = quote_stale.clone();
    crossed["resource"] = json!(format!("/duet/{room}/enter?segment_id={seg2}"));
    let refused = s
        .enter(
            &stale,
            &room,
            Some(&mock_signature(&crossed, &stale.lower())),
        )
        .await;
    assert_eq!(
        refused.json(),
        json!({"error": "segment_checkout_mismatch"})
    );
    // Five minutes later the old quote's token is dead.
    s.clock.advance(301);
    let refused = s
        .enter(
            &stale,
            &room,
            Some(&mock_signature(&quote_stale, &stale.lower())),
        )
        .await;
    assert_eq!(
        refused.json(),
        json!({"error": "segment_checkout_required"})
    );
    let quote_late = s
        .enter(&late, &room, None)
        .await
        .header_json("payment-required");
    let paid = s
        .enter(
            &late,
            &room,
            Some(&mock_signature(&quote_late, &late.lower())),
        )
        .await;
    assert_eq!(paid.status, 200);
    let settled = s.credits.duet.lock().unwrap().settled[1].clone();
    assert_eq!(settled.segment_id.as_deref(), Some(seg2.as_str()));
    assert_eq!(settled.pay_to.as_deref(), Some(payee));
}

#[tokio::test]
async fn free_rooms_and_entitlement_windows() {
    let (_dir, s) = stack_with(&[]).await;
    let host = User::new(1);
    let viewer = User::new(2);
    let (free, _) = s
        .live_room(&host, json!({"split_address": SPLIT, "live_amount": 0}))
        .await;
    let entered = s.enter(&viewer, &free, None).await;
    assert_eq!(entered.json()["live_expires_at"], START + 86400);
    let public = s.public_enter(&free, json!({}), None).await.json();
    assert_eq!(public["audience_mode"], "free");
    assert!(public.get("live_expires_at").is_none());
    let info = s.get(&format!("/duet/{free}/public-info")).await.json();
    assert_eq!(info["audience_mode"], "free");

    let (paid, _) = s
        .live_room(
            &host,
            json!({"split_address": SPLIT, "access_window_minutes": 10}),
        )
        .await;
    let required = s
        .enter(&viewer, &paid, None)
        .await
        .header_json("payment-required");
    let signature = mock_signature(&required, &viewer.lower());
    assert_eq!(s.enter(&viewer, &paid, Some(&signature)).await.status, 200);
    s.clock.advance(599);
    let inside = s.enter(&viewer, &paid, None).await;
    assert_eq!(inside.json()["live_expires_at"], START + 600);
    s.clock.advance(1);
    let over = s.enter(&viewer, &paid, None).await;
    assert_eq!(over.status, 402);
    // The old signature bought a window that has ended.
    let replayed = s.enter(&viewer, &paid, Some(&signature)).await;
    assert_eq!(
        replayed.json(),
        json!({"error": "payment_signature_already_consumed"})
    );
}

#[tokio::test]
async fn entitlements_and_markers_outlive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
    let host = User::new(1);
    let viewer = User::new(2);
    let (room, signature) = {
        let s = DuetStack::start(dir.path(), clock.clone(), credits.clone(), &[]).await;
        let (room, _) = s.live_room(&host, json!({"split_address": SPLIT})).await;
        let required = s
            .enter(&viewer, &room, None)
            .await
            .header_json("payment-required");
        let signature = mock_signature(&required, &viewer.lower());
        assert_eq!(s.enter(&viewer, &room, Some(&signature)).await.status, 200);
        (room, signature)
    };
    let s = DuetStack::start(dir.path(), clock, credits, &[]).await;
    assert_eq!(s.enter(&viewer, &room, None).await.status, 200);
    let attacker = User::new(9);
    assert_eq!(
        s.enter(&attacker, &room, Some(&signature)).await.status,
        409
    );
    assert_eq!(s.credits.duet.lock().unwrap().settled.len(), 1);
}

/// A JSON-RPC node answering `authorizationState` with `used` (and counting the reads).
async fn chain_node(used: Arc<std::sync::atomic::AtomicBool>) -> MockServer {
    let node = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(move |req: &wiremock::Request| {
            let call: Value = serde_json::from_slice(&req.body).unwrap();
            let word = if used.load(std::sync::atomic::Ordering::SeqCst) {
                format!("0x{:064x}", 1)
            } else {
                format!("0x{:064x}", 0)
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"jsonrpc": "2.0", "id": call["id"], "result": word}))
        })
        .mount(&node)
        .await;
    node
}

#[tokio::test]
async fn a_settlement_whose_answer_was_lost_is_reconciled_on_chain_for_the_same_signature_only() {
    // The facilitator refuses the authorization (it settled it before, but that answer was
    // lost): the payer's retry with the same signature is granted once the payment network
    // shows the authorization used; the same authorization in another signature is not.
    let facilitator = FakeFacilitator::answering(
        200,
        json!({"success": false, "errorReason": "invalid_nonce"}),
        Duration::ZERO,
    )
    .await;
    let used = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let node = chain_node(used.clone()).await;
    let mut vars = facilitator.vars();
    vars.push(("X402_CHAIN_RPC_URL", node.uri()));
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_dir, s) = stack_with(&pairs).await;
    let host = User::new(1);
    let viewer = User::new(2);
    let (room, _) = s
        .live_room(&host, json!({"split_address": SPLIT, "live_amount": "250"}))
        .await;
    let required = s
        .enter(&viewer, &room, None)
        .await
        .header_json("payment-required");
    let nonce = format!("0x{}", "11".repeat(32));
    let authorization = json!({"from": viewer.lower(), "to": SPLIT, "value": "250",
        "validAfter": "0", "validBefore": "99999999999", "nonce": nonce});
    let payload = json!({"x402Version": 2, "resource": required["resource"],
        "accepted": required["accepts"][0],
        "payload": {"signature": "0xsig", "authorization": authorization}});
    let signature = b64(&payload);

    // First presentation: refused as the facilitator said; nothing was sent before, so the
    // chain is not asked.
    let refused = s.enter(&viewer, &room, Some(&signature)).await;
    assert_eq!(refused.status, 402, "{}", refused.body);
    assert_eq!(refused.json(), json!({"error": "invalid_nonce"}));
    assert!(node.received_requests().await.unwrap().is_empty());

    // The same signature again, the authorization now used on chain: granted, once.
    used.store(true, std::sync::atomic::Ordering::SeqCst);
    let granted = s.enter(&viewer, &room, Some(&signature)).await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert_eq!(
        granted.header_json("payment-response"),
        json!({"settled": true, "idempotent": false, "entitlement": "live",
               "expires_at": START + 86400, "facilitator": "self"})
    );
    let reads = node.received_requests().await.unwrap();
    assert_eq!(reads.len(), 1);
    let read: Value = serde_json::from_slice(&reads[0].body).unwrap();
    assert_eq!(read["method"], "eth_call");
    assert_eq!(read["params"][0]["to"], USDC);
    let data = read["params"][0]["data"].as_str().unwrap();
    assert!(data.contains(&viewer.lower()[2..]), "{data}");
    assert!(data.ends_with(&"11".repeat(32)), "{data}");
    assert_eq!(s.credits.duet.lock().unwrap().settled.len(), 1);

    // The same authorization wrapped in another signature, for another room with the same
    // payee and price: the facilitator refuses it and it is not reconciled.
    let (other, _) = s
        .live_room(&host, json!({"split_address": SPLIT, "live_amount": "250"}))
        .await;
    let required = s
        .enter(&viewer, &other, None)
        .await
        .header_json("payment-required");
    let rewrapped = b64(&json!({"x402Version": 2, "resource": required["resource"],
        "accepted": required["accepts"][0],
        "payload": {"signature": "0xsig", "authorization": authorization}}));
    let refused = s.enter(&viewer, &other, Some(&rewrapped)).await;
    assert_eq!(refused.status, 402, "{}", refused.body);
    assert_eq!(refused.json(), json!({"error": "invalid_nonce"}));
    assert_eq!(node.received_requests().await.unwrap().len(), 1);
    assert_eq!(s.credits.duet.lock().unwrap().settled.len(), 1);
}
