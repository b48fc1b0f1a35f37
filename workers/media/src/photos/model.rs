//! The photo pipeline's records in the [`portability::StateStore`] (the original's D1 tables
//! `photo_jobs`, `user_photos`, `anime_assets`, `photo_access`, `photo_source_tokens`,
//! contracts/api-core.md §2.6) and the object names of §5.4, kept so a bucket copy migrates as
//! is.

use serde::{Deserialize, Serialize};

/// A pipeline job's status (`photo_jobs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Accepted, not started.
    Pending,
    /// A step is running (or will be resumed).
    Processing,
    /// Tiles stored.
    Completed,
    /// Stopped with `error_message`.
    Failed,
}

impl JobStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Whether nothing more happens to the job.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// The step a job is at (`photo_jobs.step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStep {
    /// Sanitizing the four uploads into `orig/…`.
    Upload,
    /// Waiting for fal's anime grid.
    Fal,
    /// Splitting the grid into tiles.
    Split,
    /// Finished.
    Done,
}

impl JobStep {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Fal => "fal",
            Self::Split => "split",
            Self::Done => "done",
        }
    }
}

/// A run's hold on a job: only the holder advances it; an expired one may be taken over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLease {
    /// The run's random token.
    pub owner: String,
    /// Expiry, seconds.
    pub until: i64,
}

/// One pipeline job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoJob {
    /// `jobId` (a UUID).
    pub job_id: String,
    /// The uploader's lowercase address.
    pub user_id: String,
    /// Status.
    pub status: JobStatus,
    /// Step.
    pub step: JobStep,
    /// Why it failed.
    pub error_message: Option<String>,
    /// The four photo ids, chosen when the job is accepted (slots 1–4).
    pub photo_ids: Vec<String>,
    /// The tile URLs once completed.
    pub anime_tiles: Option<Vec<String>>,
    /// fal's queue request id once submitted.
    pub fal_request_id: Option<String>,
    /// fal's status URL (from the submission).
    pub fal_status_url: Option<String>,
    /// fal's response URL (from the submission).
    pub fal_response_url: Option<String>,
    /// The origin fal fetches sources from and tile URLs name.
    pub origin: String,
    /// Seconds.
    pub created_at: i64,
    /// Seconds.
    pub updated_at: i64,
    /// The run holding the job.
    pub lease: Option<RunLease>,
}

/// A sanitized photo (`user_photos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPhoto {
    /// `photo_id` (a UUID).
    pub photo_id: String,
    /// Owner's address.
    pub user_id: String,
    /// 1–4.
    pub slot: u8,
    /// `orig/<user>/<photoId>.jpg` in the hot store.
    pub orig_key: String,
    /// Seconds.
    pub created_at: i64,
}

/// A user's anime tiles (`anime_assets`): names kept as the original's R2 keys, bytes in the
/// blob store by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnimeAssets {
    /// Owner's address.
    pub user_id: String,
    /// `anime/grid/<user>.png` in the hot store.
    pub grid_key: String,
    /// `anime/tiles/<user>/<slot>.webp`, slots 1–4 (the blob store's logical keys).
    pub tile_keys: Vec<String>,
    /// The tiles' blob ids.
    pub tile_ids: Vec<String>,
    /// The fal request that drew them.
    pub fal_request_id: Option<String>,
    /// Seconds.
    pub created_at: i64,
    /// Seconds.
    pub updated_at: i64,
}

/// A viewer's access to one photo (`photo_access`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoAccess {
    /// `access_id` (a UUID).
    pub access_id: String,
    /// The match that granted it.
    pub match_id: String,
    /// The photo.
    pub photo_id: String,
    /// Its owner.
    pub owner_user_id: String,
    /// The viewer.
    pub viewer_user_id: String,
    /// The viewer's wallet as given.
    pub viewer_wallet_full: String,
    /// The same (the original's "short" form is the full address).
    pub viewer_wallet_short: String,
    /// HMAC of `<matchId>|<photoId>|<viewerWallet>` (§5.1).
    pub fingerprint_code: String,
    /// `wm/tiles/<viewer>/<match>.png`.
    pub wm_tile_key: Option<String>,
    /// `reveal/<photoId>/<viewer>.webp` once revealed.
    pub variant_key: Option<String>,
    /// Seconds.
    pub created_at: i64,
}

/// A one-time source URL token (`photo_source_tokens`), stored by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceToken {
    /// The photo it opens.
    pub photo_id: String,
    /// Seconds.
    pub expires_at: i64,
}

/// Lifetime of a source token: 300 s.
pub const SOURCE_TOKEN_TTL_SECS: i64 = 300;

/// State-store keys.
pub mod keys {
    /// A job.
    pub fn job(job_id: &str) -> String {
        format!("photos/job/{job_id}")
    }
    /// The prefix of unfinished jobs' markers (what the sweep reads).
    pub const ACTIVE_PREFIX: &str = "photos/active/";
    /// An unfinished job's marker.
    pub fn active(job_id: &str) -> String {
        format!("{ACTIVE_PREFIX}{job_id}")
    }
    /// A photo by id.
    pub fn photo(photo_id: &str) -> String {
        format!("photos/photo/{photo_id}")
    }
    /// The prefix of a user's slots.
    pub fn slots(user: &str) -> String {
        format!("photos/slot/{user}/")
    }
    /// A user's slot (its photo id).
    pub fn slot(user: &str, slot: u8) -> String {
        format!("photos/slot/{user}/{slot}")
    }
    /// A user's anime assets.
    pub fn anime(user: &str) -> String {
        format!("photos/anime/{user}")
    }
    /// A viewer's access to a photo.
    pub fn access(viewer: &str, photo_id: &str) -> String {
        format!("photos/access/{viewer}/{photo_id}")
    }
    /// A source token by its SHA-256 (hex).
    pub fn token(hash: &str) -> String {
        format!("photos/token/{hash}")
    }
}

/// Object names (contracts/api-core.md §5.4).
pub mod objects {
    /// An upload waiting to be sanitized (the original never stored it: here it lets a
    /// killed worker resume).
    pub fn raw(user: &str, job_id: &str, slot: u8) -> String {
        format!("raw/{user}/{job_id}/photo{slot}")
    }
    /// A sanitized photo.
    pub fn orig(user: &str, photo_id: &str) -> String {
        format!("orig/{user}/{photo_id}.jpg")
    }
    /// A user's anime grid.
    pub fn grid(user: &str) -> String {
        format!("anime/grid/{user}.png")
    }
    /// A tile's name (the blob store's logical key).
    pub fn tile(user: &str, slot: u8) -> String {
        format!("anime/tiles/{user}/{slot}.webp")
    }
    /// A viewer's overlay for a match.
    pub fn wm_tile(viewer: &str, match_id: &str) -> String {
        format!("wm/tiles/{viewer}/{match_id}.png")
    }
    /// A viewer's corner stamp for a match.
    pub fn wm_stamp(viewer: &str, match_id: &str) -> String {
        format!("wm/stamps/{viewer}/{match_id}.png")
    }
    /// A photo revealed to a viewer.
    pub fn reveal(photo_id: &str, viewer: &str) -> String {
        format!("reveal/{photo_id}/{viewer}.webp")
    }
    /// Its sidecar.
    pub fn reveal_meta(photo_id: &str, viewer: &str) -> String {
        format!("reveal/meta/{photo_id}/{viewer}.json")
    }
}

/// A random UUID v4, as `crypto.randomUUID()` gives.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let id = new_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, new_uuid());
    }

    #[test]
    fn statuses_and_steps_use_the_original_names() {
        assert_eq!(
            serde_json::to_string(&JobStatus::Processing).unwrap(),
            "\"processing\""
        );
        assert_eq!(serde_json::to_string(&JobStep::Split).unwrap(), "\"split\"");
        assert_eq!(objects::tile("0xab", 2), "anime/tiles/0xab/2.webp");
        assert_eq!(objects::reveal_meta("p", "v"), "reveal/meta/p/v.json");
    }
}
