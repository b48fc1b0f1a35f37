//! voice-rooms inside the `heaven` binary: `/health`, and a wallet that logs in and reads the
//! balance the real in-process credits canister holds (granted with `heaven credits grant`
//! through the running stack), plus verify-celo reaching the canister's chain read.

mod common;

use common::{Heaven, run_to_end};
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};

/// `personal_sign` of `message` by `key`, as viem's `signMessage({message})`.
fn sign(key: &SigningKey, message: &str) -> String {
    let digest = heaven_eth::eip191::message_hash(message);
    let (signature, id) = key.sign_prehash_recoverable(digest.as_slice()).unwrap();
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + id.to_byte());
    format!("0x{}", hex::encode(bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logged_in_wallet_reads_its_balance_from_the_credits_canister() {
    let data = tempfile::tempdir().unwrap();
    // RPC on a closed port: the Celo check fails at once, as an unreachable chain.
    let stack = Heaven::start(
        &["serve", "rooms"],
        data.path(),
        &[("RPC_URL", "http://127.0.0.1:1")],
        false,
    );
    let rooms = stack.url("voice-rooms");
    let http = reqwest::Client::new();
    let health = http.get(format!("{rooms}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), r#"{"ok":true}"#);

    let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let address = heaven_eth::address::from_public_key(point.as_bytes()).unwrap();
    let wallet = heaven_eth::address::to_checksum(&address);
    let (code, _, err) = run_to_end(&["credits", "grant", &wallet, "1800"], data.path(), &[]);
    assert_eq!(code, 0, "{err}");

    let nonce: Value = http
        .post(format!("{rooms}/auth/nonce"))
        .json(&json!({ "wallet": wallet }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce = nonce["nonce"].as_str().unwrap();
    let verified = http
        .post(format!("{rooms}/auth/verify"))
        .json(&json!({"wallet": wallet, "signature": sign(&key, nonce), "nonce": nonce}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    let token = verified.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let balance = http
        .get(format!("{rooms}/credits"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(balance.status(), 200);
    assert_eq!(
        balance.text().await.unwrap(),
        r#"{"remaining_seconds":1800,"base_granted_seconds":1800,"bonus_granted_seconds":0,"consumed_seconds":0}"#
    );
    let celo = http
        .post(format!("{rooms}/credits/verify-celo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(celo.status(), 403);
    assert_eq!(
        celo.text().await.unwrap(),
        r#"{"error":"not_verified","granted":false}"#
    );
    let (status, _) = stack.stop();
    assert!(status.success());
}

#[test]
fn production_refuses_mock_payments_unless_opted_in() {
    let data = tempfile::tempdir().unwrap();
    // The dev key is allowed here so that only the payment settings are judged.
    let production = [
        ("HEAVEN_ENV", "production"),
        ("HEAVEN_ALLOW_DEV_KEY", "true"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        production.iter().chain(extra).copied().collect()
    };

    // The original's default facilitator is mock: every paid duet entry granted, none settled.
    let (code, _, stderr) = run_to_end(&["serve", "rooms"], data.path(), &production);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the x402 facilitator in mock mode"),
        "{stderr}"
    );
    assert!(stderr.contains("X402_FACILITATOR_MODE=self"), "{stderr}");

    // A real facilitator, but bookings read from the mock escrow.
    let self_mode = [
        ("X402_FACILITATOR_MODE", "self"),
        ("PAYMENT_FACILITATOR_BASE_URL", "http://127.0.0.1:1"),
    ];
    let mut env = with(&self_mode);
    env.push(("ESCROW_MODE", "mock"));
    let (code, _, stderr) = run_to_end(&["serve", "rooms"], data.path(), &env);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the session escrow in mock mode"),
        "{stderr}"
    );

    // Both real: starts.
    let real = Heaven::start(&["serve", "rooms"], data.path(), &with(&self_mode), false);
    assert_eq!(real.rows[0].2, "running");
    assert!(real.stop().0.success());

    // The explicit opt-in starts with the defaults.
    let opted_in = Heaven::start(
        &["serve", "rooms"],
        data.path(),
        &with(&[("HEAVEN_ALLOW_MOCK_PAYMENTS", "true")]),
        false,
    );
    assert_eq!(opted_in.rows[0].2, "running");
    assert!(opted_in.stop().0.success());
}
