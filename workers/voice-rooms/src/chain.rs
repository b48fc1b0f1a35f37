//! Contract reads over JSON-RPC `eth_call` at the latest block (no key): the escrow reads of
//! the booked sessions and the EIP-3009 read of the duet rooms' settlement reconciliation.

use std::time::Duration;

use heaven_eth::Address;
use heaven_eth::abi::SolCall;
use heaven_eth::rpc::{BlockTag, eth_call_params, parse_data, parse_result, request_body};

/// How long one read may take.
const RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// A node's JSON-RPC endpoint for `eth_call`s.
#[derive(Clone, Debug)]
pub struct EthReader {
    http: reqwest::Client,
    rpc_url: String,
}

impl EthReader {
    /// Reads through `rpc_url`.
    pub fn new(rpc_url: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(RPC_TIMEOUT)
                .build()
                .unwrap_or_default(),
            rpc_url: rpc_url.to_owned(),
        }
    }

    /// `call` on the contract at `to`, decoded; `Err` names what failed (the node, its
    /// answer, or the decoding).
    pub async fn call<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return, String> {
        let body = request_body(
            "eth_call",
            eth_call_params(&to, &call.abi_encode(), BlockTag::Latest),
        );
        let response = self
            .http
            .post(&self.rpc_url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let result = parse_result(&bytes).map_err(|e| e.to_string())?;
        let data = parse_data(&result).map_err(|e| e.to_string())?;
        C::abi_decode_returns(&data).map_err(|e| e.to_string())
    }
}
