//! A music publish job as stored (one record per job, the columns of the original's
//! `music_publish_jobs` row plus the lease) and as clients see it (`serializeJob` of the
//! original: [`JobView`], nulls emitted as `null`).

use serde::{Deserialize, Serialize};

/// `status` of a job (contracts/api-core.md §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Audio staged on the blob store; preflight may run.
    Staged,
    /// Preflight running (leased).
    Checking,
    /// Preflight passed.
    PolicyPassed,
    /// Preflight wants a human (missing artifacts or fingerprint).
    ManualReview,
    /// Preflight refused it.
    Rejected,
    /// Anchoring on Arweave (leased).
    Anchoring,
    /// Anchored on Arweave.
    Anchored,
    /// On-chain registration running (leased).
    Registering,
    /// Registered on chain.
    Registered,
    /// Allowed by the original's CHECK, never set.
    Failed,
}

impl JobStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staged => "staged",
            Self::Checking => "checking",
            Self::PolicyPassed => "policy_passed",
            Self::ManualReview => "manual_review",
            Self::Rejected => "rejected",
            Self::Anchoring => "anchoring",
            Self::Anchored => "anchored",
            Self::Registering => "registering",
            Self::Registered => "registered",
            Self::Failed => "failed",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "staged" => Self::Staged,
            "checking" => Self::Checking,
            "policy_passed" => Self::PolicyPassed,
            "manual_review" => Self::ManualReview,
            "rejected" => Self::Rejected,
            "anchoring" => Self::Anchoring,
            "anchored" => Self::Anchored,
            "registering" => Self::Registering,
            "registered" => Self::Registered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// The states from which artifacts may no longer be staged nor preflight run (and from
    /// which `anchor` answers the job as it is).
    pub fn is_past_policy(self) -> bool {
        matches!(
            self,
            Self::Anchoring | Self::Anchored | Self::Registering | Self::Registered
        )
    }

    /// Whether a worker owns the job while it is in this state (a lease is held).
    pub fn is_in_progress(self) -> bool {
        matches!(self, Self::Checking | Self::Anchoring | Self::Registering)
    }
}

/// `publish_type` of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishType {
    /// An original work (audio hash verified in preflight).
    Original,
    /// A derivative of registered parents.
    Derivative,
    /// A cover of registered parents.
    Cover,
}

impl PublishType {
    /// Parses `original`, `derivative` or `cover`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "original" => Some(Self::Original),
            "derivative" => Some(Self::Derivative),
            "cover" => Some(Self::Cover),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Derivative => "derivative",
            Self::Cover => "cover",
        }
    }
}

/// `policy_decision` of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PolicyDecision {
    /// Not decided yet.
    #[default]
    Pending,
    /// Passed.
    Pass,
    /// Refused.
    Reject,
    /// Needs a human.
    ManualReview,
}

/// `metadata_status` of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MetadataStatus {
    /// Never anchored.
    #[default]
    None,
    /// Anchoring (leased).
    Anchoring,
    /// Anchored (the refs are final).
    Anchored,
    /// The last attempt failed; may be retried.
    Failed,
}

/// Which step a lease covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeasedStep {
    /// Preflight (`checking`).
    Preflight,
    /// Audio anchoring (`anchoring`).
    Anchor,
    /// Metadata anchoring (`metadata_status = anchoring`).
    Metadata,
    /// On-chain registration (`registering`).
    Register,
}

/// A worker's claim on a job's step in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The step.
    pub step: LeasedStep,
    /// Random token of the request (or sweep) that holds it.
    pub owner: String,
    /// Expiry (seconds); renewed while the step runs.
    pub until: i64,
    /// The status to go back to when the step is released without finishing.
    pub release_to: JobStatus,
}

/// One job, as stored. Field names are the original's column names (the D1 import maps rows
/// one to one); timestamps are seconds.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MusicJob {
    pub job_id: String,
    pub user_address: String,
    pub status: JobStatus,
    pub publish_type: Option<PublishType>,
    pub idempotency_key: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub file_size: Option<u64>,
    pub audio_sha256: Option<String>,
    pub fingerprint: Option<String>,
    pub duration_s: Option<u64>,
    pub staged_dataitem_id: Option<String>,
    pub staged_gateway_url: Option<String>,
    pub staged_payload_json: Option<String>,
    pub cover_staged_dataitem_id: Option<String>,
    pub cover_staged_gateway_url: Option<String>,
    pub cover_content_type: Option<String>,
    pub cover_file_size: Option<u64>,
    pub cover_staged_payload_json: Option<String>,
    pub lyrics_staged_dataitem_id: Option<String>,
    pub lyrics_staged_gateway_url: Option<String>,
    pub lyrics_sha256: Option<String>,
    pub lyrics_bytes: Option<u64>,
    pub lyrics_staged_payload_json: Option<String>,
    pub policy_decision: PolicyDecision,
    pub policy_reason_code: Option<String>,
    pub policy_reason: Option<String>,
    pub parent_ip_ids_json: Option<String>,
    pub license_terms_ids_json: Option<String>,
    pub anchored_dataitem_id: Option<String>,
    pub arweave_ref: Option<String>,
    pub arweave_url: Option<String>,
    pub arweave_available: bool,
    pub anchor_payload_json: Option<String>,
    pub metadata_status: MetadataStatus,
    pub metadata_error: Option<String>,
    pub ip_metadata_uri: Option<String>,
    pub ip_metadata_hash: Option<String>,
    pub ip_metadata_dataitem_id: Option<String>,
    pub nft_metadata_uri: Option<String>,
    pub nft_metadata_hash: Option<String>,
    pub nft_metadata_dataitem_id: Option<String>,
    pub story_tx_hash: Option<String>,
    pub story_ip_id: Option<String>,
    pub story_token_id: Option<String>,
    pub story_license_terms_ids_json: Option<String>,
    pub story_block_number: Option<String>,
    pub megaeth_tx_hash: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The lease of the step in progress, if any.
    #[serde(default)]
    pub lease: Option<Lease>,
}

impl MusicJob {
    /// A new `staged` job with every optional column empty.
    pub fn new(job_id: String, user_address: String, now: i64) -> Self {
        Self {
            job_id,
            user_address,
            status: JobStatus::Staged,
            publish_type: None,
            idempotency_key: None,
            file_name: None,
            content_type: None,
            file_size: None,
            audio_sha256: None,
            fingerprint: None,
            duration_s: None,
            staged_dataitem_id: None,
            staged_gateway_url: None,
            staged_payload_json: None,
            cover_staged_dataitem_id: None,
            cover_staged_gateway_url: None,
            cover_content_type: None,
            cover_file_size: None,
            cover_staged_payload_json: None,
            lyrics_staged_dataitem_id: None,
            lyrics_staged_gateway_url: None,
            lyrics_sha256: None,
            lyrics_bytes: None,
            lyrics_staged_payload_json: None,
            policy_decision: PolicyDecision::Pending,
            policy_reason_code: None,
            policy_reason: None,
            parent_ip_ids_json: None,
            license_terms_ids_json: None,
            anchored_dataitem_id: None,
            arweave_ref: None,
            arweave_url: None,
            arweave_available: false,
            anchor_payload_json: None,
            metadata_status: MetadataStatus::None,
            metadata_error: None,
            ip_metadata_uri: None,
            ip_metadata_hash: None,
            ip_metadata_dataitem_id: None,
            nft_metadata_uri: None,
            nft_metadata_hash: None,
            nft_metadata_dataitem_id: None,
            story_tx_hash: None,
            story_ip_id: None,
            story_token_id: None,
            story_license_terms_ids_json: None,
            story_block_number: None,
            megaeth_tx_hash: None,
            error_code: None,
            error_message: None,
            created_at: now,
            updated_at: now,
            lease: None,
        }
    }

    /// Whether the cover is staged (id and URL).
    pub fn cover_staged(&self) -> bool {
        present(&self.cover_staged_dataitem_id) && present(&self.cover_staged_gateway_url)
    }

    /// Whether the lyrics are staged (id and URL).
    pub fn lyrics_staged(&self) -> bool {
        present(&self.lyrics_staged_dataitem_id) && present(&self.lyrics_staged_gateway_url)
    }

    /// Whether the metadata refs are final (`hasAnchoredMetadata` of the original).
    pub fn has_anchored_metadata(&self) -> bool {
        self.metadata_status == MetadataStatus::Anchored
            && present(&self.ip_metadata_uri)
            && present(&self.ip_metadata_hash)
            && present(&self.nft_metadata_uri)
            && present(&self.nft_metadata_hash)
    }

    /// The client view.
    pub fn view(&self) -> JobView {
        JobView::of(self)
    }
}

fn present(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.is_empty())
}

/// `<id>` of an `ar://<id>` ref.
pub fn dataitem_id_from_ar_ref(r: Option<&str>) -> Option<String> {
    let id = r?.trim().strip_prefix("ar://")?.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// A JSON array of strings, or `None` (the original's `parseJsonStringArray`).
pub fn parse_string_array(raw: Option<&str>) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(raw?).ok()?;
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The job as clients see it.
#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job_id: String,
    pub user_address: String,
    pub status: JobStatus,
    pub publish_type: Option<PublishType>,
    pub idempotency_key: Option<String>,
    pub upload: UploadView,
    pub policy: PolicyView,
    pub anchor: AnchorView,
    pub metadata: MetadataView,
    pub registration: RegistrationView,
    pub error: Option<ErrorView>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadView {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub file_size: Option<u64>,
    pub audio_sha256: Option<String>,
    pub fingerprint: Option<String>,
    pub duration_s: Option<u64>,
    pub staged_dataitem_id: Option<String>,
    pub staged_gateway_url: Option<String>,
    pub cover: CoverView,
    pub lyrics: LyricsView,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverView {
    pub staged_dataitem_id: Option<String>,
    pub staged_gateway_url: Option<String>,
    pub content_type: Option<String>,
    pub file_size: Option<u64>,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LyricsView {
    pub staged_dataitem_id: Option<String>,
    pub staged_gateway_url: Option<String>,
    pub sha256: Option<String>,
    pub bytes: Option<u64>,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    pub decision: PolicyDecision,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub parent_ip_ids: Option<Vec<String>>,
    pub license_terms_ids: Option<Vec<String>>,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorView {
    pub dataitem_id: Option<String>,
    #[serde(rename = "ref")]
    pub arweave_ref: Option<String>,
    pub arweave_url: Option<String>,
    pub arweave_available: bool,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataView {
    pub status: MetadataStatus,
    pub error: Option<String>,
    pub ip: MetadataRefView,
    pub nft: MetadataRefView,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataRefView {
    pub uri: Option<String>,
    pub hash: Option<String>,
    pub dataitem_id: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationView {
    pub story_tx_hash: Option<String>,
    pub story_ip_id: Option<String>,
    pub story_token_id: Option<String>,
    pub story_license_terms_ids: Option<Vec<String>>,
    pub story_block_number: Option<String>,
    pub megaeth_tx_hash: Option<String>,
    pub tempo_tx_hash: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Serialize)]
pub struct ErrorView {
    pub code: Option<String>,
    pub message: Option<String>,
}

fn metadata_ref(
    uri: &Option<String>,
    hash: &Option<String>,
    id: &Option<String>,
) -> MetadataRefView {
    MetadataRefView {
        uri: uri.clone(),
        hash: hash.clone(),
        dataitem_id: id
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| dataitem_id_from_ar_ref(uri.as_deref())),
    }
}

impl JobView {
    /// The view of `job` (`serializeJob`).
    pub fn of(job: &MusicJob) -> Self {
        let has_error = present(&job.error_code) || present(&job.error_message);
        Self {
            job_id: job.job_id.clone(),
            user_address: job.user_address.clone(),
            status: job.status,
            publish_type: job.publish_type,
            idempotency_key: job.idempotency_key.clone(),
            upload: UploadView {
                file_name: job.file_name.clone(),
                content_type: job.content_type.clone(),
                file_size: job.file_size,
                audio_sha256: job.audio_sha256.clone(),
                fingerprint: job.fingerprint.clone(),
                duration_s: job.duration_s,
                staged_dataitem_id: job.staged_dataitem_id.clone(),
                staged_gateway_url: job.staged_gateway_url.clone(),
                cover: CoverView {
                    staged_dataitem_id: job.cover_staged_dataitem_id.clone(),
                    staged_gateway_url: job.cover_staged_gateway_url.clone(),
                    content_type: job.cover_content_type.clone(),
                    file_size: job.cover_file_size,
                },
                lyrics: LyricsView {
                    staged_dataitem_id: job.lyrics_staged_dataitem_id.clone(),
                    staged_gateway_url: job.lyrics_staged_gateway_url.clone(),
                    sha256: job.lyrics_sha256.clone(),
                    bytes: job.lyrics_bytes,
                },
            },
            policy: PolicyView {
                decision: job.policy_decision,
                reason_code: job.policy_reason_code.clone(),
                reason: job.policy_reason.clone(),
                parent_ip_ids: parse_string_array(job.parent_ip_ids_json.as_deref()),
                license_terms_ids: parse_string_array(job.license_terms_ids_json.as_deref()),
            },
            anchor: AnchorView {
                dataitem_id: job.anchored_dataitem_id.clone(),
                arweave_ref: job.arweave_ref.clone(),
                arweave_url: job.arweave_url.clone(),
                arweave_available: job.arweave_available,
            },
            metadata: MetadataView {
                status: job.metadata_status,
                error: job.metadata_error.clone(),
                ip: metadata_ref(
                    &job.ip_metadata_uri,
                    &job.ip_metadata_hash,
                    &job.ip_metadata_dataitem_id,
                ),
                nft: metadata_ref(
                    &job.nft_metadata_uri,
                    &job.nft_metadata_hash,
                    &job.nft_metadata_dataitem_id,
                ),
            },
            registration: RegistrationView {
                story_tx_hash: job.story_tx_hash.clone(),
                story_ip_id: job.story_ip_id.clone(),
                story_token_id: job.story_token_id.clone(),
                story_license_terms_ids: parse_string_array(
                    job.story_license_terms_ids_json.as_deref(),
                ),
                story_block_number: job.story_block_number.clone(),
                megaeth_tx_hash: job.megaeth_tx_hash.clone(),
                tempo_tx_hash: job.megaeth_tx_hash.clone(),
            },
            error: has_error.then(|| ErrorView {
                code: job.error_code.clone(),
                message: job.error_message.clone(),
            }),
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }

    /// As a JSON value (for error bodies carrying `job`).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
