//! The session lifecycle on PostgreSQL (the deployed adapter) instead of SQLite: login with
//! nonce consumption, a session inserted, found by its secret, and ended. Uses
//! `postgres://postgres@127.0.0.1:5432/test` (or `TEST_DATABASE_URL`) with a private schema
//! dropped afterwards; a server that is down fails the test naming it.

mod common;

use std::sync::Arc;

use common::{Service, User, config};
use portability::testing::PgSchema;
use portability::{PostgresStateStore, StateStore};
use serde_json::json;
use voice_agent::sessions::{SessionBook, SessionRecord, SessionStatus};

#[tokio::test]
async fn sessions_and_nonces_live_in_postgres() {
    let schema = PgSchema::new("voice_agent_test");
    let url = schema.url.clone();
    let store: Arc<dyn StateStore> = Arc::new(
        PostgresStateStore::connect(&url, Some(&schema.name))
            .await
            .unwrap_or_else(|err| panic!("PostgreSQL is not reachable at {url}: start it ({err})")),
    );
    let service = Service::start_with_store(config(&[]), store.clone(), None).await;

    // Login consumes the nonce in Postgres: the replay is refused.
    let user = User::new(9);
    let nonce = service.nonce(user.wallet.as_str()).await;
    let body =
        json!({"wallet": user.wallet.as_str(), "signature": user.sign(&nonce), "nonce": nonce});
    assert_eq!(
        service
            .post("/auth/verify", None, body.clone())
            .await
            .status(),
        200
    );
    assert_eq!(service.post("/auth/verify", None, body).await.status(), 401);

    // A session found by its secret hash until it ends.
    let book = SessionBook::new(store.clone());
    let hash = voice_agent::auth::sha256_hex("neo_secret");
    book.insert_session(&SessionRecord {
        id: "s-1".into(),
        wallet: user.wallet.to_string(),
        channel: "neo_x".into(),
        agora_agent_id: None,
        llm_secret_hash: hash.clone(),
        context_blob: None,
        started_at: 1,
        ended_at: None,
        duration_ms: None,
        status: SessionStatus::Active,
    })
    .await
    .unwrap();
    assert_eq!(
        book.active_session_by_secret(&hash)
            .await
            .unwrap()
            .unwrap()
            .id,
        "s-1"
    );
    let token = service.login(&user).await;
    let stopped = service
        .post("/agent/s-1/stop", Some(&token), json!({}))
        .await;
    assert_eq!(stopped.status(), 200);
    assert!(
        book.active_session_by_secret(&hash)
            .await
            .unwrap()
            .is_none()
    );
    let ended = book.session("s-1").await.unwrap().unwrap();
    assert_eq!(ended.status, SessionStatus::Ended);
    assert!(ended.duration_ms.unwrap() > 0);
}
