//! The typed requests checked once, with the original route's messages (contracts §1.11),
//! and their digests (a request id names one request only).

use candid::CandidType;
use heaven_eth::{Address, address};
use sha2::{Digest, Sha256};

use crate::endpoints::publishing::{
    AttestScrobbleBatchRequest, FinalizeTrackRequest, PublishError,
};

/// The contracts' limit on title, artist, album, piece CID and cover reference (bytes).
pub const MAX_FIELD_BYTES: usize = 128;
/// Longest client request id.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

fn invalid(field: &str, reason: impl Into<String>) -> PublishError {
    PublishError::InvalidRequest {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// SHA-256 hex of the request's candid encoding.
pub fn digest<T: CandidType>(request: &T) -> String {
    let bytes = candid::encode_one(request).expect("a request encodes");
    hex::encode(Sha256::digest(bytes))
}

/// Checks a client request id.
pub fn request_id(id: &str) -> Result<(), PublishError> {
    if id.trim().is_empty() || id.chars().count() > MAX_REQUEST_ID_CHARS {
        return Err(invalid(
            "request_id",
            format!("request_id must be 1-{MAX_REQUEST_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

fn address_field(field: &str, value: &str, message: &str) -> Result<Address, PublishError> {
    address::parse(value.trim()).ok_or_else(|| invalid(field, message))
}

/// A `finalize_track` request whose fields passed the original's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidFinalize {
    /// Content owner.
    pub user: Address,
    /// Trimmed title.
    pub title: String,
    /// Trimmed artist.
    pub artist: String,
    /// Trimmed album (may be empty).
    pub album: String,
    /// Seconds.
    pub duration_s: u32,
    /// 1–128 bytes.
    pub piece_cid: Vec<u8>,
    /// Dataset owner.
    pub dataset_owner: Address,
    /// 1–255.
    pub algo: u8,
    /// Cover reference (≤ 128 bytes), if any.
    pub cover_ref: Option<String>,
}

impl ValidFinalize {
    /// Checks `request` in the original's order.
    pub fn parse(request: &FinalizeTrackRequest) -> Result<Self, PublishError> {
        request_id(&request.request_id)?;
        let user = address_field("user", &request.user, "user must be a valid 0x address")?;
        let title = request.title.trim().to_string();
        let artist = request.artist.trim().to_string();
        let album = request.album.trim().to_string();
        if title.is_empty() {
            return Err(invalid("title", "title is required"));
        }
        if artist.is_empty() {
            return Err(invalid("artist", "artist is required"));
        }
        for (field, value) in [("title", &title), ("artist", &artist), ("album", &album)] {
            if value.len() > MAX_FIELD_BYTES {
                return Err(invalid(
                    field,
                    format!("{field} exceeds 128-byte UTF-8 contract limit"),
                ));
            }
        }
        if request.piece_cid.is_empty() {
            return Err(invalid("piece_cid", "pieceCid is empty"));
        }
        if request.piece_cid.len() > MAX_FIELD_BYTES {
            return Err(invalid(
                "piece_cid",
                "pieceCid exceeds 128-byte on-chain limit",
            ));
        }
        let dataset_owner = address_field(
            "dataset_owner",
            &request.dataset_owner,
            "datasetOwner must be a valid 0x address when provided",
        )?;
        if request.algo == 0 {
            return Err(invalid("algo", "algo must be an integer between 1 and 255"));
        }
        // The original skips a cover reference longer than the contract takes.
        let cover_ref = request
            .cover_ref
            .as_ref()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty() && c.len() <= MAX_FIELD_BYTES);
        Ok(Self {
            user,
            title,
            artist,
            album,
            duration_s: request.duration_s,
            piece_cid: request.piece_cid.clone(),
            dataset_owner,
            algo: request.algo,
            cover_ref,
        })
    }
}

/// An `attest_scrobble_batch` request that passed its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidAttestation {
    /// The recipient.
    pub user: Address,
    /// Seconds.
    pub start_ts: u64,
    /// Seconds.
    pub end_ts: u64,
    /// Tracks.
    pub count: u32,
    /// Load data-item id.
    pub cid: String,
}

impl ValidAttestation {
    /// Checks `request`.
    pub fn parse(request: &AttestScrobbleBatchRequest) -> Result<Self, PublishError> {
        request_id(&request.request_id)?;
        let user = address_field("user", &request.user, "user must be a valid 0x address")?;
        if request.cid.trim().is_empty() {
            return Err(invalid("cid", "cid is required"));
        }
        if request.count == 0 {
            return Err(invalid("count", "count must be positive"));
        }
        if request.end_ts < request.start_ts {
            return Err(invalid("end_ts", "end_ts must not be before start_ts"));
        }
        Ok(Self {
            user,
            start_ts: request.start_ts,
            end_ts: request.end_ts,
            count: request.count,
            cid: request.cid.trim().to_string(),
        })
    }
}
