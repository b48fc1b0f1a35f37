use canister_runtime::native::NativeRuntime;
use heaven_eth::abi::{SolCall, buyWithPermitCall};
use serde_json::{Value, json};

use heaven_eth::eip712::NamePermit;
use heaven_eth::{B256, U256};
use sha2::{Digest, Sha256};

use super::*;
use crate::api::{ApiRequest, ApiResult, Rng, rng_from_seed};
use crate::chain;
use crate::lifecycle::{self, InitArg};
use crate::names::pow;
use crate::primitives::Bytes32;
use crate::signer::{self, Role};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, IdentityRecord, NamesPolicyConfig};
use crate::testing::FakeChain;
use crate::time::Now;

mod wallet_limit;

/// Hardhat account #1: [`WALLET`].
const WALLET_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// A solved permit body for `label`, signed by the wallet (so it counts toward the wallet's
/// own limit).
fn signed_permit_body(label: &str) -> Value {
    let mut body = solved_permit_body(label);
    let message = permit::proof_message(WALLET, body["challengeId"].as_str().unwrap());
    let key = crate::testing::key_from_hex(WALLET_KEY);
    body["walletSignature"] = json!(crate::testing::personal_sign(&key, &message));
    body
}

fn label_hash(label: &str) -> String {
    Bytes32::label_hash(label).hex()
}

const STORE: &str = "0x46Bcae2625157b562c974bb5a912dfcb811a234A";
const WALLET: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const HEAVEN_NODE: &str = "0x8edf6f47e89d05c0e21320161fda1fd1fabd0081a66c959691ea17102e39fb27";
const NULLIFIER: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
const NOW: u64 = 1_771_600_000;

struct Setup {
    rt: NativeRuntime,
    chain: FakeChain,
    _dir: tempfile::TempDir,
}

async fn setup(configure: impl FnOnce(&mut NamesPolicyConfig)) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    chain::register_native_transform(&rt);
    let chain = FakeChain::start(1_000).await;
    let arg = InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    };
    lifecycle::init(arg, Now::from_secs(1));
    change_policy(|c| {
        c.rpc_url = chain.url();
        c.store = Some(STORE.into());
        configure(c);
    });
    Setup {
        rt,
        chain,
        _dir: dir,
    }
}

/// Changes the policy settings as a controller would (without the controller's range checks,
/// so tests can store settings requests must refuse).
fn change_policy(change: impl FnOnce(&mut NamesPolicyConfig)) {
    let mut config = state::with_config(|c| c.names_policy.clone());
    change(&mut config);
    state::mutate(|s| {
        process_event(
            s,
            Now::from_secs(1),
            EventType::NamesPolicyConfigured { config },
        )
    });
}

fn post(path: &str, body: Value) -> ApiRequest {
    ApiRequest::new("POST", path, vec![], serde_json::to_vec(&body).unwrap())
}

fn rng() -> Rng {
    rng_from_seed([7; 32])
}

fn now() -> Now {
    Now::from_secs(NOW)
}

fn issue_challenge(label: &str) -> Value {
    challenge(
        &post(
            "/api/names/challenge",
            json!({ "label": label, "tld": "heaven", "wallet": WALLET }),
        ),
        now(),
        &mut rng(),
    )
    .unwrap()
    .body_json()
}

async fn permit_for(s: &Setup, body: Value, ip: Option<&str>) -> ApiResult {
    permit(
        &s.rt,
        &post("/api/names/permit", body),
        now(),
        ip,
        &mut rng(),
    )
    .await
}

fn solved_permit_body(label: &str) -> Value {
    let c = issue_challenge(label);
    let nonce = pow::solve(
        c["challenge"].as_str().unwrap(),
        c["difficulty"].as_u64().unwrap() as u32,
    );
    json!({
        "label": label, "tld": "heaven", "wallet": WALLET,
        "challengeId": c["challengeId"], "powNonce": nonce,
    })
}

fn err(r: ApiResult) -> (u16, String) {
    let e = r.unwrap_err();
    (e.status, e.message().to_string())
}

#[tokio::test]
async fn config_problems_are_500s_with_the_original_messages() {
    let _s = setup(|c| c.store = None).await;
    let r = challenge(&post("/api/names/challenge", json!({})), now(), &mut rng());
    assert_eq!(
        err(r),
        (500, "Missing or invalid TEMPO_PREMIUM_NAME_STORE_V2".into())
    );
    change_policy(|c| {
        c.store = Some(STORE.into());
        c.primary_node = "0x12".into();
    });
    let r = challenge(&post("/api/names/challenge", json!({})), now(), &mut rng());
    assert_eq!(
        err(r),
        (
            500,
            "Invalid NAMES_PRIMARY_NODE (or TEMPO_HEAVEN_NODE fallback)".into()
        )
    );
}

#[tokio::test]
async fn challenge_checks_in_order_and_stores_the_challenge() {
    let _s = setup(|_| {}).await;
    let call = |body: Value| challenge(&post("/api/names/challenge", body), now(), &mut rng());
    assert_eq!(
        err(call(
            json!({ "label": "alice-long", "tld": "heaven", "wallet": "0x12" })
        )),
        (400, "Invalid wallet address".into())
    );
    assert_eq!(
        err(call(
            json!({ "label": "-bad", "tld": "heaven", "wallet": WALLET })
        )),
        (400, "Invalid label format".into())
    );
    assert_eq!(
        err(call(
            json!({ "label": "alice-long", "tld": "eth", "wallet": WALLET })
        )),
        (400, "Unsupported TLD".into())
    );
    assert_eq!(
        err(call(
            json!({ "label": "alice", "tld": "heaven", "wallet": WALLET })
        )),
        (
            400,
            "PoW challenge is only required for labels with length >= 6".into()
        )
    );
    let r = challenge(
        &ApiRequest::new("POST", "/api/names/challenge", vec![], b"{nope".to_vec()),
        now(),
        &mut rng(),
    );
    assert_eq!(err(r), (400, "Invalid JSON body".into()));

    let body = call(json!({ "label": " Alice-Long ", "tld": "HEAVEN", "wallet": WALLET.to_uppercase().replace("0X", "0x") }))
        .unwrap()
        .body_json();
    assert_eq!(body["challenge"].as_str().unwrap().len(), 64);
    assert_eq!(body["challengeId"].as_str().unwrap().len(), 32);
    assert_eq!(body["difficulty"], 2); // 10 chars: max(2, 4 - 2)
    assert_eq!(body["expiresAt"], NOW + 300);
    assert_eq!(body["algorithm"], "keccak256");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 6);
    let stored = state::with(|s| {
        s.pow_challenges()
            .get(&body["challengeId"].as_str().unwrap().to_string())
    })
    .unwrap()
    .0;
    assert_eq!(stored.wallet, WALLET);
    assert_eq!(stored.parent_node, HEAVEN_NODE);
    assert_eq!(stored.label_hash, label_hash("alice-long"));
}

#[tokio::test]
async fn long_permit_is_signed_by_the_reported_signer_and_burns_the_challenge() {
    let s = setup(|_| {}).await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 2_000_000).await;
    let body = solved_permit_body("alice-long");
    let r = permit_for(&s, body.clone(), Some("203.0.113.9"))
        .await
        .unwrap()
        .body_json();

    assert_eq!(r["policy"], "LONG_POW");
    assert_eq!(r["nullifierSource"], Value::Null);
    assert_eq!(r["quote"]["price"], "2000000");
    assert_eq!(r["quote"]["durationSeconds"], "31536000");
    assert_eq!(r["quote"]["listingEnabled"], false);
    assert_eq!(r["quote"]["paymentToken"], PAYMENT_TOKEN);
    assert_eq!(r["tx"]["to"], STORE);
    let p = &r["permit"];
    assert_eq!(p["buyer"], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assert_eq!(p["recipient"], p["buyer"]);
    assert_eq!(p["parentNode"], HEAVEN_NODE);
    assert_eq!(
        p["labelHash"],
        "0x85e3d20239d069bc58094dfa6f6a438579389b58c8c325bf01129da764d7b717"
    );
    assert_eq!(p["maxPrice"], "2000000");
    assert_eq!(p["policyType"], 1);
    assert_eq!(p["nullifierHash"], format!("0x{}", "0".repeat(64)));
    assert_eq!(p["deadline"], (NOW + 180).to_string());

    // The signature recovers to the canister's policy signer over the permit as returned.
    let permit = NamePermit {
        buyer: heaven_eth::address::parse(p["buyer"].as_str().unwrap()).unwrap(),
        recipient: heaven_eth::address::parse(p["recipient"].as_str().unwrap()).unwrap(),
        parentNode: heaven_eth::hex32::parse_b256(HEAVEN_NODE).unwrap(),
        labelHash: heaven_eth::keccak256(b"alice-long"),
        duration: U256::from(31_536_000u64),
        maxPrice: U256::from(2_000_000u64),
        policyType: 1,
        nullifierHash: B256::ZERO,
        nonce: U256::from_str_radix(p["nonce"].as_str().unwrap(), 10).unwrap(),
        deadline: U256::from(NOW + 180),
    };
    let store = heaven_eth::address::parse(STORE).unwrap();
    let digest = heaven_eth::eip712::name_permit_digest(&permit, 42431, store);
    let sig = hex::decode(&r["signature"].as_str().unwrap()[2..]).unwrap();
    let recovered = heaven_eth::signature::recover_prehash(&digest, &sig).unwrap();
    let signer = signer::address(&s.rt, Role::PolicySigner).await.unwrap();
    assert_eq!(recovered, signer);

    // tx.data is buyWithPermit(label, permit, signature).
    let data = hex::decode(&r["tx"]["data"].as_str().unwrap()[2..]).unwrap();
    let call = buyWithPermitCall::abi_decode(&data).unwrap();
    assert_eq!(call.label, "alice-long");
    assert_eq!(call.permit, permit);
    assert_eq!(call.signature.to_vec(), sig);

    // Reads were pinned to the floored head, never "latest".
    let calls: Vec<Value> = s
        .chain
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "eth_call")
        .collect();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| c["params"][1] == "0x3e6"), "{calls:?}");

    // Single use.
    assert_eq!(
        err(permit_for(&s, body, None).await),
        (409, "PoW challenge already used".into())
    );
    assert_eq!(
        state::with(|st| count_since(st, 'i', &hex::encode(Sha256::digest(b"203.0.113.9")), 0)),
        1
    );
}

#[tokio::test]
async fn permit_validation_errors_in_the_original_order() {
    let s = setup(|_| {}).await;
    let base = json!({ "label": "alice-long", "tld": "heaven", "wallet": WALLET });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, expected) in [
        (with("label", json!("a_b")), "Invalid label format"),
        (with("wallet", json!("nope")), "Invalid wallet address"),
        (with("recipient", json!("0x1")), "Invalid recipient address"),
        (with("tld", json!("")), "Unsupported TLD"),
        (
            with("durationSeconds", json!(100)),
            "durationSeconds must be >= 31536000",
        ),
        (
            with("durationSeconds", json!("31536000")),
            "durationSeconds must be >= 31536000",
        ),
        (
            with("maxPrice", json!(5)),
            "maxPrice must be a decimal string",
        ),
        (
            base.clone(),
            "challengeId and powNonce are required for labels with length >= 6",
        ),
    ] {
        if expected.starts_with("challengeId") {
            s.chain.store_quote(0, 0, false).await;
            s.chain.registry(false, 0, 1).await;
        }
        assert_eq!(
            err(permit_for(&s, body, None).await),
            (400, expected.to_string())
        );
    }
}

#[tokio::test]
async fn pow_failures_map_to_their_statuses() {
    let s = setup(|_| {}).await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 1).await;
    let good = solved_permit_body("alice-long");
    let mut missing = good.clone();
    missing["challengeId"] = json!("00");
    assert_eq!(
        err(permit_for(&s, missing, None).await),
        (404, "PoW challenge not found".into())
    );
    let mut other_label = good.clone();
    other_label["label"] = json!("bobby-long");
    assert_eq!(
        err(permit_for(&s, other_label, None).await),
        (400, "PoW challenge does not match this request".into())
    );
    let mut wrong = good.clone();
    let challenge = state::with(|st| {
        st.pow_challenges()
            .get(&good["challengeId"].as_str().unwrap().to_string())
    })
    .unwrap()
    .0;
    let bad_nonce = (0u64..)
        .map(|n| n.to_string())
        .find(|n| !pow::satisfies(&challenge.challenge, n, challenge.difficulty))
        .unwrap();
    wrong["powNonce"] = json!(bad_nonce);
    assert_eq!(
        err(permit_for(&s, wrong, None).await),
        (403, "Invalid PoW nonce for challenge".into())
    );
    // Expired: the clock moves past the TTL.
    let later = Now::from_secs(NOW + 301);
    let r = permit(
        &s.rt,
        &post("/api/names/permit", good),
        later,
        None,
        &mut rng(),
    )
    .await;
    assert_eq!(err(r), (410, "PoW challenge expired".into()));
}

#[tokio::test]
async fn max_price_below_quote_keeps_the_challenge_for_a_retry() {
    let s = setup(|_| {}).await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 2_000_000).await;
    let mut body = solved_permit_body("alice-long");
    body["maxPrice"] = json!("1999999");
    assert_eq!(
        err(permit_for(&s, body.clone(), None).await),
        (400, "maxPrice is below required quote".into())
    );
    body["maxPrice"] = json!(" 2500000 ");
    let r = permit_for(&s, body, None).await.unwrap().body_json();
    assert_eq!(r["permit"]["maxPrice"], "2500000");
}

#[tokio::test]
async fn long_names_are_rate_limited_per_wallet_ip_and_device() {
    let s = setup(|c| {
        c.wallet_limit_10m = 2;
        c.ip_limit_10m = 1;
        c.device_limit_10m = 1;
    })
    .await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 1).await;
    let device = |body: Value, id: &str| {
        let mut r = post("/api/names/permit", body);
        r.headers.push(("X-Device-Id".into(), id.into()));
        r
    };
    let run = |req: ApiRequest, ip: Option<&'static str>| {
        let rt = s.rt.clone();
        async move { permit(&rt, &req, now(), ip, &mut rng()).await }
    };
    // Signed by the wallet: the wallet limit is the wallet's own (ADR 0010).
    run(
        device(signed_permit_body("first-long"), "dev-1"),
        Some("198.51.100.1"),
    )
    .await
    .unwrap();
    assert_eq!(
        err(run(
            device(signed_permit_body("second-long"), "dev-2"),
            Some("198.51.100.1")
        )
        .await),
        (429, "Rate limited: IP limit exceeded".into())
    );
    assert_eq!(
        err(run(
            device(signed_permit_body("second-long"), " dev-1 "),
            Some("198.51.100.2")
        )
        .await),
        (429, "Rate limited: device limit exceeded".into())
    );
    run(
        device(signed_permit_body("second-long"), "dev-2"),
        Some("198.51.100.2"),
    )
    .await
    .unwrap();
    assert_eq!(
        err(run(
            device(signed_permit_body("third-long"), "dev-3"),
            Some("198.51.100.3")
        )
        .await),
        (429, "Rate limited: wallet limit exceeded".into())
    );
    // The window slides: ten minutes later the wallet may ask again.
    let later = Now::from_secs(NOW + 601);
    let c = challenge(
        &post(
            "/api/names/challenge",
            json!({ "label": "third-long", "tld": "heaven", "wallet": WALLET }),
        ),
        later,
        &mut rng(),
    )
    .unwrap()
    .body_json();
    let body = json!({
        "label": "third-long", "tld": "heaven", "wallet": WALLET,
        "challengeId": c["challengeId"],
        "powNonce": pow::solve(c["challenge"].as_str().unwrap(), c["difficulty"].as_u64().unwrap() as u32),
    });
    permit(
        &s.rt,
        &post("/api/names/permit", body),
        later,
        None,
        &mut rng(),
    )
    .await
    .unwrap();
    // Two long permits with ip + device (3 keys each) and one without.
    assert_eq!(crate::names::sweep(Now::from_secs(NOW + 601 + 3601)).1, 7);
}

#[tokio::test]
async fn short_names_need_a_self_nullifier_a_price_and_room_under_the_cap() {
    let s = setup(|_| {}).await;
    let body =
        json!({ "label": "alice", "tld": "heaven", "wallet": WALLET, "maxPrice": "10000000" });
    assert_eq!(err(permit_for(&s, body.clone(), None).await).0, 403);
    upsert_identity(
        IdentityRecord {
            address: WALLET.into(),
            nullifier_hash: None,
            verified_at: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    let (status, message) = err(permit_for(&s, body.clone(), None).await);
    assert_eq!(status, 403);
    assert!(message.starts_with("This wallet has an older verification record"));
    upsert_identity(
        IdentityRecord {
            address: WALLET.into(),
            nullifier_hash: Some(NULLIFIER.into()),
            verified_at: 1,
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 0).await;
    assert_eq!(
        err(permit_for(&s, body.clone(), None).await),
        (
            409,
            "Short names must be paid/listed; resolved quote is zero".into()
        )
    );

    let s = setup(|_| {}).await;
    s.chain.store_quote(5_000_000, 63_072_000, true).await;
    s.chain.short_purchases(3).await;
    assert_eq!(
        err(permit_for(&s, body.clone(), None).await),
        (409, "Short-name cap reached (3 lifetime)".into())
    );

    let s = setup(|_| {}).await;
    s.chain.store_quote(5_000_000, 63_072_000, true).await;
    s.chain.short_purchases(2).await;
    let r = permit_for(&s, body, None).await.unwrap().body_json();
    assert_eq!(r["policy"], "SHORT_SELF");
    assert_eq!(r["nullifierSource"], "self");
    assert_eq!(r["permit"]["nullifierHash"], NULLIFIER);
    assert_eq!(r["permit"]["policyType"], 0);
    assert_eq!(r["permit"]["duration"], "63072000");
    assert_eq!(r["quote"]["listingEnabled"], true);
    // Short permits count toward the wallet window (as in the original), as asked for by this
    // client: an unsigned request never fills the wallet's own window (ADR 0010).
    let anonymous = format!("{WALLET}|anonymous");
    assert_eq!(state::with(|st| count_since(st, 'u', &anonymous, 0)), 1);
    assert_eq!(state::with(|st| count_since(st, 'w', WALLET, 0)), 0);
}

#[tokio::test]
async fn reserved_or_premium_labels_need_a_listing_and_chain_failures_are_500() {
    let s = setup(|_| {}).await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(true, 0, 1).await;
    let body = solved_permit_body("reserved-long");
    assert_eq!(
        err(permit_for(&s, body, None).await),
        (409, "Name requires an explicit store listing".into())
    );

    let s = setup(|_| {}).await;
    s.chain
        .on_call_revert(heaven_eth::abi::quoteCall::SELECTOR)
        .await;
    let body = solved_permit_body("broken-long");
    assert_eq!(
        err(permit_for(&s, body.clone(), None).await),
        (500, "Failed to resolve quote".into())
    );
    // Nothing was consumed by the failed attempt.
    let id = body["challengeId"].as_str().unwrap().to_string();
    assert!(
        state::with(|st| st.pow_challenges().get(&id))
            .unwrap()
            .0
            .consumed_at
            .is_none()
    );
}

#[tokio::test]
async fn a_configured_signer_address_must_match_the_threshold_key() {
    let s =
        setup(|c| c.expected_signer = Some("0xc77Ad4de7d179FFFBa417cA24c055d86Af69F4BB".into()))
            .await;
    s.chain.store_quote(0, 0, false).await;
    s.chain.registry(false, 0, 1).await;
    assert_eq!(
        err(permit_for(&s, solved_permit_body("alice-long"), None).await),
        (
            500,
            "Policy signer private key does not match TEMPO_POLICY_SIGNER_ADDRESS".into()
        )
    );
    let signer = signer::address(&s.rt, Role::PolicySigner).await.unwrap();
    change_policy(|c| c.expected_signer = Some(heaven_eth::address::to_checksum(&signer)));
    permit_for(&s, solved_permit_body("bobby-long"), None)
        .await
        .unwrap();
    let info = signer_info_cached().unwrap().body_json();
    assert_eq!(info["address"], heaven_eth::address::to_checksum(&signer));
    assert_eq!(info["chainId"], 42431);
}

#[test]
fn controller_config_is_range_checked() {
    let mut c = NamesPolicyConfig::default();
    assert!(validate_config(&c).is_ok());
    c.pow_difficulty = 13;
    assert_eq!(validate_config(&c).unwrap_err().field, "pow_difficulty");
    c.pow_difficulty = 4;
    c.store = Some("nope".into());
    assert!(validate_config(&c).is_err());
}
