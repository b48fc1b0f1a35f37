//! The canister → worker outcall end to end (ADR 0025): the real credits wasm on the harness,
//! its outcalls made by 4 simulated replicas against the real `POST /internal/anchor` on
//! 127.0.0.1, which uploads through the blob store to a fake Load agent; the same scenario on
//! PocketIC when `POCKET_IC_BIN` is set (one mocked answer per outcall, forwarded to the same
//! worker).
//!
//! - Two committed settlements are pending receipts; `anchor_receipts` signs one batch with
//!   the canister's threshold key and sends it: the worker uploads once, the four replicas get
//!   the same bytes after the transform, and the canister records the Load id in its log
//!   (`anchors`, and `audit` still finds the state equal to its log replayed).
//! - A worker configured with another canister's key refuses the signature (401): nothing is
//!   uploaded, the receipt stays pending, and pointing back at the right worker anchors it.

mod common;

use std::sync::Arc;

use blob_store::BlobStore;
use blob_store::anchor_service::{self, AnchorAnswer, AnchorService, AnchorSettings};
use candid::{CandidType, Encode, Principal};
use common::{FakeLoad, FakeLoadExt, LOAD_KEY, dead_arweave, memory_index};
use credits_canister::anchor::{AnchorError, AnchorStatus};
use credits_canister::api::{
    ClaimOutcome, ClaimSettlement, CommitOutcome, CommitSettlement, SettlementResult,
};
use credits_canister::duet::{EntitlementKind, RoomId, Sha256Hex};
use credits_canister::endpoints::{AuditReport, CallError};
use credits_canister::lifecycle::InitArg;
use credits_canister::state::AnchorRecord;
use credits_canister::wallet::Wallet;
use ic_wasm_harness::{Harness, PocketIcScenario, Scenario, canister_wasm};
use portability::{ContentAddressedBlobStore, SqliteStateStore, StateStore};

const REPLICAS: usize = 4;

/// The workers and the fake Load agent, on their own runtime (the scenario's calls block the
/// test thread while the canister waits for its outcalls).
struct Workers {
    runtime: tokio::runtime::Runtime,
    load: FakeLoad,
    blobs: Arc<dyn ContentAddressedBlobStore>,
    _spool: tempfile::TempDir,
}

impl Workers {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let spool = tempfile::tempdir().unwrap();
        let (load, blobs) = runtime.block_on(async {
            let load = FakeLoad::start().await;
            let blobs: Arc<dyn ContentAddressedBlobStore> = Arc::new(BlobStore::new(
                load.agent(Some(LOAD_KEY), dead_arweave()),
                memory_index().await,
                spool.path(),
            ));
            (load, blobs)
        });
        Self {
            runtime,
            load,
            blobs,
            _spool: spool,
        }
    }

    /// A worker serving `/internal/anchor` for `canister_key` on 127.0.0.1; returns its URL.
    fn serve(&self, canister_key: &str) -> String {
        let settings = AnchorSettings::from_hex(canister_key).unwrap();
        let blobs = self.blobs.clone();
        self.runtime.block_on(async move {
            let state: Arc<dyn StateStore> =
                Arc::new(SqliteStateStore::open_in_memory().await.unwrap());
            let router = anchor_service::router(Some(AnchorService::new(settings, blobs, state)));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!(
                "http://{}{}",
                listener.local_addr().unwrap(),
                anchor_service::ANCHOR_PATH
            );
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            url
        })
    }

    fn uploads(&self) -> usize {
        self.load.requests.lock().unwrap().len()
    }
}

fn update<R: CandidType + for<'de> candid::Deserialize<'de>>(
    s: &mut dyn Scenario,
    canister: Principal,
    method: &str,
    arg: Vec<u8>,
) -> R {
    let reply = s
        .update_raw(canister, Harness::controller(), method, arg)
        .unwrap_or_else(|e| panic!("{method} on {}: {e}", s.backend()));
    candid::decode_one(&reply).unwrap()
}

fn query<R: CandidType + for<'de> candid::Deserialize<'de>>(
    s: &mut dyn Scenario,
    canister: Principal,
    method: &str,
    arg: Vec<u8>,
) -> R {
    let reply = s
        .query_raw(canister, Harness::controller(), method, arg)
        .unwrap_or_else(|e| panic!("{method} on {}: {e}", s.backend()));
    candid::decode_one(&reply).unwrap()
}

fn settle(s: &mut dyn Scenario, canister: Principal, signature: &[u8]) {
    let room_id = RoomId::parse("anchor-room").unwrap();
    let wallet = Wallet::parse("0x00000000000000000000000000000000000000bb").unwrap();
    let signature_hash = Sha256Hex::of(signature);
    let claim = ClaimSettlement {
        room_id: room_id.clone(),
        signature_hash: signature_hash.clone(),
        wallet: Some(wallet.clone()),
        entitlement: EntitlementKind::Live,
    };
    let claimed: Result<ClaimOutcome, CallError> =
        update(s, canister, "claim_settlement", Encode!(&claim).unwrap());
    claimed.unwrap();
    let commit = CommitSettlement {
        room_id,
        signature_hash,
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
    };
    let committed: Result<CommitOutcome, CallError> =
        update(s, canister, "commit_settlement", Encode!(&commit).unwrap());
    assert!(committed.unwrap().unwrap().is_some());
}

type AnchorRun = Result<Result<Option<AnchorRecord>, AnchorError>, CallError>;

fn anchor_now(s: &mut dyn Scenario, canister: Principal) -> AnchorRun {
    update(s, canister, "anchor_receipts", Encode!().unwrap())
}

fn set_url(s: &mut dyn Scenario, canister: Principal, url: &str) {
    let set: Result<(), CallError> = update(
        s,
        canister,
        "set_anchor_url",
        Encode!(&Some(url.to_owned())).unwrap(),
    );
    set.unwrap();
}

fn status(s: &mut dyn Scenario, canister: Principal) -> AnchorStatus {
    query(s, canister, "anchors", Encode!(&10u32).unwrap())
}

/// The round trip on any backend; returns the first anchored batch.
fn round_trip(s: &mut dyn Scenario, workers: &Workers) -> AnchorRecord {
    let wasm = canister_wasm("credits").unwrap_or_else(|e| panic!("{e}"));
    let init = Encode!(&InitArg {
        ecdsa_key_name: "dfx_test_key".into()
    })
    .unwrap();
    let c = s.install(&wasm, init).unwrap();
    let public_key: Result<String, CallError> =
        update(s, c, "anchor_public_key", Encode!().unwrap());
    let good = workers.serve(&public_key.unwrap());
    let stranger = hex::encode(
        k256::ecdsa::SigningKey::from_slice(&[3; 32])
            .unwrap()
            .verifying_key()
            .to_sec1_bytes(),
    );
    let foreign = workers.serve(&stranger);

    // Nothing configured, then nothing pending: no outcall.
    assert_eq!(anchor_now(s, c), Ok(Err(AnchorError::NotConfigured)));
    set_url(s, c, &good);
    assert_eq!(anchor_now(s, c), Ok(Ok(None)));
    assert_eq!(workers.uploads(), 0);

    settle(s, c, b"payment-1");
    settle(s, c, b"payment-2");
    assert_eq!(status(s, c).pending, 2);
    let record = anchor_now(s, c)
        .unwrap()
        .unwrap()
        .expect("a batch was anchored");
    assert_eq!(record.receipts, 2);
    assert_eq!(workers.uploads(), 1, "one upload whatever the replicas did");
    let stored: Vec<String> = workers.load.blobs.lock().unwrap().keys().cloned().collect();
    assert_eq!(stored, vec![record.id.clone()]);

    // The canister's log holds the id; its state is still its log replayed.
    let now = status(s, c);
    assert_eq!(now.pending, 0);
    assert_eq!(now.recent, vec![record.clone()]);
    let audit: AuditReport = query(s, c, "audit", Encode!().unwrap());
    assert!(audit.differences.is_empty(), "{audit:?}");

    // A worker that trusts another key refuses the batch: nothing uploaded, still pending.
    settle(s, c, b"payment-3");
    set_url(s, c, &foreign);
    match anchor_now(s, c) {
        Ok(Err(AnchorError::Worker { status, body })) => {
            assert_eq!(status, 401, "{body}");
            assert!(body.contains("Bad canister signature"), "{body}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(workers.uploads(), 1);
    assert_eq!(status(s, c).pending, 1);

    // Back to the worker that trusts this canister: the pending receipt is anchored.
    set_url(s, c, &good);
    let second = anchor_now(s, c).unwrap().unwrap().unwrap();
    assert_eq!(second.receipts, 1);
    assert!(second.first > record.last);
    assert_eq!(workers.uploads(), 2);
    assert_eq!(status(s, c).pending, 0);
    record
}

#[test]
fn four_replicas_anchor_one_batch_once_and_a_foreign_signature_is_refused() {
    let workers = Workers::start();
    let mut harness = Harness::new();
    harness.set_outcall_replicas(REPLICAS);
    let record = round_trip(&mut harness, &workers);

    // The first outcall was the anchoring of `record`: four replicas, four identical answers
    // after the transform (status and body, no header), carrying the key it was sent with.
    let round = harness.outcall_rounds()[0].clone();
    assert!(
        round
            .request
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("idempotency-key") && *v == record.key)
    );
    assert_eq!(round.transformed.len(), REPLICAS);
    let first = round.transformed[0].clone().unwrap();
    for answer in &round.transformed {
        assert_eq!(answer.as_ref().unwrap(), &first);
    }
    assert_eq!(first.status, 200);
    assert!(first.headers.is_empty());
    let answer: AnchorAnswer = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(
        (answer.key, answer.id),
        (record.key.clone(), record.id.clone())
    );
    // The figure ADR 0025 prices: this batch's request size and its replicated outcall cost
    // on a 13-node subnet at the legacy formula (max_response_bytes 2048).
    let request_bytes = (round.request.url.len()
        + round.request.body.len()
        + round
            .request
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>()) as u64;
    let n = 13u64;
    let cycles = (3_000_000 + 60_000 * n) * n + 400 * n * request_bytes + 800 * n * 2048;
    eprintln!(
        "anchor outcall: {request_bytes} request bytes for {} receipts; replicated on 13 nodes ≈ {:.1} M cycles",
        record.receipts,
        cycles as f64 / 1e6
    );
    // The refused round: every replica got the same 401.
    let refused = &harness.outcall_rounds()[1];
    assert!(
        refused
            .transformed
            .iter()
            .all(|a| a.as_ref().unwrap().status == 401)
    );
}

#[test]
fn pocket_ic() {
    if let Some(mut scenario) = PocketIcScenario::from_env_or_skip() {
        let workers = Workers::start();
        round_trip(&mut scenario, &workers);
    }
}
