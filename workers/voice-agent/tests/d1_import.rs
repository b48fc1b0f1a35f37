//! Loading a `wrangler d1 export` dump of the original database: rows become records the
//! routes use (an imported active session's secret works on `/v1`, an imported nonce verifies).

mod common;

use common::{Service, User, assert_error, config};
use serde_json::json;
use voice_agent::d1_import::import_d1_dump;
use voice_agent::sessions::{SessionBook, SessionStatus};

fn dump(wallet: &str, nonce_hash: &str, secret_hash: &str) -> String {
    format!(
        r#"PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE nonces (
  wallet TEXT PRIMARY KEY,
  nonce_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT INTO "nonces" ("wallet","nonce_hash","expires_at","created_at") VALUES('{wallet}','{nonce_hash}',99999999999999,1733000000000);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  wallet TEXT NOT NULL,
  channel TEXT NOT NULL,
  agora_agent_id TEXT,
  llm_secret_hash TEXT NOT NULL,
  context_blob TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  duration_ms INTEGER,
  status TEXT NOT NULL  -- 'active','ended','error'
);
INSERT INTO "sessions" ("id","wallet","channel","agora_agent_id","llm_secret_hash","context_blob","started_at","ended_at","duration_ms","status") VALUES('a1','{wallet}','neo_a1',NULL,'{secret_hash}','it''s context',1733000000000,NULL,NULL,'active');
INSERT INTO "sessions" ("id","wallet","channel","agora_agent_id","llm_secret_hash","context_blob","started_at","ended_at","duration_ms","status") VALUES('e1','{wallet}','neo_e1','agent-9','ffff',NULL,1733000000000,1733000060000,60000,'ended');
CREATE INDEX idx_sessions_wallet_started_at ON sessions(wallet, started_at);
CREATE INDEX idx_sessions_llm_secret_hash ON sessions(llm_secret_hash);
"#
    )
}

#[tokio::test]
async fn a_d1_dump_becomes_usable_state() {
    let service = Service::start(config(&[])).await;
    let user = User::new(4);
    let nonce = "neo:imported-nonce";
    let secret = "neo_importedsecret";
    let sql = dump(
        user.wallet.as_str(),
        &voice_agent::auth::sha256_hex(nonce),
        &voice_agent::auth::sha256_hex(secret),
    );
    let report = import_d1_dump(service.store.clone(), &sql).await.unwrap();
    assert_eq!((report.nonces, report.sessions), (1, 2));
    // Idempotent.
    assert_eq!(
        import_d1_dump(service.store.clone(), &sql).await.unwrap(),
        report
    );

    let book = SessionBook::new(service.store.clone());
    let active = book.session("a1").await.unwrap().unwrap();
    assert_eq!(active.context_blob.as_deref(), Some("it's context"));
    assert_eq!(
        book.session("e1").await.unwrap().unwrap().status,
        SessionStatus::Ended
    );

    // The imported nonce verifies; the imported secret authenticates (503: no LLM configured).
    let response = service
        .post(
            "/auth/verify",
            None,
            json!({"wallet": user.wallet.as_str(), "signature": user.sign(nonce), "nonce": nonce}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_error(
        service
            .post(
                "/v1/chat/completions",
                Some(secret),
                json!({"messages": []}),
            )
            .await,
        503,
        "AI temporarily unavailable",
    )
    .await;
}

#[tokio::test]
async fn data_only_dumps_and_bad_rows() {
    let service = Service::start(config(&[])).await;
    let data_only = "INSERT INTO \"nonces\" VALUES('0xabc','h',1,1);";
    let report = import_d1_dump(service.store.clone(), data_only)
        .await
        .unwrap();
    assert_eq!((report.nonces, report.sessions), (1, 0));
    let bad = "INSERT INTO sessions VALUES('x','w','c',NULL,'h',NULL,1,NULL,NULL,'paused');";
    let err = import_d1_dump(service.store.clone(), bad)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "row sessions/x: unknown status \"paused\"");
    assert!(
        import_d1_dump(service.store.clone(), "NOT SQL")
            .await
            .is_err()
    );
}
