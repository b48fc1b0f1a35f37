//! Driving the identity canister through its HTTP gateway, shared by `tests/identity_scenarios.rs`
//! and `benches/identity_instructions.rs`: install, JSON requests, EIP-191 signed legacy name
//! registrations, and a fake Tempo JSON-RPC node answering the names policy's outcalls.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use candid::Principal;
use heaven_eth::abi::{
    Quote, SolCall, hex0x, isReservedCall, premiumPriceForLabelCall, priceCall, quoteCall,
};
use heaven_eth::{Address, U256};
use ic_wasm_harness::{
    GatewayRequest, GatewayResponse, Harness, OutcallHandler, OutcallResponse, Scenario,
    ScenarioExt, canister_wasm,
};
use identity_canister::endpoints::AdminError;
use identity_canister::lifecycle::{InitArg, UpgradeArg};
use identity_canister::state::NamesPolicyConfig;
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};

/// The PremiumNameStoreV2 the policy config names (the permit's EIP-712 verifying contract).
pub const STORE: &str = "0x46Bcae2625157b562c974bb5a912dfcb811a234A";
/// Block number the fake node reports.
pub const HEAD_BLOCK: &str = "0x3e8";
/// What the canister pins its reads to: 1000 floored to a multiple of 8, minus 2 confirmations.
pub const PINNED_BLOCK: &str = "0x3e6";
/// Price the fake registry quotes for every long label.
pub const PRICE: u64 = 1_000_000;
/// Hardhat account #0's private key (public test key).
pub const HARDHAT_0_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// The shipped identity wasm (`cargo xtask build-canisters identity`).
pub fn identity_wasm() -> Vec<u8> {
    canister_wasm("identity").unwrap_or_else(|e| panic!("{e}"))
}

/// The install argument with the local test key (dfx.json's `init_arg`).
pub fn init_args() -> InitArg {
    InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    }
}

/// An upgrade argument that keeps the key name.
pub fn upgrade_args() -> UpgradeArg {
    UpgradeArg::default()
}

/// Installs the identity canister with `dfx_test_key`.
pub fn install_identity(s: &mut dyn Scenario) -> Principal {
    let wasm = identity_wasm();
    s.install_with(&wasm, &init_args())
        .unwrap_or_else(|e| panic!("installing identity on {}: {e}", s.backend()))
}

/// The principal that installed the canister (its controller): the harness's fixed controller,
/// which the PocketIC backend also creates canisters with.
pub fn controller(_s: &dyn Scenario) -> Principal {
    Harness::controller()
}

/// The scenario's clock in whole seconds (what signed requests carry).
pub fn now_secs(s: &dyn Scenario) -> u64 {
    s.time_nanos() / 1_000_000_000
}

/// `GET url`.
pub fn get(url: &str) -> GatewayRequest {
    GatewayRequest::new("GET", url, Vec::new())
}

/// `POST url` with a JSON body.
pub fn post(url: &str, body: &Value) -> GatewayRequest {
    let mut request = GatewayRequest::new("POST", url, serde_json::to_vec(body).unwrap());
    request
        .headers
        .push(("content-type".into(), "application/json".into()));
    request
}

/// The JSON body of a gateway response.
pub fn json_of(response: &GatewayResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap_or_else(|e| {
        panic!(
            "{} body is not JSON ({e}): {}",
            response.status_code,
            String::from_utf8_lossy(&response.body)
        )
    })
}

/// A header of a gateway response (case-insensitive name).
pub fn header<'a>(response: &'a GatewayResponse, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The gateway's `http_request` query alone (no upgrade to update), to see whether the query
/// answered by itself.
pub fn query_only(s: &mut dyn Scenario, c: Principal, request: &GatewayRequest) -> GatewayResponse {
    let bytes = candid::encode_one(request).unwrap();
    let reply = s
        .query_raw(c, Principal::anonymous(), "http_request", bytes)
        .unwrap_or_else(|e| panic!("http_request {}: {e}", request.url));
    candid::decode_one(&reply).unwrap()
}

/// Sends `request` through the gateway (query, then update on upgrade) and expects `status`.
pub fn expect_status(
    s: &mut dyn Scenario,
    c: Principal,
    request: GatewayRequest,
    status: u16,
) -> Value {
    let what = format!("{} {}", request.method, request.url);
    let response = s
        .http_request(c, request)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let body = json_of(&response);
    assert_eq!(response.status_code, status, "{what}: {body}");
    body
}

/// A wallet that signs registry messages (EIP-191, like viem's `signMessage`).
pub struct Owner {
    key: SigningKey,
    /// Lowercase `0x` address.
    pub address: String,
}

impl Owner {
    /// Hardhat account #0 (0xf39f…2266).
    pub fn hardhat_0() -> Self {
        Self::from_key(SigningKey::from_slice(&hex::decode(HARDHAT_0_KEY).unwrap()).unwrap())
    }

    /// The wallet of `key`.
    pub fn from_key(key: SigningKey) -> Self {
        let point = key.verifying_key().to_encoded_point(false);
        let address = heaven_eth::address::from_public_key(point.as_bytes()).unwrap();
        Self {
            key,
            address: heaven_eth::address::to_lower_hex(&address),
        }
    }

    /// `0x` + 65-byte `r‖s‖v` (v = 27/28) EIP-191 signature of `message`.
    pub fn sign(&self, message: &str) -> String {
        identity_canister::testing::personal_sign(&self.key, message)
    }

    /// The body of `POST /api/names/register` for `label`, signed at `ts` (seconds).
    pub fn register_body(&self, label: &str, nonce: &str, ts: u64) -> Value {
        let message = [
            "heaven-registry:v1".to_string(),
            "action=register".to_string(),
            "tld=heaven".to_string(),
            format!("label={label}"),
            format!("pkp={}", self.address),
            format!("nonce={nonce}"),
            format!("issued_at={ts}"),
            format!("expires_at={}", ts + 120),
            "profile_cid=".to_string(),
        ]
        .join("\n");
        json!({
            "label": label,
            "pkpAddress": self.address,
            "signature": self.sign(&message),
            "nonce": nonce,
            "timestamp": ts,
        })
    }
}

/// Registers `label` for `owner` through the gateway; returns the 200 body.
pub fn register_name(
    s: &mut dyn Scenario,
    c: Principal,
    owner: &Owner,
    label: &str,
    nonce: &str,
) -> Value {
    let body = owner.register_body(label, nonce, now_secs(s));
    expect_status(s, c, post("/api/names/register", &body), 200)
}

/// The names policy settings the scenarios use: [`STORE`], an `https` RPC the outcall handler
/// answers, base difficulty 1; everything else the defaults.
pub fn policy_config() -> NamesPolicyConfig {
    NamesPolicyConfig {
        rpc_url: "https://rpc.tempo.test".into(),
        store: Some(STORE.into()),
        pow_difficulty: 1,
        ..NamesPolicyConfig::default()
    }
}

/// Sets [`policy_config`] as the controller.
pub fn configure_policy(s: &mut dyn Scenario, c: Principal) {
    let controller = controller(s);
    let set: Result<(), AdminError> = s
        .update_as(c, controller, "set_names_policy_config", (policy_config(),))
        .unwrap();
    assert_eq!(set, Ok(()));
}

/// One JSON-RPC call the fake node answered: method, and for `eth_call` the selector and block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcCall {
    pub method: String,
    pub selector: Option<String>,
    pub block: Option<String>,
}

/// A Tempo node for long labels: head [`HEAD_BLOCK`], no store listing, not reserved, no
/// premium, registry price [`PRICE`]. Every call is appended to `log`.
pub fn fake_tempo(log: Arc<Mutex<Vec<RpcCall>>>) -> OutcallHandler {
    Box::new(move |request| {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON-RPC request");
        let method = body["method"].as_str().unwrap_or_default().to_string();
        let mut call = RpcCall {
            method: method.clone(),
            selector: None,
            block: None,
        };
        let result = match method.as_str() {
            "eth_blockNumber" => json!(HEAD_BLOCK),
            "eth_call" => {
                let data = body["params"][0]["data"].as_str().unwrap_or_default();
                let bytes = hex::decode(data.trim_start_matches("0x")).unwrap();
                let selector: [u8; 4] = bytes[..4].try_into().unwrap();
                call.selector = Some(hex::encode(selector));
                call.block = body["params"][1].as_str().map(str::to_string);
                let returns = match selector {
                    quoteCall::SELECTOR => quoteCall::abi_encode_returns(&Quote {
                        price: U256::ZERO,
                        duration: U256::ZERO,
                        enabled: false,
                    }),
                    isReservedCall::SELECTOR => isReservedCall::abi_encode_returns(&false),
                    premiumPriceForLabelCall::SELECTOR => {
                        premiumPriceForLabelCall::abi_encode_returns(&U256::ZERO)
                    }
                    priceCall::SELECTOR => priceCall::abi_encode_returns(&U256::from(PRICE)),
                    other => panic!("unexpected eth_call selector {}", hex::encode(other)),
                };
                json!(hex0x(&returns))
            }
            other => panic!("unexpected JSON-RPC method {other}"),
        };
        log.lock().unwrap().push(call);
        Ok(OutcallResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "result": result}))
                .unwrap(),
        })
    })
}

/// `POST /api/names/challenge` for `label` (`.heaven`) and `wallet`; returns the 200 body.
pub fn challenge(s: &mut dyn Scenario, c: Principal, wallet: &str, label: &str) -> Value {
    let body = json!({"wallet": wallet, "label": label, "tld": "heaven"});
    expect_status(s, c, post("/api/names/challenge", &body), 200)
}

/// The body of `POST /api/names/permit` answering `challenge` (solved here).
pub fn permit_body(wallet: &str, label: &str, challenge: &Value) -> Value {
    let difficulty = u32::try_from(challenge["difficulty"].as_u64().unwrap()).unwrap();
    let pow_nonce =
        identity_canister::names::pow::solve(challenge["challenge"].as_str().unwrap(), difficulty);
    json!({
        "wallet": wallet,
        "label": label,
        "tld": "heaven",
        "challengeId": challenge["challengeId"],
        "powNonce": pow_nonce,
    })
}

/// The store address as the permit digest needs it.
pub fn store_address() -> Address {
    heaven_eth::address::parse(STORE).unwrap()
}
