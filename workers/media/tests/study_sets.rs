//! `GET /api/study-sets/:trackId` over real HTTP: StudySetRegistryV1 on a fake Tempo node
//! (JSON-RPC `eth_call`, the shared `FakeChain`), the pack on the Load gateway (the shared
//! fake Load) after the Arweave gateway missed, its hash checked; and the error rows.

mod common;

use common::{Media, Options};
use heaven_eth::abi::{SolCall, getStudySetCall, getStudySetReturn};
use heaven_eth::{B256, address};
use identity_canister::testing::FakeChain;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REGISTRY: &str = "0x7fd583d6e9d2f820432455d071617b5c1449c7a4";
const REGISTRY_EIP55: &str = "0x7fD583d6e9D2F820432455D071617b5C1449c7a4";
const SUBMITTER: &str = "0x1111111111111111111111111111111111111111";
/// The pack as stored: members deliberately not in alphabetical order.
const PACK: &str =
    r#"{"specVersion":"exercise-pack-v2","trackId":"x","language":"es","questions":[{"id":"q1"}]}"#;

fn track() -> String {
    format!("0x{}", "Ab".repeat(32))
}

async fn media(chain: &FakeChain, registry: Option<&str>) -> Media {
    Media::start_with(Options {
        study_set_registry: registry.map(|r| (r.to_owned(), chain.url())),
        ..Options::default()
    })
    .await
}

async fn register(chain: &FakeChain, reference: &str, hash: B256, exists: bool) {
    chain
        .on_call(
            getStudySetCall::SELECTOR,
            getStudySetCall::abi_encode_returns(&getStudySetReturn {
                studySetRef: reference.to_owned(),
                studySetHash: hash,
                submitter: address::parse(SUBMITTER).unwrap(),
                createdAt: 1_771_000_000,
                exists,
            }),
        )
        .await;
}

fn store_pack(media: &Media, id: &str, bytes: &[u8]) {
    media
        .load
        .blobs
        .lock()
        .unwrap()
        .insert(id.into(), (bytes.to_vec(), "application/json".into()));
}

async fn get(media: &Media, path: &str) -> (u16, String) {
    let response = media.http.get(media.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn a_registered_set_is_fetched_checked_and_answered_in_its_member_order() {
    let chain = FakeChain::start(100).await;
    let hash = B256::from_slice(&Sha256::digest(PACK.as_bytes()));
    register(&chain, "ar://pack-id", hash, true).await;
    let media = media(&chain, Some(REGISTRY)).await;
    store_pack(&media, "pack-id", PACK.as_bytes());
    let (status, text) = get(&media, &format!("/api/study-sets/{}?lang=es&v=1", track())).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with(&format!(r#""pack":{PACK}}}"#)), "{text}");
    let body = json(&text);
    assert_eq!(
        body["registry"],
        json!({
            "contract": REGISTRY_EIP55, "trackId": track(), "language": "es", "version": 1,
            "studySetRef": "ar://pack-id",
            "studySetHash": format!("0x{}", hex::encode(hash)),
            "submitter": SUBMITTER, "createdAt": 1_771_000_000u64
        })
    );
    assert_eq!(
        body["storage"],
        json!({
            "fetchedFrom": format!("{}/resolve/pack-id", media.load.server.uri()),
            "bytes": PACK.len()
        })
    );
    assert_eq!(
        (&body["success"], &body["cached"]),
        (&json!(true), &json!(true))
    );
    // The registry was asked for this track, language and version.
    let calls = chain.requests().await;
    let data = calls
        .iter()
        .find(|c| c["method"] == "eth_call")
        .and_then(|c| c["params"][0]["data"].as_str())
        .unwrap();
    let call = getStudySetCall::abi_decode(&hex::decode(&data[2..]).unwrap()).unwrap();
    assert_eq!(
        (
            call.lang.as_str(),
            call.version,
            format!("0x{}", hex::encode(call.trackId))
        ),
        ("es", 1, track().to_lowercase())
    );
}

#[tokio::test]
async fn a_pack_whose_bytes_differ_from_the_registry_hash_is_refused() {
    let chain = FakeChain::start(100).await;
    let registered = B256::from_slice(&Sha256::digest(b"something else"));
    register(&chain, "ls3://pack-id", registered, true).await;
    let media = media(&chain, Some(REGISTRY)).await;
    store_pack(&media, "pack-id", PACK.as_bytes());
    let (status, text) = get(&media, &format!("/api/study-sets/{}?language=es", track())).await;
    assert_eq!(status, 502, "{text}");
    assert_eq!(
        json(&text),
        json!({
            "success": false, "code": "hash_mismatch",
            "error": "On-chain studySetHash does not match fetched payload",
            "expectedHash": format!("0x{}", hex::encode(registered)),
            "actualHash": format!("0x{}", hex::encode(Sha256::digest(PACK.as_bytes())))
        })
    );
}

#[tokio::test]
async fn error_rows_answer_as_the_original() {
    let chain = FakeChain::start(100).await;
    register(&chain, "", B256::ZERO, false).await;
    let media = media(&chain, Some(REGISTRY)).await;
    let refused = |error: &str| json!({"success": false, "error": error});
    let rows = [
        (
            "/api/study-sets/0x12?lang=es".to_owned(),
            400,
            refused("trackId must be a 32-byte hex string (0x + 64 hex)"),
        ),
        (
            format!("/api/study-sets/{}?lang=%20", track()),
            400,
            refused("language (or lang) query param is required"),
        ),
        (
            format!("/api/study-sets/{}?lang=es&version=0", track()),
            400,
            refused("version must be an integer in [1, 255]"),
        ),
        (
            format!("/api/study-sets/{}?lang=es", track()),
            404,
            json!({"success": false, "code": "not_found",
                   "error": "No study set found for trackId/language/version"}),
        ),
    ];
    for (path, status, body) in rows {
        let (got, text) = get(&media, &path).await;
        assert_eq!((got, json(&text)), (status, body), "{path}");
    }

    let unset = Media::start().await;
    let (status, text) = get(&unset, &format!("/api/study-sets/{}?lang=es", track())).await;
    assert_eq!(
        (status, json(&text)),
        (
            500,
            refused("Server misconfiguration (TEMPO_STUDY_SET_REGISTRY missing)")
        )
    );
    let bad = Media::start_with(Options {
        study_set_registry: Some(("0x12".into(), chain.url())),
        ..Options::default()
    })
    .await;
    let (status, text) = get(&bad, &format!("/api/study-sets/{}?lang=es", track())).await;
    assert_eq!(
        (status, json(&text)),
        (
            500,
            refused("Server misconfiguration (TEMPO_STUDY_SET_REGISTRY invalid address)")
        )
    );
}

#[tokio::test]
async fn a_node_that_refuses_the_read_is_a_502() {
    let chain = FakeChain::start(100).await;
    chain.on_call_revert(getStudySetCall::SELECTOR).await;
    let media = media(&chain, Some(REGISTRY)).await;
    let (status, text) = get(&media, &format!("/api/study-sets/{}?lang=es", track())).await;
    assert_eq!(status, 502, "{text}");
    let body = json(&text);
    assert_eq!(body["success"], false);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Failed to resolve study set: "),
        "{body}"
    );
}
