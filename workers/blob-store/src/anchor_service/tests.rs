//! The endpoint over a local-disk blob store and an in-memory state store: the signature gate,
//! the key and body checks, one upload and identical answers for concurrent duplicates, and a
//! key reused with other bytes refused.

use axum::http::Request;
use k256::ecdsa::SigningKey;
use k256::ecdsa::signature::hazmat::PrehashSigner;
use portability::SqliteStateStore;
use tower::ServiceExt;

use super::*;
use crate::{BlobIndex, BlobStore, LocalDisk};

fn canister_key() -> SigningKey {
    SigningKey::from_slice(&[5; 32]).unwrap()
}

fn sign(key: &str, body: &[u8]) -> String {
    let signature: Signature = canister_key()
        .sign_prehash(&message_hash(key, body))
        .unwrap();
    hex::encode(signature.to_bytes())
}

struct Fixture {
    router: Router,
    state: Arc<dyn StateStore>,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let state: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
    let disk = LocalDisk::open(dir.path(), 1 << 20).await.unwrap();
    let blobs: Arc<dyn ContentAddressedBlobStore> = Arc::new(BlobStore::new(
        disk,
        BlobIndex::new(state.clone()),
        dir.path().join("spool"),
    ));
    let public = hex::encode(canister_key().verifying_key().to_sec1_bytes());
    let settings = AnchorSettings::from_hex(&public).unwrap();
    let router = router(Some(AnchorService::new(settings, blobs, state.clone())));
    Fixture { router, state, dir }
}

async fn call(
    router: &Router,
    key: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut request = Request::post(ANCHOR_PATH);
    if let Some(key) = key {
        request = request.header(IDEMPOTENCY_HEADER, key);
    }
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn stored_files(dir: &tempfile::TempDir) -> usize {
    std::fs::read_dir(dir.path().join("blobs"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn signed_duplicates_upload_once_and_answer_the_same_bytes() {
    let f = fixture().await;
    let body = br#"{"receipts":[1,2,3]}"#;
    let signature = sign("credits-receipts-0-3", body);
    let calls = (0..4).map(|_| {
        call(
            &f.router,
            Some("credits-receipts-0-3"),
            Some(&signature),
            body,
        )
    });
    let answers = futures_util::future::join_all(calls).await;
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    let answer: AnchorAnswer = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(answer.key, "credits-receipts-0-3");
    assert_eq!(answer.arweave_url, None, "local disk does not anchor");
    assert_eq!(stored_files(&f.dir), 1, "one upload");
    let record = f
        .state
        .get("anchors/credits-receipts-0-3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.version, 2, "claimed once, completed once");

    // The same key with other bytes (validly signed) is refused; the first answer stays.
    let other = br#"{"receipts":[9]}"#;
    let (status, _) = call(
        &f.router,
        Some("credits-receipts-0-3"),
        Some(&sign("credits-receipts-0-3", other)),
        other,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        call(
            &f.router,
            Some("credits-receipts-0-3"),
            Some(&signature),
            body
        )
        .await,
        answers[0]
    );
}

#[tokio::test]
async fn unsigned_or_badly_signed_requests_are_refused_before_anything_is_stored() {
    let f = fixture().await;
    let body = br#"{"receipts":[]}"#;
    let good = sign("k1", body);
    assert_eq!(call(&f.router, Some("k1"), None, body).await.0, 401);
    // Signed for another key, for other bytes, by another key, or not hex.
    assert_eq!(call(&f.router, Some("k2"), Some(&good), body).await.0, 401);
    assert_eq!(call(&f.router, Some("k1"), Some(&good), b"{}").await.0, 401);
    let stranger: Signature = SigningKey::from_slice(&[6; 32])
        .unwrap()
        .sign_prehash(&message_hash("k1", body))
        .unwrap();
    let (status, text) = call(
        &f.router,
        Some("k1"),
        Some(&hex::encode(stranger.to_bytes())),
        body,
    )
    .await;
    assert_eq!(
        (status, text.as_str()),
        (401, r#"{"error":"Bad canister signature"}"#)
    );
    assert_eq!(call(&f.router, Some("k1"), Some("zz"), body).await.0, 401);
    assert_eq!(stored_files(&f.dir), 0);
    assert!(f.state.get("anchors/k1").await.unwrap().is_none());

    assert_eq!(call(&f.router, None, Some(&good), body).await.0, 400);
    assert_eq!(
        call(&f.router, Some("bad key/"), Some(&good), body).await.0,
        400
    );
    assert_eq!(
        call(&f.router, Some("k1"), Some(&sign("k1", b"")), b"")
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn a_stale_claim_is_taken_over() {
    let f = fixture().await;
    let body = br#"{"receipts":[4]}"#;
    let stale = KeyRecord::Claimed {
        body_sha256: hex::encode(Sha256::digest(body)),
        claimed_at: now_ms() - 10 * 60 * 1000,
    };
    f.state
        .insert("anchors/k9", serde_json::to_vec(&stale).unwrap())
        .await
        .unwrap();
    let (status, text) = call(&f.router, Some("k9"), Some(&sign("k9", body)), body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(stored_files(&f.dir), 1);
}

#[tokio::test]
async fn without_a_key_configured_the_route_says_so() {
    let (status, text) = call(&router(None), Some("k"), Some("00"), b"{}").await;
    assert_eq!(status, 500);
    assert_eq!(
        text,
        r#"{"error":"Anchor not configured (ANCHOR_CANISTER_PUBLIC_KEY)"}"#
    );
}

#[test]
fn settings_read_a_sec1_key_and_refuse_anything_else() {
    let public = canister_key().verifying_key().to_sec1_bytes();
    assert!(AnchorSettings::from_hex(&format!("0x{}", hex::encode(&public))).is_ok());
    assert!(AnchorSettings::from_hex("nothex").is_err());
    assert!(AnchorSettings::from_hex("02ff").is_err());
}
