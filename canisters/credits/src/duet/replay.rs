//! One-time replay access: a token the worker hands a viewer (only its sha256 is kept) that
//! lets one fetch of the recording through within 60 seconds. Redeeming deletes it.

use minicbor::{Decode, Encode};

use crate::units::UnixSeconds;
use crate::wallet::Wallet;

/// How long a replay access token is valid.
pub const REPLAY_TOKEN_TTL_SECONDS: u64 = 60;

/// What a replay token opens.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ReplayGrant {
    /// The viewer.
    #[n(0)]
    pub wallet: Wallet,
    /// The recording's URL.
    #[n(1)]
    pub replay_url: String,
    /// Issued at.
    #[n(2)]
    pub created_at: UnixSeconds,
    /// Valid until (exclusive).
    #[n(3)]
    pub expires_at: UnixSeconds,
}

impl ReplayGrant {
    /// Whether the grant can still be redeemed at `now`.
    pub fn is_valid(&self, now: UnixSeconds) -> bool {
        now < self.expires_at
    }
}
