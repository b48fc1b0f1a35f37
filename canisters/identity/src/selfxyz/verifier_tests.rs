//! `POST /api/self/verify` outside mock mode, against a fake Celo node answering the hub,
//! registry and verifier `eth_call`s at their ABI shapes: a valid proof is recorded as the
//! mock path records it; local refusals make no outcall; the chain's refusals fail the
//! session; an unreachable node records nothing.

use canister_runtime::native::{HostMemory, NativeRuntime};
use heaven_eth::abi::SolCall;
use heaven_eth::{Address, U256};
use serde_json::{Value, json};

use super::celo::{
    checkIdentityCommitmentRootCall, discloseVerifierCall, registryCall, verifyProofCall,
};
use super::disclose::build::ProofSignals;
use super::*;
use crate::admin;
use crate::api::rng_from_seed;
use crate::chain;
use crate::testing::FakeChain;

const NOW_SECS: u64 = 1_771_600_000; // 2026-02-20T15:06:40Z
const USER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const HUB: &str = "0xe57f4773bd9c9d8b6cd70431117d353298b9f5bf";
const REGISTRY: &str = "0x1111111111111111111111111111111111111111";
const VERIFIER: &str = "0x2222222222222222222222222222222222222222";
const SCOPE: u64 = 987_654_321;
const ROOT: u64 = 424_242;
const NULLIFIER: u64 = 12_345;

fn now() -> Now {
    Now::from_secs(NOW_SECS)
}

fn address(text: &str) -> Address {
    text.parse().unwrap()
}

struct Setup {
    rt: NativeRuntime,
    chain: FakeChain,
    _dir: tempfile::TempDir,
}

fn verifier_config(rpc_url: String) -> SelfVerifierConfig {
    SelfVerifierConfig {
        rpc_url,
        hub: HUB.into(),
        scope_signal: SCOPE.to_string(),
        allowed_attestation_ids: vec![1, 2],
        minimum_age: Some(18),
        excluded_countries: vec!["PRK".into()],
        ofac: true,
        max_proof_age_seconds: settings::DEFAULT_MAX_PROOF_AGE_SECONDS,
    }
}

/// A fresh canister in production mode whose verifier reads the fake node (or `rpc_url`).
async fn setup(rpc_url: Option<&str>) -> Setup {
    state::install_memory(HostMemory::volatile());
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    chain::register_native_transform(&rt);
    let chain = FakeChain::start(1_000).await;
    let url = rpc_url.map_or_else(|| chain.url(), str::to_string);
    let config = SelfConfig {
        mock: false,
        endpoint: Some("https://x.icp0.io/api/self/verify".into()),
        verifier: Some(verifier_config(url)),
        ..SelfConfig::default()
    };
    admin::set_self_config(config, Now::from_secs(1)).unwrap();
    Setup {
        rt,
        chain,
        _dir: dir,
    }
}

/// The hub names the registry and verifier; the registry knows the root (or not); the
/// verifier says `valid`.
async fn fake_celo(chain: &FakeChain, root_known: bool, valid: bool) {
    let registry = address(REGISTRY);
    let verifier = address(VERIFIER);
    chain
        .on_call(
            registryCall::SELECTOR,
            registryCall::abi_encode_returns(&registry),
        )
        .await;
    chain
        .on_call(
            checkIdentityCommitmentRootCall::SELECTOR,
            checkIdentityCommitmentRootCall::abi_encode_returns(&root_known),
        )
        .await;
    chain
        .on_call(
            discloseVerifierCall::SELECTOR,
            discloseVerifierCall::abi_encode_returns(&verifier),
        )
        .await;
    chain
        .on_call(
            verifyProofCall::SELECTOR,
            verifyProofCall::abi_encode_returns(&valid),
        )
        .await;
}

fn open_session(seed: u8) -> String {
    let mut rng = rng_from_seed([seed; 32]);
    let req = ApiRequest::new(
        "POST",
        "/api/self/session",
        vec![("host".into(), "x.icp0.io".into())],
        json!({ "userAddress": USER }).to_string().into_bytes(),
    );
    let answer = create_session(&req, now(), &mut rng).unwrap();
    answer.body_json()["sessionId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Self's packed `userContextData` (no `0x`): chain id, the user id as a 32-byte word, and the
/// session id as the user-defined data.
fn context_for(user: &str, session_id: &str) -> String {
    format!(
        "{:064x}{:0>64}{}",
        42_220,
        user.trim_start_matches("0x"),
        hex::encode(session_id)
    )
}

/// The signals of a valid passport proof for `context`.
fn passport(context: &str) -> ProofSignals {
    ProofSignals {
        attestation_id: 1,
        root: U256::from(ROOT),
        scope: U256::from(SCOPE),
        user_identifier: checks::user_identifier_hash(&hex::decode(context).unwrap()),
        nullifier: U256::from(NULLIFIER),
        current_date: "260220",
        nationality: Some("FRA"),
        date_of_birth: Some("950115"),
        older_than: "18",
        ofac: [1, 1, 1],
        forbidden: vec!["PRK"],
    }
}

fn proof() -> Value {
    json!({"a": ["1", "2"], "b": [["3", "4"], ["5", "6"]], "c": ["7", "8"]})
}

async fn webhook(setup: &Setup, context: &str, signals: &ProofSignals) -> (u16, Value) {
    let body = json!({
        "attestationId": signals.attestation_id,
        "proof": proof(),
        "publicSignals": signals.strings(),
        "userContextData": context,
    });
    let req = ApiRequest::new(
        "POST",
        "/api/self/verify",
        vec![],
        body.to_string().into_bytes(),
    );
    let r = verify(&setup.rt, &req, now())
        .await
        .unwrap_or_else(ApiError::into_response);
    (r.status, r.body_json())
}

fn status_of(session_id: &str) -> Value {
    session_status(session_id, now()).unwrap().body_json()
}

fn failed(reason: &str) -> Value {
    json!({"status": "failed", "reason": reason})
}

async fn eth_calls(chain: &FakeChain) -> Vec<Value> {
    chain
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "eth_call")
        .collect()
}

fn selector_of(call: &Value) -> String {
    call["params"][0]["data"].as_str().unwrap()[..10].to_string()
}

#[tokio::test]
async fn a_valid_proof_is_verified_on_celo_and_recorded_as_the_mock_path_records_it() {
    let setup = setup(None).await;
    fake_celo(&setup.chain, true, true).await;
    let id = open_session(1);
    let context = context_for(USER, &id);
    let signals = passport(&context);
    assert_eq!(
        webhook(&setup, &context, &signals).await,
        (200, json!({"status": "success", "result": true}))
    );
    assert_eq!(
        status_of(&id),
        json!({"status": "verified", "age": 31, "nationality": "FRA", "verifiedAt": NOW_SECS})
    );
    assert_eq!(
        identity(USER, now()).unwrap().body_json(),
        json!({
            "address": USER, "dateOfBirth": "1995-01-15", "ageAtVerification": 31,
            "currentAge": 31, "nationality": "FRA", "verifiedAt": NOW_SECS,
            "hasShortNameCredential": true
        })
    );
    // §7.5 on the real nullifier signal.
    let raw = format!("0x{:064x}", NULLIFIER);
    let want = format!("0x{}", sha256_hex(&format!("heaven-names:v1:heaven:{raw}")));
    let stored = state::with(|s| s.identities().get(&USER.to_string()))
        .unwrap()
        .0;
    assert_eq!(stored.nullifier_hash, Some(want));
    let session = state::with(|s| s.self_sessions().get(&id)).unwrap().0;
    assert_eq!(session.attestation_id, Some(1));

    // The calls, in Self's order, to the contracts the hub named, at one pinned block.
    let calls = eth_calls(&setup.chain).await;
    let order: Vec<(String, String)> = calls
        .iter()
        .map(|c| {
            (
                selector_of(c),
                c["params"][0]["to"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    let sel = |s: [u8; 4]| format!("0x{}", hex::encode(s));
    assert_eq!(
        order,
        vec![
            (sel(registryCall::SELECTOR), HUB.to_string()),
            (
                sel(checkIdentityCommitmentRootCall::SELECTOR),
                REGISTRY.to_string()
            ),
            (sel(discloseVerifierCall::SELECTOR), HUB.to_string()),
            (sel(verifyProofCall::SELECTOR), VERIFIER.to_string()),
        ]
    );
    let blocks: Vec<&Value> = calls.iter().map(|c| &c["params"][1]).collect();
    assert!(blocks.iter().all(|b| *b == blocks[0] && b.is_string()));
    // The hub is asked about attestation id 1 as a bytes32; the registry about the root.
    let data =
        |i: usize| hex::decode(&calls[i]["params"][0]["data"].as_str().unwrap()[2..]).unwrap();
    let asked = registryCall::abi_decode(&data(0)).unwrap();
    assert_eq!(U256::from_be_bytes(asked.attestationId.0), U256::from(1u8));
    let root = checkIdentityCommitmentRootCall::abi_decode(&data(1)).unwrap();
    assert_eq!(root.root, U256::from(ROOT));
    // `b`'s rows are swapped as Self swaps them; the 21 signals go as sent.
    let call = verifyProofCall::abi_decode(&data(3)).unwrap();
    let n = |v: u8| U256::from(v);
    assert_eq!(call.a, [n(1), n(2)]);
    assert_eq!(call.b, [[n(4), n(3)], [n(6), n(5)]]);
    assert_eq!(call.c, [n(7), n(8)]);
    let sent: Vec<String> = call.pubSignals.iter().map(U256::to_string).collect();
    let strings: Vec<String> = signals.strings().into_iter().map(Option::unwrap).collect();
    assert_eq!(sent, strings);
    assert_eq!(
        crate::state::audit::check_against_log(),
        Ok(state::with(|s| s.event_count()))
    );
}

#[tokio::test]
async fn the_chain_refusing_fails_the_session() {
    for (root_known, valid, reason, calls) in [
        (false, true, "Onchain root does not exist", 2),
        (true, false, "Invalid proof", 4),
    ] {
        let setup = setup(None).await;
        fake_celo(&setup.chain, root_known, valid).await;
        let id = open_session(1);
        let context = context_for(USER, &id);
        let (status, body) = webhook(&setup, &context, &passport(&context)).await;
        assert_eq!(
            (status, body),
            (
                200,
                json!({"status": "error", "result": false, "reason": reason})
            )
        );
        assert_eq!(status_of(&id), failed(reason));
        assert_eq!(eth_calls(&setup.chain).await.len(), calls);
        assert!(state::with(|s| s.identities().get(&USER.to_string())).is_none());
    }
}

async fn post_raw(setup: &Setup, body: &Value) -> Value {
    let req = ApiRequest::new(
        "POST",
        "/api/self/verify",
        vec![],
        body.to_string().into_bytes(),
    );
    verify(&setup.rt, &req, now()).await.unwrap().body_json()
}

#[tokio::test]
async fn local_refusals_fail_the_session_before_any_outcall() {
    type Change = fn(&mut ProofSignals);
    let cases: Vec<(&str, Change)> = vec![
        ("Scope does not match the proof", |p| {
            p.scope = U256::from(1u8)
        }),
        ("User context hash does not match the proof", |p| {
            p.user_identifier = U256::from(7u8)
        }),
        ("Circuit date is too old", |p| p.current_date = "260218"),
        ("Circuit date is in the future", |p| {
            p.current_date = "260222"
        }),
        ("Nationality not allowed", |p| p.nationality = Some("PRK")),
        ("Forbidden countries list of the proof lacks PRK", |p| {
            p.forbidden = vec!["IRN"]
        }),
        ("Minimum age of the proof (00) is not 18", |p| {
            p.older_than = "00"
        }),
        ("OFAC check failed", |p| p.ofac = [1, 0, 1]),
        ("Nationality not disclosed", |p| p.nationality = None),
        ("Date of birth not disclosed", |p| p.date_of_birth = None),
        ("Must be 18 or older", |p| p.date_of_birth = Some("100101")),
    ];
    for (reason, change) in cases {
        let setup = setup(None).await;
        fake_celo(&setup.chain, true, true).await;
        let id = open_session(1);
        let context = context_for(USER, &id);
        let mut signals = passport(&context);
        change(&mut signals);
        let (status, body) = webhook(&setup, &context, &signals).await;
        assert_eq!((status, &body["reason"]), (200, &json!(reason)), "{reason}");
        assert_eq!(status_of(&id), failed(reason), "{reason}");
        assert!(eth_calls(&setup.chain).await.is_empty(), "{reason}");
    }
}

#[tokio::test]
async fn proofs_for_another_user_or_shape_are_refused_locally() {
    let setup = setup(None).await;
    fake_celo(&setup.chain, true, true).await;
    // Bound to another address's context: the hash matches the proof, the user id does not
    // match the session.
    let id = open_session(1);
    let context = context_for("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", &id);
    let (_, body) = webhook(&setup, &context, &passport(&context)).await;
    let reason = "User identifier does not match the session";
    assert_eq!(body["reason"], json!(reason));
    assert_eq!(status_of(&id), failed(reason));

    // An ID card proof whose attestation-id signal says passport.
    let id = open_session(2);
    let context = context_for(USER, &id);
    let mut card = passport(&context);
    card.attestation_id = 2;
    let mut strings = card.strings();
    strings[9] = Some("1".into());
    let body = json!({
        "attestationId": 2, "proof": proof(),
        "publicSignals": strings, "userContextData": context,
    });
    let reason = "Attestation ID does not match the proof";
    assert_eq!(post_raw(&setup, &body).await["reason"], json!(reason));
    assert_eq!(status_of(&id), failed(reason));

    // An attestation id the configuration does not allow; signals that are not 21 numbers;
    // a proof that is not three pairs.
    let refusals = [
        (
            json!(3),
            json!([]),
            proof(),
            "Attestation ID is not allowed: 3",
        ),
        (
            json!(1),
            json!(["1"]),
            proof(),
            "Invalid publicSignals: expected 21 numbers",
        ),
        (
            json!(1),
            json!(passport(&context_for(USER, "x")).strings()),
            json!({"a": ["1"]}),
            "Invalid proof",
        ),
    ];
    for (seed, (attestation, signals, proof, reason)) in (3..).zip(refusals) {
        let id = open_session(seed);
        let body = json!({
            "attestationId": attestation, "proof": proof,
            "publicSignals": signals, "userContextData": context_for(USER, &id),
        });
        assert_eq!(post_raw(&setup, &body).await["reason"], json!(reason));
        assert_eq!(status_of(&id), failed(reason));
    }
    assert!(eth_calls(&setup.chain).await.is_empty());
}

#[tokio::test]
async fn an_unreachable_node_records_nothing_and_the_session_stays_pending() {
    // Nothing listens on port 9 of the loopback.
    let down = setup(Some("http://127.0.0.1:9")).await;
    let id = open_session(1);
    let context = context_for(USER, &id);
    let (status, body) = webhook(&down, &context, &passport(&context)).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!(false));
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("Verification unavailable, try again: Celo RPC failed (eth_blockNumber"),
        "{reason}"
    );
    assert_eq!(status_of(&id), json!({"status": "pending"}));
    assert!(state::with(|s| s.identities().get(&USER.to_string())).is_none());
    // Only the session's creation and the configuration were written.
    let events = state::with(|s| s.event_count());

    // A hub that names no registry is no proof's fault either.
    let setup2 = setup(None).await;
    setup2
        .chain
        .on_call(
            registryCall::SELECTOR,
            registryCall::abi_encode_returns(&Address::ZERO),
        )
        .await;
    let id = open_session(1);
    let context = context_for(USER, &id);
    let (_, body) = webhook(&setup2, &context, &passport(&context)).await;
    assert_eq!(
        body["reason"],
        json!(
            "Verification unavailable, try again: the hub names no registry for this attestation id"
        )
    );
    assert_eq!(status_of(&id), json!({"status": "pending"}));
    // Pointed at a node that answers, the same webhook verifies the still-pending session.
    let healthy = FakeChain::start(1_000).await;
    fake_celo(&healthy, true, true).await;
    let config = SelfConfig {
        mock: false,
        endpoint: Some("https://x.icp0.io/api/self/verify".into()),
        verifier: Some(verifier_config(healthy.url())),
        ..SelfConfig::default()
    };
    admin::set_self_config(config, now()).unwrap();
    let (_, body) = webhook(&setup2, &context, &passport(&context)).await;
    assert_eq!(body["result"], json!(true), "{body}");
    assert_eq!(events, 2);
}

#[tokio::test]
async fn set_self_config_refuses_a_bad_verifier() {
    let _setup = setup(None).await;
    let mut config = verifier_config("https://forno.celo.org".into());
    config.allowed_attestation_ids = vec![4];
    let refused = admin::set_self_config(
        SelfConfig {
            endpoint: Some("https://x.icp0.io/api/self/verify".into()),
            verifier: Some(config.clone()),
            ..SelfConfig::default()
        },
        now(),
    );
    assert!(
        matches!(&refused, Err(crate::endpoints::AdminError::InvalidConfig { field, .. }) if field == "verifier.allowed_attestation_ids"),
        "{refused:?}"
    );
    // The scope signal hashes the endpoint: a verifier needs a fixed one.
    config.allowed_attestation_ids = vec![1];
    let refused = admin::set_self_config(
        SelfConfig {
            verifier: Some(config),
            ..SelfConfig::default()
        },
        now(),
    );
    assert!(
        matches!(&refused, Err(crate::endpoints::AdminError::InvalidConfig { field, .. }) if field == "endpoint"),
        "{refused:?}"
    );
}
