//! Test support: a fake EVM JSON-RPC node (wiremock) answering the calls the names policy and
//! the wallet relay make, shaped exactly as a node answers them (`{"jsonrpc","id","result"}`),
//! and test wallets that sign like `personal_sign` / `eth_signTypedData_v4`. Used by this
//! crate's tests and, with the `test-support` feature, by the local stack's and the harness's.

pub use k256::ecdsa::SigningKey;

pub mod tempo;

use heaven_eth::abi::{
    SolCall, isReservedCall, premiumPriceForLabelCall, priceCall, quoteCall,
    shortPurchasesByNullifierCall,
};
use heaven_eth::{Address, B256, U256};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A deterministic test key: 32 bytes of `seed`.
pub fn key_from_seed(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).expect("a non-zero scalar")
}

/// A key from 64 hex digits (with or without `0x`).
pub fn key_from_hex(hex_key: &str) -> SigningKey {
    let bytes = hex::decode(hex_key.trim_start_matches("0x")).expect("hex key");
    SigningKey::from_slice(&bytes).expect("a valid secp256k1 secret")
}

/// The key's Ethereum address.
pub fn address_of(key: &SigningKey) -> Address {
    heaven_eth::address::from_public_key(&key.verifying_key().to_sec1_bytes())
        .expect("a valid public key")
}

/// The key's address as `0x` + 40 lowercase hex.
pub fn address_hex(key: &SigningKey) -> String {
    heaven_eth::address::to_lower_hex(&address_of(key))
}

/// `r‖s‖v` (v = 27/28, low-s) over a 32-byte digest, as wallets return it.
pub fn sign_digest(key: &SigningKey, digest: B256) -> [u8; 65] {
    let (sig, recovery) = key
        .sign_prehash_recoverable(digest.as_slice())
        .expect("signing a 32-byte digest");
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + recovery.to_byte();
    out
}

/// `personal_sign` (EIP-191) of `message`: `0x` + 130 hex.
pub fn personal_sign(key: &SigningKey, message: &str) -> String {
    let sig = sign_digest(key, heaven_eth::eip191::message_hash(message));
    format!("0x{}", hex::encode(sig))
}

/// The NamePermit a `POST /api/names/permit` answer describes, rebuilt from its `permit`
/// fields (addresses, bytes32 hex, decimal strings).
pub fn permit_from_json(p: &Value) -> heaven_eth::eip712::NamePermit {
    let text = |k: &str| {
        p[k].as_str()
            .unwrap_or_else(|| panic!("permit.{k} is not a string"))
    };
    let address = |k: &str| heaven_eth::address::parse(text(k)).expect("permit address");
    let bytes32 = |k: &str| heaven_eth::hex32::parse_b256(text(k)).expect("permit bytes32");
    let uint = |k: &str| U256::from_str_radix(text(k), 10).expect("permit decimal");
    heaven_eth::eip712::NamePermit {
        buyer: address("buyer"),
        recipient: address("recipient"),
        parentNode: bytes32("parentNode"),
        labelHash: bytes32("labelHash"),
        duration: uint("duration"),
        maxPrice: uint("maxPrice"),
        policyType: p["policyType"]
            .as_u64()
            .and_then(|t| u8::try_from(t).ok())
            .expect("permit.policyType"),
        nullifierHash: bytes32("nullifierHash"),
        nonce: uint("nonce"),
        deadline: uint("deadline"),
    }
}

/// Who signed a permit answer: the EIP-712 digest of its `permit` for `chain_id` / `store`,
/// recovered from its `signature`.
pub fn permit_signer(answer: &Value, chain_id: u64, store: Address) -> Address {
    let permit = permit_from_json(&answer["permit"]);
    let digest = heaven_eth::eip712::name_permit_digest(&permit, chain_id, store);
    let signature = answer["signature"].as_str().expect("signature");
    let bytes = hex::decode(signature.trim_start_matches("0x")).expect("signature hex");
    heaven_eth::signature::recover_prehash(&digest, &bytes).expect("a recoverable signature")
}

/// Matches an `eth_call` whose calldata starts with a selector.
struct CallSelector([u8; 4]);

impl wiremock::Match for CallSelector {
    fn matches(&self, request: &Request) -> bool {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        let prefix = format!("0x{}", hex::encode(self.0));
        body["method"] == "eth_call"
            && body["params"][0]["data"]
                .as_str()
                .is_some_and(|d| d.starts_with(&prefix))
    }
}

fn rpc_result(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "jsonrpc": "2.0", "id": 1, "result": result }))
}

/// A fake Tempo / Base node.
pub struct FakeChain {
    server: MockServer,
}

impl FakeChain {
    /// Starts a node whose head is `block`.
    pub async fn start(block: u64) -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_partial_json(json!({ "method": "eth_blockNumber" })))
            .respond_with(rpc_result(json!(format!("{block:#x}"))))
            .mount(&server)
            .await;
        Self { server }
    }

    /// The node's URL.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Answers `eth_call`s with `selector` by `returns` (ABI-encoded return data).
    pub async fn on_call(&self, selector: [u8; 4], returns: Vec<u8>) {
        Mock::given(method("POST"))
            .and(CallSelector(selector))
            .respond_with(rpc_result(json!(format!("0x{}", hex::encode(returns)))))
            .mount(&self.server)
            .await;
    }

    /// Answers `eth_call`s with `selector` by a JSON-RPC error (a revert).
    pub async fn on_call_revert(&self, selector: [u8; 4]) {
        Mock::given(method("POST"))
            .and(CallSelector(selector))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "jsonrpc": "2.0", "id": 1,
                "error": { "code": 3, "message": "execution reverted" }
            })))
            .mount(&self.server)
            .await;
    }

    /// The store's `quote`: an enabled listing or not.
    pub async fn store_quote(&self, price: u64, duration: u64, enabled: bool) {
        let ret = heaven_eth::abi::Quote {
            price: U256::from(price),
            duration: U256::from(duration),
            enabled,
        };
        self.on_call(quoteCall::SELECTOR, quoteCall::abi_encode_returns(&ret))
            .await;
    }

    /// The registry's `isReserved`, `premiumPriceForLabel` and `price`.
    pub async fn registry(&self, reserved: bool, premium: u64, price: u64) {
        self.on_call(
            isReservedCall::SELECTOR,
            isReservedCall::abi_encode_returns(&reserved),
        )
        .await;
        self.on_call(
            premiumPriceForLabelCall::SELECTOR,
            premiumPriceForLabelCall::abi_encode_returns(&U256::from(premium)),
        )
        .await;
        self.on_call(
            priceCall::SELECTOR,
            priceCall::abi_encode_returns(&U256::from(price)),
        )
        .await;
    }

    /// The store's `shortPurchasesByNullifier`.
    pub async fn short_purchases(&self, count: u16) {
        self.on_call(
            shortPurchasesByNullifierCall::SELECTOR,
            shortPurchasesByNullifierCall::abi_encode_returns(&count),
        )
        .await;
    }

    /// Answers any other JSON-RPC method with `result`.
    pub async fn on_method(&self, rpc_method: &str, result: Value) {
        Mock::given(method("POST"))
            .and(body_partial_json(json!({ "method": rpc_method })))
            .respond_with(rpc_result(result))
            .mount(&self.server)
            .await;
    }

    /// The JSON-RPC requests received so far.
    pub async fn requests(&self) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }
}
