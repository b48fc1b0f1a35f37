//! Reads and writes on EVM chains through JSON-RPC HTTP outcalls.
//!
//! Every replica of the subnet makes the same request, so answers must be byte-identical after
//! the [`transform`]: it drops headers and keeps only `result` or `error.{code,message}` of the
//! JSON-RPC body. Reads whose answer moves with the chain head are pinned to a block number that
//! all replicas agree on: `eth_blockNumber` is floored to a multiple of
//! [`BLOCK_PIN_GRANULARITY`] (minus [`PIN_CONFIRMATIONS`]) by the transform, and the `eth_call`s
//! that follow name that block.

use canister_runtime::{
    OutcallHeader, OutcallMethod, OutcallRequest, OutcallResponse, OutcallTransform, Runtime,
};
use heaven_eth::abi::SolCall;
use heaven_eth::rpc::{self, BlockTag};
use heaven_eth::{Address, B256};
use serde_json::{Value, json};

/// Name of the transform query (the canister exports it; the native runtime registers it).
pub const RPC_TRANSFORM: &str = "transform_rpc";
/// Answers larger than this fail the outcall (JSON-RPC answers here are small).
pub const MAX_RPC_RESPONSE_BYTES: u64 = 16 * 1024;
/// Block numbers are floored to a multiple of this so replicas that see slightly different
/// heads still agree.
pub const BLOCK_PIN_GRANULARITY: u64 = 8;
/// Blocks subtracted from the floored head so every replica's node already has the block.
pub const PIN_CONFIRMATIONS: u64 = 2;

/// Transform context: canonical JSON-RPC body only.
const CONTEXT_PLAIN: u8 = 0;
/// Transform context: canonical body with the block number `result` floored for pinning.
const CONTEXT_BLOCK_NUMBER: u8 = 1;
/// Transform context: canonical body with the gas price `result` rounded up to a power of two.
const CONTEXT_GAS_PRICE: u8 = 2;
/// Transform context: `eth_sendRawTransaction`; followed by the 32-byte transaction hash.
const CONTEXT_SEND_RAW: u8 = 3;

/// A JSON-RPC endpoint reached through the runtime's HTTP outcalls.
pub struct Chain<'a, R: Runtime> {
    rt: &'a R,
    url: String,
}

/// A failed chain request: which call, why, and whether the node answered at all. Callers turn
/// it into their own errors (a route's 503 when no answer came, 502 for a bad one; "not found"
/// for reads that swallow errors as the originals did).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{call}: {reason}")]
pub struct ChainError {
    /// The JSON-RPC method or contract call.
    pub call: String,
    /// What went wrong.
    pub reason: String,
    /// Whether the request got no answer.
    pub kind: ChainErrorKind,
}

/// Whether a failed chain request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainErrorKind {
    /// The outcall itself failed (no answer reached the canister): worth retrying.
    Unreachable,
    /// The node answered with an HTTP error, a JSON-RPC error or something unexpected.
    BadAnswer,
}

fn chain_error(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError {
        call: what.to_owned(),
        reason: e.to_string(),
        kind: ChainErrorKind::BadAnswer,
    }
}

fn unreachable(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError {
        kind: ChainErrorKind::Unreachable,
        ..chain_error(what, e)
    }
}

impl<'a, R: Runtime> Chain<'a, R> {
    /// A chain reached at `url`.
    pub fn new(rt: &'a R, url: impl Into<String>) -> Self {
        Self {
            rt,
            url: url.into(),
        }
    }

    async fn request(
        &self,
        method: &str,
        params: Value,
        context: impl Into<Vec<u8>>,
    ) -> Result<Value, ChainError> {
        let response = self
            .rt
            .http_outcall(OutcallRequest {
                url: self.url.clone(),
                method: OutcallMethod::Post,
                headers: vec![OutcallHeader {
                    name: "Content-Type".into(),
                    value: "application/json".into(),
                }],
                body: Some(rpc::request_body(method, params)),
                max_response_bytes: MAX_RPC_RESPONSE_BYTES,
                transform: Some(OutcallTransform {
                    function: RPC_TRANSFORM.into(),
                    context: context.into(),
                }),
            })
            .await
            .map_err(|e| unreachable(method, e))?;
        if !(200..300).contains(&response.status) {
            return Err(chain_error(method, format!("HTTP {}", response.status)));
        }
        rpc::parse_result(&response.body).map_err(|e| chain_error(method, e))
    }

    /// The block number reads are pinned to (see the module doc).
    pub async fn pinned_block(&self) -> Result<u64, ChainError> {
        let v = self
            .request("eth_blockNumber", json!([]), vec![CONTEXT_BLOCK_NUMBER])
            .await?;
        let n = rpc::parse_quantity(&v).map_err(|e| chain_error("eth_blockNumber", e))?;
        u64::try_from(n).map_err(|_| chain_error("eth_blockNumber", "block number overflows"))
    }

    /// `eth_call` of `call` on `to` at `block`, decoded.
    pub async fn call<C: SolCall>(
        &self,
        to: Address,
        call: &C,
        block: BlockTag,
    ) -> Result<C::Return, ChainError> {
        let data = call.abi_encode();
        let v = self
            .request(
                "eth_call",
                rpc::eth_call_params(&to, &data, block),
                vec![CONTEXT_PLAIN],
            )
            .await?;
        let bytes = rpc::parse_data(&v).map_err(|e| chain_error(C::SIGNATURE, e))?;
        C::abi_decode_returns(&bytes).map_err(|e| chain_error(C::SIGNATURE, e))
    }

    /// The account's transaction count at the pinned block (`"pending"` would differ between
    /// replicas). Transactions mined in the last few blocks are not counted yet: callers keep
    /// their own nonce and only re-read it after a conflict.
    pub async fn pending_nonce(&self, address: Address) -> Result<u64, ChainError> {
        let block = self.pinned_block().await?;
        let v = self
            .request(
                "eth_getTransactionCount",
                json!([
                    heaven_eth::address::to_lower_hex(&address),
                    format!("{block:#x}")
                ]),
                vec![CONTEXT_PLAIN],
            )
            .await?;
        let n = rpc::parse_quantity(&v).map_err(|e| chain_error("eth_getTransactionCount", e))?;
        u64::try_from(n).map_err(|_| chain_error("eth_getTransactionCount", "nonce overflows"))
    }

    /// `eth_gasPrice` (wei), used to derive EIP-1559 fee caps.
    pub async fn gas_price(&self) -> Result<u128, ChainError> {
        let v = self
            .request("eth_gasPrice", json!([]), vec![CONTEXT_GAS_PRICE])
            .await?;
        rpc::parse_quantity(&v).map_err(|e| chain_error("eth_gasPrice", e))
    }

    /// `eth_sendRawTransaction`; the transaction hash. Every replica sends the same bytes: the
    /// first node answers the hash, later ones "already known"; the transform maps both to the
    /// hash so replicas agree (see [`transform`]).
    pub async fn send_raw_transaction(&self, raw: &[u8]) -> Result<B256, ChainError> {
        let mut context = vec![CONTEXT_SEND_RAW];
        context.extend_from_slice(heaven_eth::keccak256(raw).as_slice());
        let v = self
            .request(
                "eth_sendRawTransaction",
                json!([heaven_eth::abi::hex0x(raw)]),
                context,
            )
            .await?;
        v.as_str()
            .and_then(heaven_eth::hex32::parse_b256)
            .ok_or_else(|| chain_error("eth_sendRawTransaction", "result is not a hash"))
    }

    /// `eth_getTransactionReceipt`: `Some(status == 1, block number)` once mined.
    pub async fn receipt(&self, hash: &B256) -> Result<Option<(bool, u64)>, ChainError> {
        Ok(self
            .receipt_with_logs(hash)
            .await?
            .map(|r| (r.succeeded, r.block)))
    }
}

/// A mined transaction's receipt: its status, block and logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Whether it succeeded (status 1).
    pub succeeded: bool,
    /// The block it is in.
    pub block: u64,
    /// Its logs, in order.
    pub logs: Vec<Log>,
}

/// One log of a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    /// The emitting contract.
    pub address: Address,
    /// Its topics.
    pub topics: Vec<B256>,
    /// Its data.
    pub data: Vec<u8>,
}

impl<R: Runtime> Chain<'_, R> {
    /// `eth_getTransactionReceipt` with the logs: `Some` once mined.
    pub async fn receipt_with_logs(&self, hash: &B256) -> Result<Option<Receipt>, ChainError> {
        const CALL: &str = "eth_getTransactionReceipt";
        let v = self
            .request(
                CALL,
                json!([heaven_eth::hex32::b256_hex(hash)]),
                vec![CONTEXT_PLAIN],
            )
            .await?;
        if v.is_null() {
            return Ok(None);
        }
        let quantity = |name: &str| {
            v.get(name)
                .ok_or_else(|| chain_error(CALL, format!("no {name}")))
                .and_then(|q| rpc::parse_quantity(q).map_err(|e| chain_error(CALL, e)))
        };
        let succeeded = quantity("status")? == 1;
        let block = quantity("blockNumber")? as u64;
        let mut logs = Vec::new();
        for log in v
            .get("logs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let address = log
                .get("address")
                .and_then(Value::as_str)
                .and_then(heaven_eth::address::parse)
                .ok_or_else(|| chain_error(CALL, "log without an address"))?;
            let topics = log
                .get("topics")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| t.as_str().and_then(heaven_eth::hex32::parse_b256))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| chain_error(CALL, "malformed log topic"))?;
            let data = log
                .get("data")
                .map(|d| rpc::parse_data(d).map_err(|e| chain_error(CALL, e)))
                .transpose()?
                .unwrap_or_default();
            logs.push(Log {
                address,
                topics,
                data,
            });
        }
        Ok(Some(Receipt {
            succeeded,
            block,
            logs,
        }))
    }
}

/// Registers [`transform`] with a native runtime under [`RPC_TRANSFORM`], as the canister
/// exports it for the IC.
#[cfg(feature = "native")]
pub fn register_native_transform(rt: &canister_runtime::native::NativeRuntime) {
    rt.register_transform(RPC_TRANSFORM, std::sync::Arc::new(transform));
}

/// The outcall transform (exported as the `transform_rpc` query): status kept, headers dropped,
/// body reduced to the canonical JSON-RPC answer; block numbers are floored to the pin
/// granularity and gas prices rounded up to a power of two, so replicas agree.
pub fn transform(response: OutcallResponse, context: &[u8]) -> OutcallResponse {
    let mut body = rpc::canonical_response(&response.body);
    match context.first() {
        Some(&CONTEXT_BLOCK_NUMBER) => {
            body = map_quantity(&body, |n| {
                (n - n % u128::from(BLOCK_PIN_GRANULARITY))
                    .saturating_sub(u128::from(PIN_CONFIRMATIONS))
            })
        }
        Some(&CONTEXT_GAS_PRICE) => {
            body = map_quantity(&body, |n| n.checked_next_power_of_two().unwrap_or(n))
        }
        Some(&CONTEXT_SEND_RAW) if context.len() == 33 => {
            body = same_transaction(&body, &context[1..])
        }
        _ => {}
    }
    OutcallResponse {
        status: response.status,
        headers: Vec::new(),
        body,
    }
}

/// For `eth_sendRawTransaction`: the node's hash, or an error saying it already has this very
/// transaction, both become `{"result":"<hash>"}`. Other errors ("nonce too low", underpriced,
/// ...) stay errors: they may concern another transaction.
fn same_transaction(body: &[u8], hash: &[u8]) -> Vec<u8> {
    let hash_hex = heaven_eth::abi::hex0x(hash);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let ours = v
        .get("result")
        .and_then(Value::as_str)
        .is_some_and(|r| r.eq_ignore_ascii_case(&hash_hex));
    let known = v
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
        .is_some_and(|m| m.contains("already known") || m.contains("known transaction"));
    if ours || known {
        serde_json::to_vec(&json!({ "result": hash_hex })).expect("JSON serializes")
    } else {
        body.to_vec()
    }
}

/// Applies `f` to the quantity of a canonical `{"result":"0x.."}`; anything else (errors,
/// non-quantities) is returned unchanged.
fn map_quantity(body: &[u8], f: impl Fn(u128) -> u128) -> Vec<u8> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let Some(n) = v.get("result").and_then(|r| rpc::parse_quantity(r).ok()) else {
        return body.to_vec();
    };
    serde_json::to_vec(&json!({ "result": format!("{:#x}", f(n)) })).expect("JSON serializes")
}

#[cfg(test)]
mod tests;
