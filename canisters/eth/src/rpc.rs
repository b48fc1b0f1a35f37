//! Ethereum JSON-RPC over HTTPS outcalls: request bodies, the canonical response form every
//! replica agrees on, and parsing of results.

use alloy_primitives::Address;
use serde_json::{Map, Value, json};

use crate::{EthError, abi::hex0x, address};

#[cfg(test)]
mod tests;

/// JSON-RPC "parse error" code, used for bodies that are not JSON-RPC responses.
const PARSE_ERROR: i64 = -32700;
/// Message of the canonical body for bodies that are not JSON-RPC responses.
const INVALID_RESPONSE: &str = "invalid JSON-RPC response";

/// The block an `eth_call` runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTag {
    /// The node's latest block (`"latest"`).
    Latest,
    /// A block number (sent as a `0x` quantity).
    Number(u64),
}

impl BlockTag {
    fn to_json(self) -> Value {
        match self {
            BlockTag::Latest => Value::from("latest"),
            BlockTag::Number(n) => Value::from(format!("0x{n:x}")),
        }
    }
}

/// JSON-RPC 2.0 request body `{"jsonrpc":"2.0","id":1,"method":..,"params":..}` as bytes.
pub fn request_body(method: &str, params: Value) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    serde_json::to_vec(&body).expect("a JSON value always serializes")
}

/// `eth_call` params: `[{"to": lowercase address, "data": 0x-hex}, block]`.
pub fn eth_call_params(to: &Address, data: &[u8], block: BlockTag) -> Value {
    json!([{"to": address::to_lower_hex(to), "data": hex0x(data)}, block.to_json()])
}

/// The canonical form of a JSON-RPC response, for an outcall transform: only `result`, or
/// `error.{code, message}`, with object keys sorted and no whitespace (`id`, `jsonrpc` and any
/// other field dropped), so every replica sees identical bytes. A body that is not a JSON-RPC
/// response becomes `{"error":{"code":-32700,"message":"invalid JSON-RPC response"}}`.
pub fn canonical_response(body: &[u8]) -> Vec<u8> {
    let canonical = match parse_response(body) {
        Ok(result) => json!({"result": sorted(result)}),
        Err((code, message)) => json!({"error": {"code": code, "message": message}}),
    };
    serde_json::to_vec(&canonical).expect("a JSON value always serializes")
}

/// Parses a (canonical or raw) response: `Ok(result)`, or [`EthError::Rpc`] with the node's
/// error (code -32700 if the body is not a JSON-RPC response).
pub fn parse_result(body: &[u8]) -> Result<Value, EthError> {
    parse_response(body).map_err(|(code, message)| EthError::Rpc { code, message })
}

/// A quantity result (`"0x1a"` -> 26), as `eth_blockNumber`, `eth_getTransactionCount` and gas
/// price calls return: `0x` and 1 to 32 significant hex digits.
pub fn parse_quantity(v: &Value) -> Result<u128, EthError> {
    let s = v
        .as_str()
        .ok_or(EthError::InvalidResult("quantity is not a string"))?;
    let digits = s
        .strip_prefix("0x")
        .ok_or(EthError::InvalidResult("quantity lacks 0x"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EthError::InvalidResult("quantity is not hex"));
    }
    u128::from_str_radix(digits, 16).map_err(|_| EthError::InvalidResult("quantity overflows u128"))
}

/// The bytes of a data result (`"0x..."`, even number of hex digits), as `eth_call` returns.
pub fn parse_data(v: &Value) -> Result<Vec<u8>, EthError> {
    let s = v
        .as_str()
        .ok_or(EthError::InvalidResult("data is not a string"))?;
    let digits = s
        .strip_prefix("0x")
        .ok_or(EthError::InvalidResult("data lacks 0x"))?;
    hex::decode(digits).map_err(|_| EthError::InvalidResult("data is not hex"))
}

/// The `result` of a response, or its error's `(code, message)`.
fn parse_response(body: &[u8]) -> Result<Value, (i64, String)> {
    let invalid = || (PARSE_ERROR, INVALID_RESPONSE.to_owned());
    let Ok(Value::Object(mut response)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid());
    };
    match response.remove("error") {
        None | Some(Value::Null) => response.remove("result").ok_or_else(invalid),
        Some(Value::Object(error)) => {
            let code = error
                .get("code")
                .and_then(Value::as_i64)
                .ok_or_else(invalid)?;
            let message = match error.get("message") {
                Some(Value::String(m)) => m.clone(),
                _ => String::new(),
            };
            Err((code, message))
        }
        Some(_) => Err(invalid()),
    }
}

/// The value with every object's keys in sorted order, whatever map serde_json was built with.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
