//! EVM chains from a canister, shared by the identity and credits canisters: JSON-RPC over the
//! runtime's HTTP outcalls with a transform that makes replicas agree ([`chain`]), EIP-1559 fee
//! caps ([`fees`]), threshold-ECDSA Ethereum keys ([`signer`]) and transactions sent from them
//! ([`sender`]).
#![deny(missing_docs)]

pub mod chain;
pub mod fees;
pub mod sender;
pub mod signer;

pub use chain::{Chain, ChainError, RPC_TRANSFORM};
pub use signer::{PublicKeyCache, SignerError, ThresholdKey};
