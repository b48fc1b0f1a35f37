//! Route tests against a fake Base node. Each `#[tokio::test]` runs on its own thread, so it
//! starts from a fresh thread-local state.

use std::sync::Arc;

use canister_runtime::native::NativeRuntime;
use heaven_eth::abi::{SolCall, hex0x};
use heaven_eth::eip712::{SetProfile, set_profile_digest};
use heaven_eth::tx::Eip1559Tx;
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::profile::JsInt;
use super::relay::{self, MAX_PRIORITY_FEE_WEI, RECEIPT_POLLS};
use super::*;
use crate::chain;
use crate::signer::{self, Role};
use crate::testing::FakeChain;

const NOW: u64 = 1_771_600_000;
const CHAIN_ID: u64 = 84532;
const DATING_PROFILE: &str = "0x2D950745907874311834510d6472bdfebe04A114";
const REGISTRAR: &str = "0x12b7e3872198fD27fC1106fd85d438E9f1789594";
const HEAVEN_NODE: &str = "0x8edf6f47e89d05c0e21320161fda1fd1fabd0081a66c959691ea17102e39fb27";
/// The user's `SetProfile` nonce the fake node reports.
const USER_NONCE: u64 = 7;
/// The relayer's pending transaction count the fake node reports.
const RELAYER_COUNT: u64 = 42;
/// 1 gwei; the gas-price transform rounds it up to 2^30.
const GAS_PRICE: &str = "0x3b9aca00";
const ROUNDED_GAS_PRICE: u128 = 1 << 30;
const TX_HASH: &str = "0xabababababababababababababababababababababababababababababababab";
const MINED_BLOCK: u64 = 1_234;

struct Setup {
    rt: NativeRuntime,
    chain: FakeChain,
    _dir: tempfile::TempDir,
}

/// A runtime whose relay points at a fresh fake node (head 1000), relay enabled.
async fn setup() -> Setup {
    let chain = FakeChain::start(1_000).await;
    let (rt, dir) = runtime(&chain.url(), true);
    Setup {
        rt,
        chain,
        _dir: dir,
    }
}

fn runtime(rpc_url: &str, enabled: bool) -> (NativeRuntime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    rt.register_transform(
        chain::RPC_TRANSFORM,
        Arc::new(|r, ctx: &[u8]| chain::transform(r, ctx)),
    );
    state::with_mut(|s| {
        let mut c = s.config().clone();
        c.ecdsa_key_name = "dfx_test_key".into();
        c.wallet.rpc_url = rpc_url.into();
        c.wallet.enabled = enabled;
        s.set_config(c);
    });
    (rt, dir)
}

impl Setup {
    /// `nonces(user)` answers [`USER_NONCE`].
    async fn user_nonce(&self) {
        self.chain
            .on_call(
                noncesCall::SELECTOR,
                noncesCall::abi_encode_returns(&U256::from(USER_NONCE)),
            )
            .await;
    }

    /// Gas price, relayer count and an accepting `eth_sendRawTransaction`.
    async fn accepts_transactions(&self) {
        self.chain.on_method("eth_gasPrice", json!(GAS_PRICE)).await;
        self.chain
            .on_method(
                "eth_getTransactionCount",
                json!(format!("{RELAYER_COUNT:#x}")),
            )
            .await;
        self.chain
            .on_method("eth_sendRawTransaction", json!(TX_HASH))
            .await;
    }

    async fn receipt(&self, status: u8) {
        self.chain
            .on_method("eth_getTransactionReceipt", receipt_json(status))
            .await;
    }

    async fn count(&self, rpc_method: &str) -> usize {
        self.chain
            .requests()
            .await
            .iter()
            .filter(|r| r["method"] == rpc_method)
            .count()
    }

    /// The raw transactions the node was sent, in order.
    async fn raw_transactions(&self) -> Vec<Vec<u8>> {
        self.chain
            .requests()
            .await
            .iter()
            .filter(|r| r["method"] == "eth_sendRawTransaction")
            .map(|r| hex::decode(&r["params"][0].as_str().unwrap()[2..]).unwrap())
            .collect()
    }
}

fn receipt_json(status: u8) -> Value {
    json!({
        "transactionHash": TX_HASH,
        "status": format!("{status:#x}"),
        "blockNumber": format!("{MINED_BLOCK:#x}"),
        "gasUsed": "0x5208",
    })
}

fn now() -> Now {
    Now::from_secs(NOW)
}

fn post(path: &str, body: &Value) -> ApiRequest {
    ApiRequest::new("POST", path, vec![], serde_json::to_vec(body).unwrap())
}

fn err(r: ApiResult) -> (u16, String) {
    let e = r.unwrap_err();
    (e.status, e.message())
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).unwrap()
}

fn address_of(key: &SigningKey) -> Address {
    address::from_public_key(&key.verifying_key().to_sec1_bytes()).unwrap()
}

fn dating_profile() -> Address {
    address::parse(DATING_PROFILE).unwrap()
}

/// The profile every test user sets (values in each type's awkward corners).
fn profile_of(user: Address, nonce: u64, deadline: u64) -> SetProfile {
    SetProfile {
        user,
        gender: 2,
        interestedMask: 0xffff,
        locationMode: 1,
        locationLat: -33_868_800,
        locationLng: 151_209_300,
        heightCm: 170,
        birthYear: 1990,
        nationalityCode: 36,
        ethnicityMask: 4,
        relationshipMode: 3,
        privateCidHash: B256::ZERO,
        nonce: U256::from(nonce),
        deadline: U256::from(deadline),
    }
}

/// `r || s || v` (27/28) over `digest`, as a wallet's `eth_signTypedData_v4` returns it.
fn sign_digest(key: &SigningKey, digest: B256) -> Vec<u8> {
    let (sig, recovery) = key.sign_prehash_recoverable(digest.as_slice()).unwrap();
    let mut bytes = sig.to_bytes().to_vec();
    bytes.push(27 + recovery.to_byte());
    bytes
}

/// A `set-profile` body signed by `key` over [`profile_of`] with the on-chain nonce.
fn profile_body(key: &SigningKey) -> Value {
    let user = address_of(key);
    let deadline = NOW + 600;
    let p = profile_of(user, USER_NONCE, deadline);
    let sig = sign_digest(key, set_profile_digest(&p, CHAIN_ID, dating_profile()));
    json!({
        "userAddress": address::to_checksum(&user),
        "gender": p.gender, "interestedMask": p.interestedMask, "locationMode": p.locationMode,
        "locationLat": p.locationLat, "locationLng": p.locationLng, "heightCm": p.heightCm,
        "birthYear": p.birthYear, "nationalityCode": p.nationalityCode,
        "ethnicityMask": p.ethnicityMask, "relationshipMode": p.relationshipMode,
        "deadline": deadline.to_string(),
        "signature": hex0x(&sig),
    })
}

async fn set_profile_with(s: &Setup, body: &Value) -> ApiResult {
    set_profile(&s.rt, &post("/api/wallet/set-profile", body), now()).await
}

async fn register_with(s: &Setup, body: &Value) -> ApiResult {
    register_name(&s.rt, &post("/api/wallet/register-name", body), now()).await
}

fn events() -> Vec<EventKind> {
    state::with(|s| s.events.iter().map(|e| e.0.kind).collect())
}

fn relayer_next() -> Option<u64> {
    state::with(|s| s.relayer_nonces.get(&CHAIN_ID))
}

/// A minimal RLP reader, written independently of the encoder under test.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rlp {
    Bytes(Vec<u8>),
    List(Vec<Rlp>),
}

impl Rlp {
    fn decode(input: &[u8]) -> (Rlp, &[u8]) {
        let be = |b: &[u8]| b.iter().fold(0usize, |n, &x| n << 8 | x as usize);
        let (is_list, start, len) = match input[0] {
            b @ 0x00..=0x7f => return (Rlp::Bytes(vec![b]), &input[1..]),
            b @ 0x80..=0xb7 => (false, 1, (b - 0x80) as usize),
            b @ 0xb8..=0xbf => {
                let n = (b - 0xb7) as usize;
                (false, 1 + n, be(&input[1..1 + n]))
            }
            b @ 0xc0..=0xf7 => (true, 1, (b - 0xc0) as usize),
            b => {
                let n = (b - 0xf7) as usize;
                (true, 1 + n, be(&input[1..1 + n]))
            }
        };
        let (payload, rest) = input[start..].split_at(len);
        if !is_list {
            return (Rlp::Bytes(payload.to_vec()), rest);
        }
        let mut items = Vec::new();
        let mut remaining = payload;
        while !remaining.is_empty() {
            let (item, r) = Rlp::decode(remaining);
            items.push(item);
            remaining = r;
        }
        (Rlp::List(items), rest)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Rlp::Bytes(b) => b,
            Rlp::List(_) => panic!("expected bytes, got a list"),
        }
    }

    fn uint(&self) -> u128 {
        self.bytes()
            .iter()
            .fold(0u128, |n, &x| n << 8 | u128::from(x))
    }
}

/// A raw type-2 transaction taken apart: the unsigned transaction and its `r || s || v`.
fn decode_raw(raw: &[u8]) -> (Eip1559Tx, [u8; 65]) {
    assert_eq!(raw[0], 0x02, "an EIP-1559 (type 2) transaction");
    let (Rlp::List(f), rest) = Rlp::decode(&raw[1..]) else {
        panic!("the payload is a list")
    };
    assert!(rest.is_empty());
    assert_eq!(f.len(), 12);
    assert_eq!(f[8], Rlp::List(vec![]), "empty access list");
    let tx = Eip1559Tx {
        chain_id: f[0].uint() as u64,
        nonce: f[1].uint() as u64,
        max_priority_fee_per_gas: f[2].uint(),
        max_fee_per_gas: f[3].uint(),
        gas_limit: f[4].uint() as u64,
        to: Address::from_slice(f[5].bytes()),
        value: U256::from(f[6].uint()),
        data: f[7].bytes().to_vec(),
    };
    let mut sig = [0u8; 65];
    let (r, s) = (f[10].bytes(), f[11].bytes());
    sig[32 - r.len()..32].copy_from_slice(r);
    sig[64 - s.len()..64].copy_from_slice(s);
    sig[64] = 27 + f[9].uint() as u8;
    (tx, sig)
}

/// Checks a relayed transaction is well formed and signed by the relayer; returns it.
async fn relayed_tx(rt: &NativeRuntime, raw: &[u8], to: &str) -> Eip1559Tx {
    let (tx, sig) = decode_raw(raw);
    assert_eq!(tx.chain_id, CHAIN_ID);
    assert_eq!(tx.to, address::parse(to).unwrap());
    assert_eq!(tx.value, U256::ZERO);
    assert_eq!(tx.gas_limit, WalletRelayConfig::default().gas_limit);
    assert_eq!(tx.max_fee_per_gas, 2 * ROUNDED_GAS_PRICE);
    assert_eq!(tx.max_priority_fee_per_gas, MAX_PRIORITY_FEE_WEI);
    let recovered = heaven_eth::signature::recover_prehash(&tx.signing_hash(), &sig).unwrap();
    assert_eq!(
        recovered,
        signer::address(rt, Role::Relayer).await.unwrap(),
        "signed by the relayer key"
    );
    assert_eq!(tx.encode_signed(&sig).unwrap(), raw, "canonical encoding");
    tx
}

// ---------------------------------------------------------------------------------------------
// Configuration and body

#[tokio::test]
async fn a_disabled_relay_is_a_configuration_error_before_anything_else() {
    let (rt, _dir) = runtime("http://127.0.0.1:9", false);
    let garbage = ApiRequest::new("POST", "/", vec![], b"not json".to_vec());
    for r in [
        set_profile(&rt, &garbage, now()).await,
        register_name(&rt, &garbage, now()).await,
    ] {
        assert_eq!(err(r), (500, "Server configuration error".into()));
    }
}

#[tokio::test]
async fn invalid_json_is_a_400() {
    let s = setup().await;
    for body in [&b"{"[..], b"[1]", b""] {
        let req = ApiRequest::new("POST", "/", vec![], body.to_vec());
        assert_eq!(
            err(set_profile(&s.rt, &req, now()).await),
            (400, "Invalid JSON body".into())
        );
        assert_eq!(
            err(register_name(&s.rt, &req, now()).await),
            (400, "Invalid JSON body".into())
        );
    }
}

// ---------------------------------------------------------------------------------------------
// GET /nonce and /domain

#[tokio::test]
async fn nonce_reads_the_contract() {
    let s = setup().await;
    let get = |q: &str| ApiRequest::new("GET", &format!("/api/wallet/nonce{q}"), vec![], vec![]);
    for q in [
        "",
        "?user=",
        "?user=0x12",
        "?user=70997970c51812dc3a010c7d01b50e0d17dc79c8",
    ] {
        assert_eq!(
            err(nonce(&s.rt, &get(q)).await),
            (400, "Missing or invalid user address".into())
        );
    }
    let user = "?user=0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    // No answer for nonces(): the original's uncaught RPC error.
    assert_eq!(
        err(nonce(&s.rt, &get(user)).await),
        (500, "Internal server error".into())
    );
    s.user_nonce().await;
    let r = nonce(&s.rt, &get(user)).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, br#"{"nonce":"7"}"#.to_vec());
}

#[tokio::test]
async fn domain_answers_the_original_shape() {
    let s = setup().await;
    let separator = "0xc0942f1029a49754ecf6d5801213cd1bdb4446b7f93f8003ccd125bf1e324a64";
    s.chain
        .on_call(
            DOMAIN_SEPARATORCall::SELECTOR,
            hex32::parse_b256(separator).unwrap().to_vec(),
        )
        .await;
    let r = domain(&s.rt).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        format!(
            r#"{{"domain":{{"name":"DatingProfileV3","version":"1","chainId":84532,"verifyingContract":"{DATING_PROFILE}"}},"domainSeparator":"{separator}","contract":"{DATING_PROFILE}","chainId":84532}}"#
        )
    );
    // The separator the fixture uses is the one our EIP-712 domain hashes to.
    let ours = heaven_eth::eip712::dating_profile_domain(CHAIN_ID, dating_profile()).separator();
    assert_eq!(hex32::b256_hex(&ours), separator);
}

// ---------------------------------------------------------------------------------------------
// POST /set-profile: errors in the original's order

#[tokio::test]
async fn set_profile_request_checks_come_in_the_original_order() {
    let s = setup().await;
    let good = profile_body(&key(1));
    let with = |changes: &[(&str, Value)]| {
        let mut b = good.clone();
        for (k, v) in changes {
            b[*k] = v.clone();
        }
        b
    };
    let without = |k: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let missing = (400, "Missing required fields".to_string());
    for k in [
        "userAddress",
        "gender",
        "interestedMask",
        "locationMode",
        "deadline",
        "signature",
    ] {
        assert_eq!(err(set_profile_with(&s, &without(k)).await), missing, "{k}");
    }
    for (k, v) in [
        ("userAddress", json!("")),
        ("userAddress", Value::Null),
        ("signature", json!("")),
        ("signature", json!(0)),
    ] {
        assert_eq!(
            err(set_profile_with(&s, &with(&[(k, v)])).await),
            missing,
            "{k}"
        );
    }
    // Missing beats every format problem.
    assert_eq!(
        err(set_profile_with(
            &s,
            &with(&[("userAddress", json!("0x12")), ("signature", json!(""))])
        )
        .await),
        missing
    );

    let bad_user = (400, "Invalid userAddress format".to_string());
    for v in [
        json!("0x12"),
        json!(12345),
        json!(format!("{}0", &good["userAddress"].as_str().unwrap())),
    ] {
        assert_eq!(
            err(set_profile_with(
                &s,
                &with(&[("userAddress", v.clone()), ("signature", json!("zz"))])
            )
            .await),
            bad_user,
            "{v}"
        );
    }
    for v in [json!("0x"), json!("abcd"), json!("0xzz"), json!(12)] {
        assert_eq!(
            err(set_profile_with(
                &s,
                &with(&[("signature", v.clone()), ("deadline", json!("x"))])
            )
            .await),
            (400, "Invalid signature format".into()),
            "{v}"
        );
    }
    // BigInt(deadline) threw in the original: its uncaught-exception 500.
    for v in [json!("soon"), json!(null), json!(1.5), json!({})] {
        assert_eq!(
            err(set_profile_with(&s, &with(&[("deadline", v.clone())])).await),
            (500, "Internal server error".into()),
            "{v}"
        );
    }
    let too_close = (
        400,
        "Deadline expired or too close (must be > now + 15s)".to_string(),
    );
    for v in [
        json!((NOW + 15).to_string()),
        json!(NOW),
        json!("0"),
        json!(-5),
        json!(""),
        json!(false),
    ] {
        assert_eq!(
            err(set_profile_with(&s, &with(&[("deadline", v.clone())])).await),
            too_close,
            "{v}"
        );
    }

    // Rate limit before any chain read (the node has no answers yet).
    let user = address::to_lower_hex(&address_of(&key(1)));
    state::with_mut(|st| st.wallet_limits.insert(user.clone(), NOW - 10));
    assert_eq!(
        err(set_profile_with(&s, &good).await),
        (429, "Rate limited. Try again in 50s".into())
    );
    // A deadline problem is reported before the rate limit.
    assert_eq!(
        err(set_profile_with(&s, &with(&[("deadline", json!("1"))])).await),
        too_close
    );
    // Signed arithmetic, as the original: a future `last` waits longer.
    state::with_mut(|st| st.wallet_limits.insert(user.clone(), NOW + 5));
    assert_eq!(
        err(set_profile_with(&s, &good).await),
        (429, "Rate limited. Try again in 65s".into())
    );
    state::with_mut(|st| st.wallet_limits.insert(user.clone(), NOW - 60));

    // The nonce read fails (no answer from the node).
    assert_eq!(
        err(set_profile_with(&s, &good).await),
        (500, "Failed to verify nonce".into())
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);

    s.user_nonce().await;
    // Signed by someone else.
    let mut forged = good.clone();
    forged["signature"] = profile_body(&key(2))["signature"].clone();
    assert_eq!(
        err(set_profile_with(&s, &forged).await),
        (
            403,
            "Invalid signature (recovered address does not match user)".into()
        )
    );
    // A value changed after signing recovers to someone else too.
    assert_eq!(
        err(set_profile_with(&s, &with(&[("heightCm", json!(171))])).await).1,
        "Invalid signature (recovered address does not match user)"
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);
    assert!(events().is_empty());
}

#[tokio::test]
async fn set_profile_field_errors_read_like_viem() {
    let s = setup().await;
    s.user_nonce().await;
    let good = profile_body(&key(1));
    let failed = |r: ApiResult| {
        let (status, message) = err(r);
        assert_eq!(status, 403, "{message}");
        message
            .strip_prefix("Signature verification failed: ")
            .unwrap_or_else(|| panic!("{message}"))
            .to_string()
    };
    let with = |k: &str, v: Option<Value>| {
        let mut b = good.clone();
        match v {
            Some(v) => b[k] = v,
            None => {
                b.as_object_mut().unwrap().remove(k);
            }
        }
        b
    };
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        (
            "gender",
            Some(json!(256)),
            r#"Number "256" is not in safe 8-bit unsigned integer range (0 to 255)"#,
        ),
        (
            "interestedMask",
            Some(json!(-1)),
            r#"Number "-1" is not in safe 16-bit unsigned integer range (0 to 65535)"#,
        ),
        (
            "locationLat",
            Some(json!(-3_000_000_000i64)),
            r#"Number "-3000000000" is not in safe 32-bit signed integer range (-2147483648 to 2147483647)"#,
        ),
        (
            "heightCm",
            Some(json!(1.5)),
            "The number 1.5 cannot be converted to a BigInt because it is not an integer",
        ),
        (
            "birthYear",
            Some(json!("70000")),
            r#"Number "70000" is not in safe 16-bit unsigned integer range (0 to 65535)"#,
        ),
        ("locationLng", None, "Cannot convert undefined to a BigInt"),
        (
            "gender",
            Some(Value::Null),
            "Cannot convert null to a BigInt",
        ),
        (
            "nationalityCode",
            Some(json!("abc")),
            "Cannot convert abc to a BigInt",
        ),
        (
            "ethnicityMask",
            Some(json!({"a": 1})),
            "Cannot convert [object Object] to a BigInt",
        ),
        (
            "deadline",
            Some(json!(format!("{}0", U256::MAX))),
            "Number \"1157920892373161954235709850086879078532699846656405640394575840079131296399350n\" is not in safe 256-bit unsigned integer range (0n to 115792089237316195423570985008687907853269984665640564039457584007913129639935n)",
        ),
        (
            "signature",
            Some(json!("0x1234")),
            "invalid signature length",
        ),
    ];
    for (k, v, expected) in cases {
        assert_eq!(
            failed(set_profile_with(&s, &with(k, v)).await),
            expected,
            "{k}"
        );
    }
    let mut bad_v = hex::decode(&good["signature"].as_str().unwrap()[2..]).unwrap();
    bad_v[64] = 29;
    assert_eq!(
        failed(set_profile_with(&s, &with("signature", Some(json!(hex0x(&bad_v))))).await),
        "Invalid yParityOrV value"
    );

    // viem validates JSON numbers first, so a later range error beats an earlier null.
    let mut b = with("gender", Some(Value::Null));
    b["heightCm"] = json!(70_000);
    assert_eq!(
        failed(set_profile_with(&s, &b).await),
        r#"Number "70000" is not in safe 16-bit unsigned integer range (0 to 65535)"#
    );
    // The address comes first of all: mixed case must be a valid EIP-55 checksum.
    let user = good["userAddress"].as_str().unwrap();
    let wrong_case = format!("0x{}", flip_case(&user[2..]));
    let mut b = with("userAddress", Some(json!(wrong_case)));
    b["gender"] = json!(256);
    assert_eq!(
        failed(set_profile_with(&s, &b).await),
        format!("Address \"{wrong_case}\" is invalid.")
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);
}

fn flip_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// POST /set-profile: relaying

#[tokio::test]
async fn set_profile_relays_a_transaction_signed_by_the_relayer() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    let k = key(1);
    let user = address_of(&k);
    let body = profile_body(&k);

    let r = set_profile_with(&s, &body).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body_json(),
        json!({ "success": true, "hash": TX_HASH, "blockNumber": "1234", "nonceUsed": "7" })
    );

    let raws = s.raw_transactions().await;
    assert_eq!(raws.len(), 1);
    let tx = relayed_tx(&s.rt, &raws[0], DATING_PROFILE).await;
    assert_eq!(tx.nonce, RELAYER_COUNT);
    let call = setProfileWithSigCall::abi_decode(&tx.data).unwrap();
    let p = profile_of(user, USER_NONCE, NOW + 600);
    assert_eq!(call.user, user);
    assert_eq!(
        (call.gender, call.interestedMask, call.locationMode),
        (p.gender, p.interestedMask, p.locationMode)
    );
    assert_eq!(
        (
            call.locationLat,
            call.locationLng,
            call.heightCm,
            call.birthYear
        ),
        (p.locationLat, p.locationLng, p.heightCm, p.birthYear)
    );
    assert_eq!(
        (
            call.nationalityCode,
            call.ethnicityMask,
            call.relationshipMode
        ),
        (p.nationalityCode, p.ethnicityMask, p.relationshipMode)
    );
    assert!(call.privateCid.is_empty());
    assert_eq!(call.deadline, p.deadline);
    assert_eq!(hex0x(&call.sig), body["signature"].as_str().unwrap());

    assert_eq!(
        events(),
        vec![
            EventKind::RelayerNonceSynced {
                chain_id: CHAIN_ID,
                nonce: RELAYER_COUNT
            },
            EventKind::TransactionSent {
                chain_id: CHAIN_ID,
                nonce: RELAYER_COUNT,
                hash: TX_HASH.into(),
                kind: "set-profile".into()
            },
        ]
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
    // The success starts the user's rate-limit window.
    assert_eq!(
        state::with(|st| st.wallet_limits.get(&address::to_lower_hex(&user))),
        Some(NOW)
    );
    assert_eq!(
        err(set_profile_with(&s, &body).await),
        (429, "Rate limited. Try again in 60s".into())
    );
}

#[tokio::test]
async fn relayer_nonces_increase_without_rereading_the_chain() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    for seed in [1, 2] {
        let r = set_profile_with(&s, &profile_body(&key(seed)))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    // A lowercase address and a relationshipMode left out (defaults to 0) are fine too.
    let k = key(3);
    let user = address_of(&k);
    let p = SetProfile {
        relationshipMode: 0,
        ..profile_of(user, USER_NONCE, NOW + 600)
    };
    let mut body = profile_body(&k);
    body.as_object_mut().unwrap().remove("relationshipMode");
    body["userAddress"] = json!(address::to_lower_hex(&user));
    body["signature"] = json!(hex0x(&sign_digest(
        &k,
        set_profile_digest(&p, CHAIN_ID, dating_profile())
    )));
    assert_eq!(set_profile_with(&s, &body).await.unwrap().status, 200);

    assert_eq!(s.count("eth_getTransactionCount").await, 1);
    let mut nonces = Vec::new();
    for raw in s.raw_transactions().await {
        nonces.push(relayed_tx(&s.rt, &raw, DATING_PROFILE).await.nonce);
    }
    assert_eq!(
        nonces,
        vec![RELAYER_COUNT, RELAYER_COUNT + 1, RELAYER_COUNT + 2]
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 3));
}

#[tokio::test]
async fn a_reverted_profile_transaction_is_a_500_with_hash_and_nonce() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(0).await;
    let body = profile_body(&key(1));
    let e = set_profile_with(&s, &body).await.unwrap_err();
    assert_eq!(e.status, 500);
    assert_eq!(
        e.body,
        format!(r#"{{"error":"Transaction reverted","hash":"{TX_HASH}","nonceUsed":"7"}}"#)
    );
    // Only successes start the rate-limit window; the nonce was used all the same.
    assert!(state::with(|st| st.wallet_limits.is_empty()));
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
}

#[tokio::test]
async fn an_unmined_transaction_is_a_202_after_polling() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.chain
        .on_method("eth_getTransactionReceipt", Value::Null)
        .await;
    let r = set_profile_with(&s, &profile_body(&key(1))).await.unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(
        r.body_json(),
        json!({ "success": true, "pending": true, "hash": TX_HASH, "nonceUsed": "7" })
    );
    assert_eq!(s.count("eth_getTransactionReceipt").await, RECEIPT_POLLS);
    // The relayer paid for it, so the window starts.
    assert_eq!(state::with(|st| st.wallet_limits.len()), 1);
}

#[tokio::test]
async fn a_failed_send_hands_its_nonce_back() {
    let s = setup().await;
    s.user_nonce().await;
    s.chain.on_method("eth_gasPrice", json!(GAS_PRICE)).await;
    s.chain
        .on_method("eth_getTransactionCount", json!("0x2a"))
        .await;
    // No eth_sendRawTransaction answer: the node is unreachable for it.
    let (status, message) = err(set_profile_with(&s, &profile_body(&key(1))).await);
    assert_eq!(status, 500);
    assert!(
        message.starts_with("Transaction failed: eth_sendRawTransaction"),
        "{message}"
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT));
    assert!(state::with(|st| st.wallet_limits.is_empty()));
    assert_eq!(
        events(),
        vec![EventKind::RelayerNonceSynced {
            chain_id: CHAIN_ID,
            nonce: RELAYER_COUNT
        }]
    );
}

/// Answers `rpc_method` with `result` (at wiremock priority `priority`, at most `times` times).
async fn answer(server: &MockServer, rpc_method: &str, body: Value, times: Option<u64>) {
    let mut mock = Mock::given(method("POST"))
        .and(body_partial_json(json!({ "method": rpc_method })))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    if let Some(n) = times {
        mock = mock.up_to_n_times(n).with_priority(1);
    }
    server.register(mock).await;
}

fn rpc_ok(result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "result": result })
}

#[tokio::test]
async fn a_nonce_conflict_resyncs_from_the_chain() {
    // FakeChain has no error answers for plain methods, so this node is built by hand.
    let server = MockServer::start().await;
    let (rt, _dir) = runtime(&server.uri(), true);
    answer(&server, "eth_blockNumber", rpc_ok(json!("0x3e8")), None).await;
    answer(
        &server,
        "eth_call",
        rpc_ok(json!(hex0x(&noncesCall::abi_encode_returns(&U256::from(
            USER_NONCE
        ))))),
        None,
    )
    .await;
    answer(&server, "eth_gasPrice", rpc_ok(json!(GAS_PRICE)), None).await;
    answer(
        &server,
        "eth_getTransactionCount",
        rpc_ok(json!("0x2a")),
        None,
    )
    .await;
    answer(
        &server,
        "eth_sendRawTransaction",
        json!({ "jsonrpc": "2.0", "id": 1, "error": { "code": -32000, "message": "nonce too low" } }),
        Some(1),
    )
    .await;
    answer(
        &server,
        "eth_sendRawTransaction",
        rpc_ok(json!(TX_HASH)),
        None,
    )
    .await;
    answer(
        &server,
        "eth_getTransactionReceipt",
        rpc_ok(receipt_json(1)),
        None,
    )
    .await;

    // A stale nonce from before (e.g. transactions sent by another tool).
    state::with_mut(|st| st.relayer_nonces.insert(CHAIN_ID, 5));
    let req = post("/api/wallet/set-profile", &profile_body(&key(1)));
    assert_eq!(
        err(set_profile(&rt, &req, now()).await),
        (
            500,
            "Transaction failed: eth_sendRawTransaction: JSON-RPC error -32000: nonce too low"
                .into()
        )
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT));
    assert_eq!(
        events(),
        vec![EventKind::RelayerNonceSynced {
            chain_id: CHAIN_ID,
            nonce: RELAYER_COUNT
        }]
    );

    // The retry goes out with the chain's nonce.
    let r = set_profile(&rt, &req, now()).await.unwrap();
    assert_eq!(r.status, 200);
    let raws: Vec<Vec<u8>> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|r| r["method"] == "eth_sendRawTransaction")
        .map(|r| hex::decode(&r["params"][0].as_str().unwrap()[2..]).unwrap())
        .collect();
    let nonces: Vec<u64> = raws.iter().map(|raw| decode_raw(raw).0.nonce).collect();
    assert_eq!(nonces, vec![5, RELAYER_COUNT]);
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
}

// ---------------------------------------------------------------------------------------------
// POST /register-name

const NAME_USER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

fn name_body(label: &str) -> Value {
    json!({ "userAddress": NAME_USER, "label": label })
}

#[tokio::test]
async fn register_name_checks_come_in_the_original_order() {
    let s = setup().await;
    let missing = (400, "Missing required fields".to_string());
    for body in [
        json!({}),
        json!({ "userAddress": NAME_USER }),
        json!({ "label": "alice" }),
        json!({ "userAddress": "", "label": "alice" }),
        json!({ "userAddress": NAME_USER, "label": "" }),
    ] {
        assert_eq!(err(register_with(&s, &body).await), missing, "{body}");
    }
    for user in [
        json!("0x12"),
        json!(5),
        json!(NAME_USER.to_lowercase().replace("0x", "0X")),
    ] {
        assert_eq!(
            err(register_with(&s, &json!({ "userAddress": user, "label": "-" })).await),
            (400, "Invalid userAddress format".into())
        );
    }
    let bad_label = (
        400,
        "Invalid label (3+ chars, lowercase alphanumeric + hyphen)".to_string(),
    );
    for label in [
        json!("ab"),
        json!("Alice"),
        json!("-abc"),
        json!("abc-"),
        json!("a_bc"),
        json!(12345),
    ] {
        assert_eq!(
            err(register_with(&s, &json!({ "userAddress": NAME_USER, "label": label })).await),
            bad_label,
            "{label}"
        );
    }
    // No answer for available(): the node's failure in the message.
    let (status, message) = err(register_with(&s, &name_body("alice")).await);
    assert_eq!(status, 500);
    assert!(
        message.starts_with("Availability check failed: "),
        "{message}"
    );
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&false),
        )
        .await;
    assert_eq!(
        err(register_with(&s, &name_body("alice")).await),
        (409, "Name not available".into())
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);
}

#[tokio::test]
async fn register_name_relays_register_for_and_mirrors_the_name() {
    let s = setup().await;
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    let owner = NAME_USER.to_lowercase();
    // A stale mirror row of someone else's lapsed registration is taken over.
    state::with_mut(|st| {
        st.names.insert(
            "alice".into(),
            Cbor(HeavenName {
                label: "alice".into(),
                label_display: Some("Alice".into()),
                owner: "0x1111111111111111111111111111111111111111".into(),
                status: "active".into(),
                registered_at: 100,
                expires_at: 200,
                grace_ends_at: 300,
                profile_cid: Some("bafy".into()),
                created_at: 100,
                updated_at: 100,
            }),
        );
        st.names_by_owner.insert(
            "0x1111111111111111111111111111111111111111|alice".into(),
            (),
        );
    });

    for label in ["alice", "bob-42"] {
        let r = register_with(&s, &name_body(label)).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body_json(),
            json!({
                "success": true, "hash": TX_HASH, "blockNumber": "1234",
                "label": label, "fullName": format!("{label}.heaven"),
            })
        );
    }

    let raws = s.raw_transactions().await;
    let tx = relayed_tx(&s.rt, &raws[1], REGISTRAR).await;
    assert_eq!(tx.nonce, RELAYER_COUNT + 1);
    let call = registerForCall::abi_decode(&tx.data).unwrap();
    assert_eq!(call.parentNode, hex32::parse_b256(HEAVEN_NODE).unwrap());
    assert_eq!(call.label, "bob-42");
    assert_eq!(call.to, address::parse(NAME_USER).unwrap());
    assert_eq!(call.duration, U256::from(31_536_000u64));

    let expires_at = NOW + REGISTRATION_SECS;
    let grace_ends_at = expires_at + 90 * 24 * 60 * 60;
    let bob = state::with(|st| st.names.get(&"bob-42".to_string()))
        .unwrap()
        .0;
    assert_eq!(
        bob,
        HeavenName {
            label: "bob-42".into(),
            label_display: Some("bob-42".into()),
            owner: owner.clone(),
            status: "active".into(),
            registered_at: NOW,
            expires_at,
            grace_ends_at,
            profile_cid: None,
            created_at: NOW,
            updated_at: NOW,
        }
    );
    let alice = state::with(|st| st.names.get(&"alice".to_string()))
        .unwrap()
        .0;
    assert_eq!(
        alice,
        HeavenName {
            label: "alice".into(),
            label_display: Some("Alice".into()),
            owner: owner.clone(),
            status: "active".into(),
            registered_at: 100,
            expires_at,
            grace_ends_at,
            profile_cid: Some("bafy".into()),
            created_at: 100,
            updated_at: NOW,
        }
    );
    let index: Vec<String> = state::with(|st| st.names_by_owner.keys().collect());
    assert_eq!(
        index,
        vec![format!("{owner}|alice"), format!("{owner}|bob-42")]
    );
    let kinds = events();
    assert!(kinds.contains(&EventKind::NameRegistered {
        label: "bob-42".into(),
        owner: owner.clone(),
        expires_at
    }));
    assert!(kinds.contains(&EventKind::TransactionSent {
        chain_id: CHAIN_ID,
        nonce: RELAYER_COUNT,
        hash: TX_HASH.into(),
        kind: "register-name".into()
    }));
}

#[tokio::test]
async fn register_name_reverted_mirrors_nothing() {
    let s = setup().await;
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    s.accepts_transactions().await;
    s.receipt(0).await;
    let e = register_with(&s, &name_body("alice")).await.unwrap_err();
    assert_eq!(e.status, 500);
    assert_eq!(
        e.body,
        format!(r#"{{"error":"Transaction reverted","hash":"{TX_HASH}"}}"#)
    );
    assert!(state::with(|st| st.names.is_empty()));
}

#[tokio::test]
async fn register_name_pending_mirrors_nothing() {
    let s = setup().await;
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    s.accepts_transactions().await;
    s.chain
        .on_method("eth_getTransactionReceipt", Value::Null)
        .await;
    let r = register_with(&s, &name_body("alice")).await.unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(
        r.body_json(),
        json!({
            "success": true, "pending": true, "hash": TX_HASH,
            "label": "alice", "fullName": "alice.heaven",
        })
    );
    assert!(state::with(|st| st.names.is_empty()));
}

// ---------------------------------------------------------------------------------------------
// Pieces

#[test]
fn fee_caps_keep_the_tip_under_the_cap() {
    assert_eq!(relay::fee_caps(1 << 30), (MAX_PRIORITY_FEE_WEI, 1 << 31));
    assert_eq!(relay::fee_caps(1_000), (1_000, 2_000));
    assert_eq!(relay::fee_caps(0), (0, 0));
    assert_eq!(
        relay::fee_caps(u128::MAX),
        (MAX_PRIORITY_FEE_WEI, u128::MAX)
    );
}

#[test]
fn bigint_coercion_follows_javascript() {
    let ok = |v: Value| JsInt::coerce(Some(&v));
    assert_eq!(ok(json!(" 12 ")), ok(json!(12)));
    assert_eq!(ok(json!("0x10")), ok(json!(16)));
    assert_eq!(ok(json!("+7")), ok(json!(7)));
    assert_eq!(ok(json!("")), ok(json!(0)));
    assert_eq!(ok(json!(true)), ok(json!(1)));
    assert_eq!(ok(json!([5])), ok(json!(5)));
    assert_eq!(ok(json!(5.0)), ok(json!(5)));
    assert_eq!(ok(json!("-3")), ok(json!(-3)));
    assert_eq!(
        ok(json!("-0x10")),
        Err("Cannot convert -0x10 to a BigInt".into())
    );
    assert_eq!(
        ok(json!("1.5")),
        Err("Cannot convert 1.5 to a BigInt".into())
    );
    assert_eq!(
        ok(json!([1, 2])),
        Err("Cannot convert 1,2 to a BigInt".into())
    );
    assert_eq!(
        JsInt::coerce(None),
        Err("Cannot convert undefined to a BigInt".into())
    );
}

#[tokio::test]
async fn a_decimal_string_field_is_accepted_as_viem_accepted_it() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    let mut body = profile_body(&key(1));
    body["gender"] = json!("2");
    body["deadline"] = json!(NOW + 600);
    assert_eq!(set_profile_with(&s, &body).await.unwrap().status, 200);
}
