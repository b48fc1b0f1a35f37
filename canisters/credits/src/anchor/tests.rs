//! Receipts become pending when their event is applied, batch in log order with a stable key,
//! leave the pending set when anchored (and the state still equals its log replayed); the
//! transform keeps status and body only; the endpoint must be an http(s) URL.

use candid::Principal;

use super::*;
use crate::api::{ClaimSettlement, CommitSettlement, SettlementResult};
use crate::duet::{EntitlementKind, RoomId, Sha256Hex};
use crate::state::audit::check_against_log;
use crate::wallet::Wallet;
use crate::{lifecycle, payments};

const NS: u64 = 1_000_000_000;
const T0: u64 = 1_800_000_000;

fn settle(signature: &[u8], at: u64) {
    let room = RoomId::parse("room-1").unwrap();
    let wallet = Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap();
    let hash = Sha256Hex::of(signature);
    payments::claim(
        ClaimSettlement {
            room_id: room.clone(),
            signature_hash: hash.clone(),
            wallet: Some(wallet.clone()),
            entitlement: EntitlementKind::Live,
        },
        at * NS,
    );
    payments::commit(
        CommitSettlement {
            room_id: room,
            signature_hash: hash,
            entitlement: EntitlementKind::Live,
            result: SettlementResult::Settled {
                wallet: Some(wallet),
                window_seconds: 3600,
                segment_id: None,
                pay_to: None,
                amount: None,
                facilitator: "mock".into(),
                transaction_hash: None,
            },
        },
        (at + 1) * NS,
    )
    .unwrap();
}

#[test]
fn committed_settlements_are_batched_then_anchored_once() {
    lifecycle::init(
        lifecycle::InitArg {
            ecdsa_key_name: "dfx_test_key".into(),
        },
        T0 * NS,
    );
    let canister = Principal::from_text("rrkah-fqaaa-aaaaa-aaaaq-cai").unwrap();
    assert_eq!(state::with(|s| next_batch(s, &canister)), None);
    settle(b"sig-1", T0 + 10);
    settle(b"sig-2", T0 + 20);
    let batch = state::with(|s| next_batch(s, &canister)).unwrap();
    assert_eq!(batch.receipts, 2);
    assert_eq!(
        batch.key,
        format!("credits-{canister}-{}-{}", batch.first, batch.last)
    );
    let document: serde_json::Value = serde_json::from_slice(&batch.body).unwrap();
    assert_eq!(document["receipts"][0]["kind"], "settlement");
    assert_eq!(document["receipts"][1]["index"], batch.last);
    // The entry is the log's own bytes.
    let logged = state::with(|s| s.event(batch.first)).unwrap();
    assert_eq!(
        document["receipts"][0]["event"],
        hex::encode(minicbor::to_vec(&logged).unwrap())
    );
    // The same pending receipts always make the same batch (a retry sends the same key).
    assert_eq!(
        state::with(|s| next_batch(s, &canister)),
        Some(batch.clone())
    );

    state::mutate(|s| {
        process_event(
            s,
            (T0 + 30) * NS,
            EventType::ReceiptsAnchored {
                key: batch.key.clone(),
                first: batch.first,
                last: batch.last,
                receipts: 2,
                id: "blob-1".into(),
                arweave_url: None,
            },
        )
    });
    assert_eq!(state::with(|s| next_batch(s, &canister)), None);
    let status = status(10);
    assert_eq!(status.pending, 0);
    assert_eq!(status.recent[0].id, "blob-1");
    assert_eq!(status.recent[0].at.0, T0 + 30);

    settle(b"sig-3", T0 + 40);
    let next = state::with(|s| next_batch(s, &canister)).unwrap();
    assert_eq!(next.receipts, 1);
    assert!(next.first > batch.last);
    assert_eq!(check_against_log(), Vec::<&str>::new());
}

#[test]
fn the_transform_keeps_status_and_body_only() {
    let raw = OutcallResponse {
        status: 200,
        headers: vec![OutcallHeader {
            name: "date".into(),
            value: "Thu, 03 Dec 2026 18:00:00 GMT".into(),
        }],
        body: b"{\"id\":\"x\"}".to_vec(),
    };
    let out = transform(raw.clone());
    assert_eq!(out.status, 200);
    assert!(out.headers.is_empty());
    assert_eq!(out.body, raw.body);
}

#[test]
fn the_endpoint_must_be_http_and_can_be_cleared() {
    assert!(set_url(Some("ftp://x".into()), NS).is_err());
    set_url(Some(" https://api.example/internal/anchor ".into()), NS).unwrap();
    assert_eq!(
        status(1).url.as_deref(),
        Some("https://api.example/internal/anchor")
    );
    set_url(None, 2 * NS).unwrap();
    assert_eq!(status(1).url, None);
}

#[test]
fn the_signed_digest_binds_key_and_body() {
    assert_ne!(message_hash("a", b"b"), message_hash("a", b"c"));
    assert_ne!(message_hash("a", b"b"), message_hash("ab", b""));
}
