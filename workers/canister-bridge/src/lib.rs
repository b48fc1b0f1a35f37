//! Workers calling canisters over ic-agent (the canister bridge, ADR 0024).
//!
//! - [`BridgeConfig`]: `ICP_URL`, `ICP_NETWORK`, the secp256k1 PEM identity, canister ids and
//!   the call timeout, read once from the environment.
//! - [`CanisterAgent`]: one `ic_agent::Agent` with a timeout on every call; an update is signed
//!   once and, after an ambiguous outcome (timeout, connection lost after submit), its status
//!   is read back by the same request id and the same signed bytes resubmitted, so a retry
//!   never executes it twice.
//! - [`BridgeError`]: unreachable (503 with `Retry-After`), an IC reject, or a protocol
//!   failure; each failure is counted in `canister_bridge_failures_total`.
//! - [`AgentCredits`] implements voice-rooms' `CreditsClient` over the credits canister's
//!   candid (its own types, from `credits_canister::api`), [`AgentIdentity`] the
//!   [`IdentityClient`] over identity's `edge_request` and `identity_of`, [`AgentPublishing`]
//!   the [`PublishingClient`] over identity's publishing signer (`finalize_track`).

mod agent;
mod config;
pub mod credits;
mod error;
mod identity;
mod publishing;

pub use agent::{BridgeConnectError, CanisterAgent, MAX_SUBMISSIONS};
pub use candid::Principal;
pub use config::{BridgeConfig, ConfigError, Network, PemSource};
pub use credits::AgentCredits;
pub use error::{BridgeError, RETRY_AFTER_SECS};
pub use identity::{AgentIdentity, IdentityClient};
pub use publishing::{AgentPublishing, PublishingClient, PublishingError};
