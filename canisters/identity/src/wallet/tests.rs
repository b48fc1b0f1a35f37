//! Route tests against a fake Base node. Each `#[tokio::test]` runs on its own thread, so it
//! starts from a fresh thread-local state.

use canister_runtime::native::NativeRuntime;
use heaven_eth::abi::{SolCall, hex0x};
use heaven_eth::eip712::{SetProfile, set_profile_digest};
use heaven_eth::tx::Eip1559Tx;
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::profile::JsInt;
use super::relay::{MAX_PRIORITY_FEE_WEI, RECEIPT_POLLS};
use super::*;
use crate::chain;
use crate::lifecycle::{self, InitArg};
use crate::signer::{self, Role};
use crate::state::HeavenName;
use crate::testing::FakeChain;

mod reads;
mod register_name;
mod set_profile_checks;
mod set_profile_relay;

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
    chain::register_native_transform(&rt);
    let arg = InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    };
    lifecycle::init(arg, Now::from_secs(1));
    let config = WalletRelayConfig {
        rpc_url: rpc_url.into(),
        enabled,
        ..WalletRelayConfig::default()
    };
    crate::admin::set_wallet_relay_config(config, Now::from_secs(1)).unwrap();
    (rt, dir)
}

/// Processes `payload` at `now` (fixtures: what earlier requests would have left).
fn given(now: Now, payload: EventType) {
    state::mutate(|s| process_event(s, now, payload));
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

use crate::testing::{address_of, key_from_seed as key};

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
    crate::testing::sign_digest(key, digest).to_vec()
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

/// The relay's events: the set-up's (install, configuration) and the one-time
/// `SignerKeyFetched` of the relayer key are left out.
fn events() -> Vec<EventType> {
    state::with(|s| {
        s.events_from(0)
            .map(|e| e.payload)
            .filter(|k| {
                !matches!(
                    k,
                    EventType::SignerKeyFetched { .. }
                        | EventType::Installed { .. }
                        | EventType::WalletRelayConfigured { .. }
                )
            })
            .collect()
    })
}

fn relayer_next() -> Option<u64> {
    state::with(|s| s.relayer_nonces().get(&CHAIN_ID))
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
// Pieces

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
