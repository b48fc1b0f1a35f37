//! The songs registry (`/songs/*`): which Story IP a song is and where its upstream royalties
//! are paid, as attested by the IP's controller with an EIP-712 `StoryPayoutAttestation`.
//! Rows live in the `song_registry` table ([`SongRegistry`]); text is normalised the way the
//! original's JavaScript did it ([`text`]).

mod store;
pub mod text;

pub use store::{Inserted, SEARCH_LIMIT, SongRegistry};

use heaven_eth::{Address, U256, eip712};
use serde::Serialize;

/// The only payout chain the registry accepts (Base Sepolia), also the EIP-712 domain's chain.
pub const PAYOUT_CHAIN_ID: u64 = 84532;

/// A whole `song_registry` row, serialised in the table's column order (`GET /songs/:id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Song {
    /// UUID v4.
    pub song_id: String,
    /// As given (trimmed, at most 256 UTF-16 units).
    pub title: String,
    /// As given (trimmed, at most 256 UTF-16 units).
    pub artist: String,
    /// [`text::normalise`] of the title.
    pub title_norm: String,
    /// [`text::normalise`] of the artist.
    pub artist_norm: String,
    /// The Story IP id (unique; trimmed, case kept).
    pub story_ip_id: String,
    /// Lowercase address that signed the payout attestation.
    pub controller_wallet: String,
    /// Always [`PAYOUT_CHAIN_ID`].
    pub payout_chain_id: i64,
    /// Lowercase payout address.
    pub payout_address: String,
    /// Upstream royalty in basis points, 0..=10000.
    pub default_upstream_bps: i64,
    /// The attestation signature as sent (`0x` + 130 hex digits).
    pub payout_attestation_sig: String,
    /// Optional license preset (at most 128 UTF-16 units).
    pub license_preset_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A search hit: the columns `GET /songs/search` selects, in its order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SongSummary {
    /// UUID v4.
    pub song_id: String,
    /// Title.
    pub title: String,
    /// Artist.
    pub artist: String,
    /// Story IP id.
    pub story_ip_id: String,
    /// Payout chain.
    pub payout_chain_id: i64,
    /// Payout address.
    pub payout_address: String,
    /// Basis points.
    pub default_upstream_bps: i64,
    /// License preset.
    pub license_preset_id: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Whether `signature` (`0x` + 130 hex digits, `v` in {0, 1, 27, 28}) over the
/// `StoryPayoutAttestation {story_ip_id, payout_chain_id, payout_address, upstream_bps}` in
/// the `HeavenSongRegistry` domain of `payout_chain_id` recovers to `controller`. Anything
/// unreadable is `false`, as viem's `verifyTypedData` in a `try` was.
pub fn payout_attestation_signed_by(
    controller: &Address,
    story_ip_id: &str,
    payout_chain_id: u64,
    payout_address: &Address,
    upstream_bps: u64,
    signature: &str,
) -> bool {
    let Some(bytes) = signature
        .strip_prefix("0x")
        .and_then(|digits| hex::decode(digits).ok())
    else {
        return false;
    };
    let attestation = eip712::StoryPayoutAttestation {
        storyIpId: story_ip_id.to_owned(),
        payoutChainId: U256::from(payout_chain_id),
        payoutAddress: *payout_address,
        upstreamRoyaltyBps: U256::from(upstream_bps),
    };
    let digest = eip712::story_payout_digest(&attestation, payout_chain_id);
    heaven_eth::signature::recover_prehash(&digest, &bytes)
        .is_ok_and(|signer| signer == *controller)
}
