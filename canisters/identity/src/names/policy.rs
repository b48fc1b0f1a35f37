//! The names policy: `POST /api/names/challenge` hands out proof-of-work challenges and
//! `POST /api/names/permit` issues NamePermits for the on-chain Tempo names store, signed with
//! the canister's threshold-ECDSA policy key instead of `TEMPO_POLICY_SIGNER_PRIVATE_KEY`.
//!
//! Short labels (≤ 5 chars) need a Self-verified wallet (nullifier) and a paid quote under the
//! lifetime cap; long labels need a solved challenge and stay under the per-wallet, per-IP and
//! per-device limits of a sliding 10-minute window.
//!
//! Differences from the original, on purpose: a body that is not JSON (or fields of the wrong
//! JSON type) get a 400 instead of a 500; the challenge is only burned once the permit is
//! actually issued (the original burned it before the `maxPrice` check); the rate limits and
//! the challenge are re-checked atomically after the chain reads, so concurrent requests
//! cannot overshoot them; and the wallet limit counts a request toward the wallet's own window
//! only when the wallet signed it (`walletSignature` over [`proof_message`]), otherwise toward
//! the window of the wallet as asked for by that client (docs/adr/0010-permit-wallet-limit.md).
//!
//! [`config`] validates the settings, [`challenge`] and [`permit`] are the routes (the permit
//! in named stages), [`quote`] reads the store and registry, [`identity`] imports the Self
//! credentials, [`signer_route`] answers which address signs.

mod challenge;
mod config;
mod identity;
mod permit;
mod quote;
mod signer_route;

pub use challenge::challenge;
pub use config::{ConfigError, validate_config};
pub use identity::{check_identity, import_identity, upsert_identity};
pub use permit::{permit, proof_message};
pub use signer_route::{signer_info, signer_info_cached};

use crate::api::ApiError;
use crate::state::{State, keys};

/// Labels up to this length are short names (SHORT_SELF).
pub const SHORT_NAME_MAX_LEN: usize = 5;
/// Lifetime short-name purchases per nullifier.
pub const SHORT_NAME_CAP: u16 = 3;
/// Minimum permit duration (and the default).
pub const ONE_YEAR_SECONDS: u64 = 365 * 24 * 60 * 60;
/// The sliding window of the long-name rate limits.
pub const RATE_LIMIT_WINDOW_SECONDS: u64 = 10 * 60;
/// AlphaUSD, the token the store is paid in (reported in quotes).
pub const PAYMENT_TOKEN: &str = "0x20C0000000000000000000000000000000000001";
/// Expired challenges are kept this long after expiry (for late "expired" answers), then swept.
pub const CHALLENGE_RETENTION_SECONDS: u64 = 3600;

fn bad_json() -> ApiError {
    // The original let the JSON parser throw (500); a malformed body is the client's error.
    ApiError::error(400, "Invalid JSON body")
}

/// Permits in `kind`'s window of `value` issued at or after `since`.
fn count_since(s: &State, kind: char, value: &str, since: u64) -> u64 {
    let (prefix, start) = keys::window_range(kind, value, since);
    s.permit_windows()
        .keys_range(start..)
        .take_while(|k| k.starts_with(&prefix))
        .filter(|k| keys::is_window_tail(&k[prefix.len()..]))
        .count() as u64
}

#[cfg(test)]
mod tests;
