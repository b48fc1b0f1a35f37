//! voice-agent inside the `heaven` binary: `heaven migrate d1-import` loads a D1 dump that
//! `heaven serve agent` then serves, and the dev JWT secret generated without `JWT_SECRET`
//! survives a restart (tokens stay valid).

mod common;

use common::Heaven;

use serde_json::json;

const WALLET: &str = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf";

#[tokio::test]
async fn imported_sessions_are_served() {
    let data = tempfile::tempdir().unwrap();
    let dump = data.path().join("dump.sql");
    std::fs::write(
        &dump,
        format!(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, wallet TEXT NOT NULL, channel TEXT NOT NULL, agora_agent_id TEXT, llm_secret_hash TEXT NOT NULL, context_blob TEXT, started_at INTEGER NOT NULL, ended_at INTEGER, duration_ms INTEGER, status TEXT NOT NULL);\n\
             INSERT INTO \"sessions\" VALUES('s1','{WALLET}','neo_s1',NULL,'abc',NULL,1733000000000,NULL,NULL,'active');\n"
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = common::run_to_end(
        &["migrate", "d1-import", dump.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("imported 0 nonces and 1 sessions from "),
        "{stdout}"
    );

    let agent = Heaven::start(
        &["serve", "agent"],
        data.path(),
        &[("JWT_SECRET", "shared")],
        false,
    );
    let wallet = voice_agent::auth::Wallet::parse(WALLET).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = voice_agent::auth::SessionToken::new("shared").issue(&wallet, now);
    let stop = reqwest::Client::new()
        .post(format!("{}/agent/s1/stop", agent.url("voice-agent")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 200);
    let body: serde_json::Value = stop.json().await.unwrap();
    assert_eq!(body["session_id"], "s1");
    assert!(body["duration_ms"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn the_dev_jwt_secret_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let token = {
        let agent = Heaven::start(&["serve", "agent"], data.path(), &[], false);
        // Log in with the key 0x..01 (the address above).
        let nonce: serde_json::Value = http
            .post(format!("{}/auth/nonce", agent.url("voice-agent")))
            .json(&json!({"wallet": WALLET.to_lowercase()}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let nonce = nonce["nonce"].as_str().unwrap().to_owned();
        let mut one = [0u8; 32];
        one[31] = 1;
        let key = k256::ecdsa::SigningKey::from_slice(&one).unwrap();
        let signature = voice_agent::auth::signature::sign_personal_message(&key, &nonce);
        let verified: serde_json::Value = http
            .post(format!("{}/auth/verify", agent.url("voice-agent")))
            .json(&json!({"wallet": WALLET, "signature": signature, "nonce": nonce}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        verified["token"].as_str().unwrap().to_owned()
    };
    let secret_file = data.path().join("voice-agent-jwt-secret");
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap().len(), 64);
    let agent = Heaven::start(&["serve", "agent"], data.path(), &[], false);
    // The token from before the restart still passes auth (the session does not exist).
    let response = http
        .post(format!("{}/agent/nope/stop", agent.url("voice-agent")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"session not found"}"#
    );
}
