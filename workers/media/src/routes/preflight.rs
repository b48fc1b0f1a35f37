//! `POST /api/music/preflight`: the policy step (§6.4). The job moves to `checking` under a
//! lease, the staged audio is streamed back from the blob store and hashed (flat memory,
//! stopped past 50 MiB), duplicates are looked up by hash, and the decision is written with a
//! compare-and-set that requires the lease to still be this request's.
//!
//! One change from the original: an unknown `publishType` is a 400 before anything is
//! written (the original died on its CHECK constraint and left the job in `checking`).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::access::require_music_access;
use crate::error::{Fields, MediaError, MediaResult};
use crate::jobs::lease::{self, held_by_other, lease_for, new_owner, owned_by};
use crate::jobs::model::{
    JobStatus, LeasedStep, MusicJob, PolicyDecision, PublishType, parse_string_array,
};
use crate::jobs::store::DuplicateCandidate;
use crate::routes::publish_start::MAX_FILE_SIZE;
use crate::state::MediaState;

/// Largest JSON body read.
const MAX_BODY: usize = 1 << 20;

/// The request, as the original reads it.
struct PreflightInput {
    job_id: String,
    publish_type: Option<String>,
    fingerprint: Option<String>,
    duration_s: Option<u64>,
    parent_ip_ids: Option<Value>,
    license_terms_ids: Option<Value>,
}

/// The decision of one preflight.
struct Decision {
    status: JobStatus,
    decision: PolicyDecision,
    reason_code: Option<&'static str>,
    reason: Option<String>,
    hash_check: &'static str,
    duplicates: Vec<DuplicateCandidate>,
}

impl Decision {
    fn pass(hash_check: &'static str) -> Self {
        Self {
            status: JobStatus::PolicyPassed,
            decision: PolicyDecision::Pass,
            reason_code: None,
            reason: None,
            hash_check,
            duplicates: Vec::new(),
        }
    }

    fn with(
        mut self,
        status: JobStatus,
        decision: PolicyDecision,
        code: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        self.status = status;
        self.decision = decision;
        self.reason_code = Some(code);
        self.reason = Some(reason.into());
        self
    }

    fn reject(hash_check: &'static str, code: &'static str, reason: impl Into<String>) -> Self {
        Self::pass(hash_check).with(JobStatus::Rejected, PolicyDecision::Reject, code, reason)
    }

    fn unavailable() -> Self {
        Self::pass("failed_unavailable").with(
            JobStatus::Staged,
            PolicyDecision::Pending,
            "hash_verification_unavailable",
            "Could not fetch staged file for hash verification; retry preflight",
        )
    }
}

pub(crate) fn is_address(value: &str) -> bool {
    value.len() == 42
        && value.starts_with("0x")
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `licenseTermsIds` as the original accepts them: non-negative safe integers or digit
/// strings, as strings.
pub(crate) fn license_terms(raw: &Value) -> Option<Vec<String>> {
    raw.as_array()?
        .iter()
        .map(|v| match v {
            Value::Number(n) => n
                .as_u64()
                .filter(|n| *n < (1u64 << 53))
                .map(|n| n.to_string()),
            Value::String(s) => {
                let t = s.trim();
                (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.to_owned())
            }
            _ => None,
        })
        .collect()
}

fn parse_input(body: &[u8]) -> MediaResult<PreflightInput> {
    let invalid = || MediaError::bad_request("Invalid JSON body");
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    let job_id = obj
        .get("jobId")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| MediaError::bad_request("jobId is required"))?
        .to_owned();
    Ok(PreflightInput {
        job_id,
        publish_type: obj
            .get("publishType")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        fingerprint: obj
            .get("fingerprint")
            .and_then(Value::as_str)
            .map(|s| s.trim().chars().take(32_000).collect()),
        duration_s: obj
            .get("durationS")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0),
        parent_ip_ids: obj.get("parentIpIds").cloned(),
        license_terms_ids: obj.get("licenseTermsIds").cloned(),
    })
}

/// The handler.
pub async fn handle(State(state): State<MediaState>, request: Request) -> MediaResult<Fields> {
    let user = require_music_access(&state, request.headers()).await?;
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| MediaError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"))?;
    let input = parse_input(&body)?;
    let row = state
        .jobs()
        .get(&user, &input.job_id)
        .await?
        .ok_or_else(MediaError::job_not_found)?
        .job;
    let owner = new_owner();
    check_startable(&state, &row, &owner)?;
    let publish_raw = input
        .publish_type
        .clone()
        .or(row.publish_type.map(|p| p.as_str().to_owned()))
        .ok_or_else(|| {
            MediaError::bad_request("publishType is required (original, derivative, cover)")
        })?;
    let publish_type = PublishType::parse(&publish_raw).ok_or_else(|| {
        MediaError::bad_request("publishType must be original, derivative, or cover")
    })?;
    let fingerprint = input.fingerprint.clone().or(row.fingerprint.clone());
    let duration_s = input.duration_s.or(row.duration_s);
    let parents = match &input.parent_ip_ids {
        None => parse_string_array(row.parent_ip_ids_json.as_deref()).unwrap_or_default(),
        Some(v) => v
            .as_array()
            .and_then(|a| {
                a.iter()
                    .map(|s| s.as_str().map(|s| s.trim().to_lowercase()))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| MediaError::bad_request("parentIpIds must be an array of strings"))?,
    };
    let terms = match &input.license_terms_ids {
        None => parse_string_array(row.license_terms_ids_json.as_deref()).unwrap_or_default(),
        Some(v) => license_terms(v).ok_or_else(|| {
            MediaError::bad_request(
                "licenseTermsIds must be an array of positive integers (string or number)",
            )
        })?,
    };
    if parents.iter().any(|p| !is_address(p)) {
        return Err(MediaError::bad_request(
            "parentIpIds must contain valid 0x-prefixed addresses",
        ));
    }

    state.jobs().mark_leased(&user, &input.job_id).await?;
    let (checking, ()) = state
        .jobs()
        .update(&user, &input.job_id, |job| {
            check_startable(&state, job, &owner)?;
            let release_to = match (&job.lease, job.status) {
                (Some(l), JobStatus::Checking) => l.release_to,
                (None, JobStatus::Checking) => JobStatus::Staged,
                (_, status) => status,
            };
            job.status = JobStatus::Checking;
            job.lease = Some(lease_for(&state, LeasedStep::Preflight, &owner, release_to));
            job.updated_at = state.now();
            Ok(())
        })
        .await?
        .ok_or_else(MediaError::job_not_found)?;

    let decision = {
        let _heartbeat = lease::keep_alive(&state, &user, &input.job_id, &owner);
        decide(
            &state,
            &checking.job,
            publish_type,
            fingerprint.as_deref(),
            &parents,
            &terms,
        )
        .await?
    };

    let updated = state
        .jobs()
        .update(&user, &input.job_id, |job| {
            if !owned_by(job, &owner) {
                return Err(MediaError::conflict(format!(
                    "Cannot run preflight from status {}",
                    job.status.as_str()
                ))
                .with_job("job", job));
            }
            job.status = decision.status;
            job.publish_type = Some(publish_type);
            job.fingerprint = fingerprint.clone().filter(|f| !f.is_empty());
            job.duration_s = duration_s;
            job.parent_ip_ids_json = Some(serde_json::to_string(&parents).unwrap_or_default());
            job.license_terms_ids_json = Some(serde_json::to_string(&terms).unwrap_or_default());
            job.policy_decision = decision.decision;
            job.policy_reason_code = decision.reason_code.map(str::to_owned);
            job.policy_reason = decision.reason.clone();
            if job.error_code.as_deref() == Some("preflight_interrupted") {
                job.error_code = None;
                job.error_message = None;
            }
            job.lease = None;
            job.updated_at = state.now();
            Ok(())
        })
        .await?
        .ok_or_else(|| {
            MediaError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to load updated job",
            )
        })?
        .0
        .job;
    state.jobs().unmark_leased(&user, &input.job_id).await?;

    let checks = serde_json::json!({
        "hashDuplicate": decision.hash_check,
        "acoustid": "deferred_not_implemented",
    });
    let candidates = serde_json::to_value(&decision.duplicates).unwrap_or_default();
    let body = Fields::default()
        .with_job("job", &updated)
        .with("checks", checks)
        .with("duplicateCandidates", candidates);
    if decision.reason_code == Some("hash_verification_unavailable") {
        let mut error = MediaError::new(
            StatusCode::BAD_GATEWAY,
            "Hash verification unavailable; retry preflight",
        );
        error.body.0.extend(body.0);
        return Err(error);
    }
    Ok(body)
}

/// Preflight may not run past policy, nor while another request's preflight holds the job.
fn check_startable(state: &MediaState, job: &MusicJob, owner: &str) -> MediaResult<()> {
    let busy = job.status == JobStatus::Checking
        && held_by_other(job, LeasedStep::Preflight, owner, state.now());
    if job.status.is_past_policy() || busy {
        return Err(MediaError::conflict(format!(
            "Cannot run preflight from status {}",
            job.status.as_str()
        ))
        .with_job("job", job));
    }
    Ok(())
}

async fn decide(
    state: &MediaState,
    job: &MusicJob,
    publish_type: PublishType,
    fingerprint: Option<&str>,
    parents: &[String],
    terms: &[String],
) -> MediaResult<Decision> {
    if publish_type != PublishType::Original {
        if parents.is_empty() || terms.is_empty() {
            return Ok(Decision::reject(
                "skipped_not_original",
                "parent_link_required",
                "Derivative/cover publish requires parentIpIds and licenseTermsIds",
            ));
        }
        if parents.len() != terms.len() {
            return Ok(Decision::reject(
                "skipped_not_original",
                "parent_terms_mismatch",
                "parentIpIds and licenseTermsIds must have the same length",
            ));
        }
        return Ok(Decision::pass("skipped_not_original"));
    }
    let Some(expected) = job.audio_sha256.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(Decision::reject(
            "skipped_missing_audio_sha256",
            "missing_audio_sha256",
            "Original publish requires audioSha256",
        ));
    };
    let Some(staged) = job.staged_dataitem_id.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(Decision::reject(
            "skipped_missing_staged_gateway",
            "missing_staged_gateway",
            "Missing staged gateway URL; cannot verify hash",
        ));
    };
    let Ok(mut stream) = state.blobs().get(staged).await else {
        return Ok(Decision::unavailable());
    };
    let mut sha = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Ok(Decision::unavailable());
        };
        size += chunk.len() as u64;
        if size > MAX_FILE_SIZE {
            return Ok(Decision::reject(
                "failed_staged_too_large",
                "staged_file_too_large",
                format!("Staged file exceeds max size ({size} > {MAX_FILE_SIZE})"),
            ));
        }
        sha.update(&chunk);
    }
    if hex::encode(sha.finalize()) != expected {
        return Ok(Decision::reject(
            "failed_mismatch",
            "hash_mismatch",
            "Server hash of staged file does not match audioSha256",
        ));
    }
    let duplicates = state.jobs().duplicates(expected, &job.job_id).await?;
    let check = if duplicates.is_empty() {
        "performed"
    } else {
        "warn_duplicate_found"
    };
    let mut decision = Decision::pass(check);
    decision.duplicates = duplicates;
    if !job.cover_staged() || !job.lyrics_staged() {
        return Ok(decision.with(
            JobStatus::ManualReview,
            PolicyDecision::ManualReview,
            "missing_staged_artifacts",
            "Missing staged cover/lyrics artifacts for original publish",
        ));
    }
    if fingerprint.is_none_or(str::is_empty) {
        return Ok(decision.with(
            JobStatus::ManualReview,
            PolicyDecision::ManualReview,
            "fingerprint_missing",
            "No fingerprint provided for original publish",
        ));
    }
    Ok(decision)
}
