//! The `identity` canister: api-core's claim, names, names-policy and wallet routes on ICP,
//! signed with threshold ECDSA.
//!
//! Shaped like the ckETH minter: the `#[ic_cdk::*]` entry points live in [`canister`] alone and
//! stay thin (decode, check the caller through the runtime, call a module, encode); the logic
//! is plain Rust over [`canister_runtime::Runtime`] and the stable [`state`], which changes
//! only through events ([`state::audit::process_event`]). The same [`router`] answers the
//! canister's HTTP [`gateway`] and, natively, the local stack ([`native`]). Modules import
//! downward or sideways, never from the entry points.

pub mod admin;
pub mod api;
pub mod canister;
pub mod chain;
pub mod claim;
pub mod dating;
pub mod endpoints;
pub mod gateway;
pub mod import;
pub mod lifecycle;
pub mod names;
#[cfg(feature = "native")]
pub mod native;
pub mod primitives;
pub mod publishing;
pub mod router;
pub mod secret;
pub mod selfxyz;
pub mod signer;
pub mod state;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod time;
pub mod wallet;
