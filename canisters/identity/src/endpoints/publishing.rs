//! Candid types of the publishing signer's methods (`finalize_track`,
//! `attest_scrobble_batch`, `publisher_addresses`), shared with the workers' client
//! (`canister_bridge::PublishingClient`). Requests are typed: the canister builds every
//! transaction from their fields, never signs bytes it is handed.

use candid::{CandidType, Deserialize};
use minicbor::{Decode, Encode};

/// `finalize_track`: register a published track on Tempo (api-core's
/// `POST /api/music/publish/:jobId/finalize`, contracts §6.7).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct FinalizeTrackRequest {
    /// The client's request id (the media worker uses the job id): a retry with the same id
    /// never sends a transaction twice, and once finalized answers the same reply.
    pub request_id: String,
    /// The publisher (content owner), `0x` address.
    pub user: String,
    /// Title as the user typed it (trimmed here; ≤ 128 UTF-8 bytes).
    pub title: String,
    /// Artist (same rules).
    pub artist: String,
    /// Album, may be empty (same rules).
    pub album: String,
    /// Duration in seconds (0 when unknown).
    pub duration_s: u32,
    /// The content's piece CID bytes (1–128): the staged Load id's UTF-8 bytes, or the bytes
    /// of a `0x` value.
    pub piece_cid: Vec<u8>,
    /// Dataset owner, `0x` address (the user unless the client named another).
    pub dataset_owner: String,
    /// Piece CID algorithm (1–255).
    pub algo: u8,
    /// Cover reference for `setTrackCoverBatch` (`ls3://<cover id>`, ≤ 128 bytes), if the job
    /// has a staged cover.
    pub cover_ref: Option<String>,
}

/// What `finalize_track` did: the fields of the finalize route's `registration`.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize, Encode, Decode)]
pub struct FinalizeTrackReply {
    /// Tempo chain id.
    #[n(0)]
    pub chain_id: u64,
    /// `0x` track id (kind 3, metadata payload).
    #[n(1)]
    pub track_id: String,
    /// `0x` payload: keccak256 of the normalised (title, artist, album).
    #[n(2)]
    pub track_payload: String,
    /// `0x` content id: keccak256(trackId, user).
    #[n(3)]
    pub content_id: String,
    /// `registerTracksBatch` transaction, when this request registered the track.
    #[n(4)]
    pub scrobble_tx_hash: Option<String>,
    /// `registerContentFor` transaction, when this request registered the content.
    #[n(5)]
    pub content_tx_hash: Option<String>,
    /// `setTrackCoverBatch` transaction, when it succeeded.
    #[n(6)]
    pub cover_tx_hash: Option<String>,
    /// The content transaction, else the track transaction (`None` when both existed).
    #[n(7)]
    pub tempo_tx_hash: Option<String>,
    /// Whether this request registered the track (false when it already was).
    #[n(8)]
    pub track_registered: bool,
    /// Whether this request registered the content (false when it already was).
    #[n(9)]
    pub content_registered: bool,
    /// Whether the track has a cover on-chain after the best-effort cover write.
    #[n(10)]
    pub cover_set: bool,
}

/// `attest_scrobble_batch`: the EAS attestation of one uploaded scrobble batch (api-core's
/// `POST /api/scrobble/submit`, contracts §1.6 and §3.6).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct AttestScrobbleBatchRequest {
    /// The client's request id (the batch's CID serves): retries never attest twice.
    pub request_id: String,
    /// The scrobbler, `0x` address (the attestation's recipient).
    pub user: String,
    /// First `playedAt` of the batch (seconds).
    pub start_ts: u64,
    /// Last `playedAt` of the batch (seconds).
    pub end_ts: u64,
    /// Tracks in the batch.
    pub count: u32,
    /// The batch's Load data-item id.
    pub cid: String,
}

/// What `attest_scrobble_batch` did.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize, Encode, Decode)]
pub struct AttestScrobbleBatchReply {
    /// `0x` attestation UID (from the `Attested` log; zero when the receipt had none).
    #[n(0)]
    pub attestation_uid: String,
    /// `0x` transaction hash.
    #[n(1)]
    pub tx_hash: String,
}

/// `register_story_ip`: mint and register a published track as a Story IP asset (api-core's
/// `POST /api/music/publish/:jobId/register`, contracts §6.6), paid by the story-sponsor role.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct RegisterStoryIpRequest {
    /// The client's request id (the job id): retries never mint twice.
    pub request_id: String,
    /// Who receives the NFT, `0x` address.
    pub recipient: String,
    /// `ar://…` URI of the IP metadata.
    pub ip_metadata_uri: String,
    /// `0x` SHA-256 of the IP metadata bytes.
    pub ip_metadata_hash: String,
    /// `ar://…` URI of the NFT metadata.
    pub nft_metadata_uri: String,
    /// `0x` SHA-256 of the NFT metadata bytes.
    pub nft_metadata_hash: String,
    /// Whether the same metadata may be registered again (the route's default true).
    pub allow_duplicates: bool,
    /// Original terms or derivative links.
    pub terms: StoryTerms,
}

/// What an IP is registered with.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub enum StoryTerms {
    /// An original: commercial-remix PIL terms attached (LAP royalty policy, WIP currency).
    Original {
        /// Percent (0–100) of revenue shared with the original.
        commercial_rev_share: u8,
        /// Minting fee in wei, decimal.
        default_minting_fee: String,
    },
    /// A derivative or cover of parents under their terms.
    Derivative {
        /// The parents' IP ids (`0x` addresses).
        parent_ip_ids: Vec<String>,
        /// The parents' license terms ids, decimal, one per parent.
        license_terms_ids: Vec<String>,
        /// The license template (`0x` address).
        license_template: String,
        /// Royalty context bytes.
        royalty_context: Vec<u8>,
        /// Most minting fee paid (wei, decimal).
        max_minting_fee: String,
        /// Most royalty tokens.
        max_rts: u32,
        /// Most revenue share.
        max_revenue_share: u32,
    },
}

/// What `register_story_ip` did: the route's `registration`.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize, Encode, Decode)]
pub struct RegisterStoryIpReply {
    /// `0x` transaction hash.
    #[n(0)]
    pub tx_hash: String,
    /// The block it was mined in.
    #[n(1)]
    pub block_number: u64,
    /// The IP id (EIP-55).
    #[n(2)]
    pub ip_id: String,
    /// The minted token id, decimal.
    #[n(3)]
    pub token_id: String,
    /// The license terms attached to the IP, decimal.
    #[n(4)]
    pub license_terms_ids: Vec<String>,
}

/// A finished publication's reply, as kept for retries.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum PublicationReply {
    /// `finalize_track`'s.
    #[n(0)]
    FinalizeTrack(#[n(0)] FinalizeTrackReply),
    /// `attest_scrobble_batch`'s.
    #[n(1)]
    AttestScrobbleBatch(#[n(0)] AttestScrobbleBatchReply),
    /// `register_story_ip`'s.
    #[n(2)]
    RegisterStoryIp(#[n(0)] RegisterStoryIpReply),
}

/// Why a publication was refused or failed.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize, thiserror::Error)]
pub enum PublishError {
    /// The caller is neither a listed publisher nor a controller.
    #[error("caller may not publish")]
    NotAuthorized,
    /// The chain settings are disabled or malformed (the original's "... is not configured").
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// A request field is invalid (the route's 400 text).
    #[error("{field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: String,
        /// Why, as the original's message says it.
        reason: String,
    },
    /// The request id was used before for a different request.
    #[error("request id {0} was used for a different request")]
    RequestIdReused(String),
    /// A call with this request id is running; ask again later.
    #[error("request {0} is in progress")]
    InProgress(String),
    /// A chain read or write failed (the route's 502 "... failed" with these details).
    #[error("{0}")]
    Failed(String),
}

/// The Ethereum addresses of the publishing roles (fund them; authorise the operator on
/// ScrobbleV4 and the sponsor on ContentRegistry).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct PublisherAddresses {
    /// Signs ScrobbleV4 writes (`heaven/tempo-operator/v1`).
    pub tempo_operator: String,
    /// Signs ContentRegistry writes (`heaven/tempo-sponsor/v1`).
    pub tempo_sponsor: String,
    /// Signs EAS scrobble attestations (`heaven/scrobble-attester/v1`).
    pub scrobble_attester: String,
    /// Pays Story registrations (`heaven/story-sponsor/v1`).
    pub story_sponsor: String,
}
