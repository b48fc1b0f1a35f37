//! The per-wallet limit counts only what the wallet itself asked for (issue #23 point 6,
//! docs/adr/0010-permit-wallet-limit.md): a request signed by the wallet counts toward the
//! wallet's own limit; an unsigned one only toward the limit of the wallet as asked for by
//! that client (its IP, else its device id).

use super::*;
use crate::testing::{key_from_hex, personal_sign};

/// What the wallet signs to prove it asks for the permit itself, written out independently of
/// the code under test.
fn proof_message(wallet: &str, challenge_id: &str) -> String {
    format!("heaven-names-permit:v1\nwallet={wallet}\nchallenge_id={challenge_id}")
}

#[test]
fn the_proof_message_is_the_documented_one() {
    assert_eq!(
        permit::proof_message(WALLET, "ab"),
        proof_message(WALLET, "ab")
    );
}

async fn limited_setup() -> Setup {
    let s = setup(|c| {
        c.wallet_limit_10m = 2;
        c.ip_limit_10m = 100;
        c.device_limit_10m = 100;
    })
    .await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 1).await;
    s
}

const WALLET_LIMIT: (u16, &str) = (429, "Rate limited: wallet limit exceeded");

fn status(r: &ApiResult) -> (u16, String) {
    match r {
        Ok(a) => (a.status, String::new()),
        Err(e) => (e.status, e.message()),
    }
}

#[tokio::test]
async fn a_stranger_cannot_spend_the_wallet_limit_of_someone_else() {
    let s = limited_setup().await;
    let stranger = Some("203.0.113.66");
    for label in ["first-long", "second-long"] {
        permit_for(&s, solved_permit_body(label), stranger)
            .await
            .unwrap();
    }
    // The stranger's own count for this wallet is spent...
    assert_eq!(
        status(&permit_for(&s, solved_permit_body("third-long"), stranger).await),
        (WALLET_LIMIT.0, WALLET_LIMIT.1.into())
    );
    // ...but not the wallet's: its owner asks from elsewhere, unsigned or signed.
    permit_for(&s, solved_permit_body("owner-long"), Some("198.51.100.7"))
        .await
        .unwrap();
    permit_for(&s, signed_permit_body("signed-long"), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn signed_requests_share_the_wallets_own_limit() {
    let s = limited_setup().await;
    for (label, ip) in [
        ("first-long", "198.51.100.1"),
        ("second-long", "198.51.100.2"),
    ] {
        permit_for(&s, signed_permit_body(label), Some(ip))
            .await
            .unwrap();
    }
    assert_eq!(
        status(&permit_for(&s, signed_permit_body("third-long"), Some("198.51.100.3")).await),
        (WALLET_LIMIT.0, WALLET_LIMIT.1.into())
    );
}

#[tokio::test]
async fn a_wallet_signature_must_be_the_wallets_over_this_challenge() {
    let s = limited_setup().await;
    let invalid = (401, "Invalid wallet signature".to_string());
    // Signed by someone else.
    let mut body = solved_permit_body("first-long");
    let message = proof_message(WALLET, body["challengeId"].as_str().unwrap());
    body["walletSignature"] = json!(personal_sign(&crate::testing::key_from_seed(3), &message));
    assert_eq!(status(&permit_for(&s, body, None).await), invalid);
    // The wallet's, over another challenge.
    let mut body = solved_permit_body("first-long");
    let message = proof_message(WALLET, &"0".repeat(32));
    body["walletSignature"] = json!(personal_sign(&key_from_hex(WALLET_KEY), &message));
    assert_eq!(status(&permit_for(&s, body, None).await), invalid);
    // Not a signature.
    let mut body = solved_permit_body("first-long");
    body["walletSignature"] = json!("0x1234");
    assert_eq!(status(&permit_for(&s, body, None).await), invalid);
    // Nothing was consumed or counted.
    permit_for(&s, signed_permit_body("first-long"), None)
        .await
        .unwrap();
}
