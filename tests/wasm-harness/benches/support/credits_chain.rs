//! Driving the credits canister over candid, shared by `tests/credits_scenarios.rs` and
//! `benches/credits_instructions.rs`: install, a worker principal, and a fake Tempo JSON-RPC
//! node answering the escrow reads, fees and nonces and capturing the sent transactions.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use candid::Principal;
use credits_canister::endpoints::CallError;
use credits_canister::lifecycle::InitArg;
use credits_canister::state::ChainConfig;
use heaven_eth::abi::{
    Booking, Slot, SolCall, U48, getBookingCall, getSlotCall, hex0x, primaryNameCall,
    verifiedAtCall,
};
use heaven_eth::{Address, B256, U256};
use ic_wasm_harness::{
    Harness, OutcallHandler, OutcallResponse, Scenario, ScenarioExt, canister_wasm,
};
use serde_json::{Value, json};

/// The escrow the chain config names.
pub const ESCROW: &str = "0xF3B4DB746a874A2197ae21C857e1Ca692C6ED059";
/// The slot's host.
pub const HOST: &str = "0x00000000000000000000000000000000000000a1";
/// The booking's guest.
pub const GUEST: &str = "0x00000000000000000000000000000000000000b2";
/// Gas price the fake node reports (wei).
pub const GAS_PRICE: u64 = 1 << 20;

/// The shipped credits wasm.
pub fn credits_wasm() -> Vec<u8> {
    canister_wasm("credits").unwrap_or_else(|e| panic!("{e}"))
}

/// The worker principal the scenarios list.
pub fn worker() -> Principal {
    Principal::from_slice(&[7; 29])
}

/// Installs the credits canister with `dfx_test_key`, lists [`worker`] and sets a live chain
/// config pointing at the fake node with the attestation on.
pub fn install_credits(s: &mut dyn Scenario) -> Principal {
    let c = s
        .install_with(
            &credits_wasm(),
            &InitArg {
                ecdsa_key_name: "dfx_test_key".into(),
            },
        )
        .unwrap_or_else(|e| panic!("installing credits on {}: {e}", s.backend()));
    let controller = Harness::controller();
    let set: Result<(), CallError> = s
        .update_as(c, controller, "set_workers", (vec![worker().to_text()],))
        .unwrap();
    assert_eq!(set, Ok(()));
    let config = ChainConfig {
        rpc_url: "https://tempo.fake/rpc".into(),
        escrow: ESCROW.into(),
        attestation_enabled: true,
        ..ChainConfig::default()
    };
    let set: Result<(), CallError> = s
        .update_as(c, controller, "set_chain_config", (config,))
        .unwrap();
    assert_eq!(set, Ok(()));
    c
}

/// The booking and slot the fake escrow answers for every id: booked, starting at
/// `slot_start`, 30 minutes, grace 5, overlap 10.
#[derive(Clone, Copy, Debug)]
pub struct FakeEscrow {
    /// Slot start (Unix seconds).
    pub slot_start: u64,
}

/// What the fake node saw.
#[derive(Default)]
pub struct NodeLog {
    /// `eth_sendRawTransaction` payloads.
    pub sent: Vec<Vec<u8>>,
    /// Methods called, in order.
    pub methods: Vec<String>,
}

/// A fake Tempo node for `escrow`.
pub fn fake_node(escrow: FakeEscrow, log: Arc<Mutex<NodeLog>>) -> OutcallHandler {
    Box::new(move |request| {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON-RPC request");
        let method = body["method"].as_str().unwrap_or_default().to_string();
        let result = match method.as_str() {
            "eth_blockNumber" => json!("0x3e8"),
            "eth_gasPrice" => json!(format!("{GAS_PRICE:#x}")),
            "eth_getTransactionCount" => json!("0x5"),
            "eth_sendRawTransaction" => {
                let raw = hex::decode(body["params"][0].as_str().unwrap().trim_start_matches("0x"))
                    .unwrap();
                let hash = heaven_eth::keccak256(&raw);
                log.lock().unwrap().sent.push(raw);
                json!(hex0x(hash.as_slice()))
            }
            "eth_call" => {
                let data = body["params"][0]["data"].as_str().unwrap_or_default();
                let bytes = hex::decode(data.trim_start_matches("0x")).unwrap();
                let selector: [u8; 4] = bytes[..4].try_into().unwrap();
                let returns = match selector {
                    getBookingCall::SELECTOR => getBookingCall::abi_encode_returns(&booking()),
                    getSlotCall::SELECTOR => getSlotCall::abi_encode_returns(&slot(escrow)),
                    primaryNameCall::SELECTOR => primaryNameCall::abi_encode_returns(
                        &heaven_eth::abi::RegistryV1::primaryNameReturn {
                            label: "alice".into(),
                            parentNode: B256::ZERO,
                        },
                    ),
                    verifiedAtCall::SELECTOR => verifiedAtCall::abi_encode_returns(&0u64),
                    other => panic!("unexpected eth_call selector {}", hex::encode(other)),
                };
                json!(hex0x(&returns))
            }
            other => panic!("unexpected JSON-RPC method {other}"),
        };
        log.lock().unwrap().methods.push(method);
        Ok(OutcallResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "result": result}))
                .unwrap(),
        })
    })
}

fn address(text: &str) -> Address {
    heaven_eth::address::parse(text).unwrap()
}

/// The fake booking.
pub fn booking() -> Booking {
    Booking {
        slotId: U256::from(3u8),
        guest: address(GUEST),
        amount: U256::from(1000u32),
        status: 1,
        oracleOutcome: 0,
        metricsHash: B256::ZERO,
        attestedAt: 0,
        finalizableAt: 0,
        challenger: Address::ZERO,
        bondAmount: U256::ZERO,
        disputedAt: 0,
    }
}

/// The fake slot.
pub fn slot(escrow: FakeEscrow) -> Slot {
    Slot {
        host: address(HOST),
        startTime: U48::from(escrow.slot_start),
        durationMins: 30,
        price: U256::ZERO,
        graceMins: 5,
        minOverlapMins: 10,
        cancelCutoffMins: 30,
        status: 1,
    }
}

/// The scenario's clock in whole seconds.
pub fn now_secs(s: &dyn Scenario) -> u64 {
    s.time_nanos() / 1_000_000_000
}
