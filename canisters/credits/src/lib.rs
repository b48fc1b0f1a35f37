//! The `credits` canister: voice-control-plane's money-like state on ICP. The session-credit
//! ledger (base grant for a `.heaven` name, Celo bonus, metering by watermark), the duet rooms'
//! entitlements, settlement markers and replay tokens, booked-session presence and the
//! attestation sweep on a timer, signed with threshold ECDSA.
//!
//! Shaped like the ckETH minter: the `#[ic_cdk::*]` entry points live in [`canister`] alone and
//! stay thin; the logic is plain Rust over [`canister_runtime::Runtime`] and the stable
//! [`state`], which changes only through events ([`state::audit::process_event`]). The domain
//! rules are pure modules ([`ledger`], [`metering`], [`duet`], [`presence`], [`attestation`]);
//! the settlement and attestation receipts are anchored on Arweave through a worker outcall
//! ([`anchor`]);
//! the operations apply them to the state ([`grants`], [`usage`], [`payments`], [`sessions`],
//! [`admin`]). Natively the same code serves the local stack ([`native`]).

pub mod access;
pub mod admin;
pub mod anchor;
pub mod api;
pub mod attestation;
// The entry points export `canister_*` symbols: only in the wasm, so native builds that link
// several canister crates (the local stack) do not clash.
#[cfg(target_arch = "wasm32")]
pub mod canister;
pub mod chain;
pub mod duet;
pub mod endpoints;
pub mod grants;
pub mod ledger;
pub mod lifecycle;
pub mod metering;
#[cfg(feature = "native")]
pub mod native;
pub mod oracle;
pub mod payments;
pub mod presence;
pub mod sessions;
pub mod state;
pub mod units;
pub mod usage;
pub mod wallet;
