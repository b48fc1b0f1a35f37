//! Ethereum primitives for the identity canister: addresses, EIP-191 and EIP-712 digests,
//! secp256k1 signature recovery and threshold-ECDSA signature shaping, ABI calls of the Heaven
//! contracts, EIP-1559 transactions and JSON-RPC bodies for HTTPS outcalls.
//!
//! Everything here is pure computation: no randomness, no clock, no threads, so the crate
//! builds for `wasm32-unknown-unknown` as well as natively.
#![deny(missing_docs)]

pub mod abi;
pub mod address;
pub mod eip191;
pub mod eip712;
mod error;
pub mod hex32;
pub mod rpc;
pub mod signature;
mod sol_types;
pub mod tx;

pub use alloy_primitives::{Address, B256, U256, keccak256};
pub use error::EthError;
