//! The anchor step (§6.5): `policy_passed` → `anchoring` (leased) → `anchored`, or back to
//! `policy_passed` with `error_code = anchor_failed`. Shared by `POST /publish/:jobId/anchor`
//! and the recovery sweep, which resumes an anchor whose worker died (the blob store's
//! anchor is idempotent, so running it again is safe).

use axum::http::StatusCode;

use super::lease::{self, held_by_other, lease_for, owned_by};
use super::model::{JobStatus, LeasedStep, MusicJob};
use super::store::StoredJob;
use crate::error::{MediaError, MediaResult};
use crate::state::MediaState;

/// Longest `error_message` kept for a failed anchor (the original's 512).
const ERROR_MESSAGE_MAX: usize = 512;

/// How an anchor request starts.
#[derive(Debug)]
pub enum AnchorStart {
    /// The caller holds the `anchoring` lease and must [`run`] the step.
    Run(StoredJob),
    /// Nothing to do: the job is anchoring under a live lease, or past it; answer `{job}`.
    Answer(MusicJob),
}

fn expired_anchor(job: &MusicJob, owner: &str, now: i64) -> bool {
    job.status == JobStatus::Anchoring && !held_by_other(job, LeasedStep::Anchor, owner, now)
}

/// Takes the anchor step for `owner` (the checks and their order are the original's).
pub async fn begin(
    state: &MediaState,
    user: &str,
    job_id: &str,
    owner: &str,
) -> MediaResult<AnchorStart> {
    let Some(current) = state.jobs().get(user, job_id).await? else {
        return Err(MediaError::job_not_found());
    };
    let job = current.job;
    let now = state.now();
    if job.status.is_past_policy() && !expired_anchor(&job, owner, now) {
        return Ok(AnchorStart::Answer(job));
    }
    if job.status != JobStatus::PolicyPassed && job.status != JobStatus::Anchoring {
        return Err(MediaError::conflict(format!(
            "Job must be policy_passed before anchor (current={})",
            job.status.as_str()
        )));
    }
    if job
        .staged_dataitem_id
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return Err(MediaError::conflict(
            "Missing staged dataitem id; cannot anchor",
        ));
    }
    state.jobs().mark_leased(user, job_id).await?;
    let taken = state
        .jobs()
        .update(user, job_id, |job| {
            let now = state.now();
            let release_to = match job.status {
                JobStatus::PolicyPassed => JobStatus::PolicyPassed,
                _ if expired_anchor(job, owner, now) => JobStatus::PolicyPassed,
                other => {
                    return Err(MediaError::conflict(format!(
                        "Anchor lock not acquired (current={})",
                        other.as_str()
                    ))
                    .with_job("job", job));
                }
            };
            job.status = JobStatus::Anchoring;
            job.lease = Some(lease_for(state, LeasedStep::Anchor, owner, release_to));
            job.updated_at = now;
            Ok(())
        })
        .await?;
    match taken {
        Some((stored, ())) => Ok(AnchorStart::Run(stored)),
        None => Err(MediaError::new(
            StatusCode::NOT_FOUND,
            "Job not found after lock attempt",
        )),
    }
}

/// Runs the anchor of a job whose `anchoring` lease `owner` holds, and records the outcome.
pub async fn run(state: &MediaState, taken: StoredJob, owner: &str) -> MediaResult<MusicJob> {
    let user = taken.job.user_address.clone();
    let job_id = taken.job.job_id.clone();
    let staged = taken.job.staged_dataitem_id.clone().unwrap_or_default();
    let outcome = {
        let _heartbeat = lease::keep_alive(state, &user, &job_id, owner);
        state.blobs().anchor(&staged).await
    };
    let lost = || {
        |job: &MusicJob| {
            MediaError::conflict(format!(
                "Anchor lock not acquired (current={})",
                job.status.as_str()
            ))
            .with_job("job", job)
        }
    };
    let result = match outcome {
        Ok(anchor) => {
            let done = state
                .jobs()
                .update(&user, &job_id, |job| {
                    if !owned_by(job, owner) {
                        return Err(lost()(job));
                    }
                    job.status = JobStatus::Anchored;
                    job.anchored_dataitem_id = Some(staged.clone());
                    job.arweave_ref = Some(format!("ar://{staged}"));
                    job.arweave_url = Some(anchor.arweave_url.clone());
                    job.arweave_available = anchor.available;
                    job.anchor_payload_json = Some(
                        serde_json::json!({
                            "arweaveUrl": anchor.arweave_url,
                            "available": anchor.available,
                        })
                        .to_string(),
                    );
                    job.error_code = None;
                    job.error_message = None;
                    job.lease = None;
                    job.updated_at = state.now();
                    Ok(())
                })
                .await?;
            match done {
                Some((stored, ())) => Ok(stored.job),
                None => Err(MediaError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed to load anchored job",
                )),
            }
        }
        Err(err) => {
            let message = err.to_string();
            state
                .jobs()
                .update(&user, &job_id, |job| {
                    if !owned_by(job, owner) {
                        return Err(lost()(job));
                    }
                    job.status = JobStatus::PolicyPassed;
                    job.error_code = Some("anchor_failed".to_owned());
                    job.error_message = Some(truncate(&message, ERROR_MESSAGE_MAX));
                    job.lease = None;
                    job.updated_at = state.now();
                    Ok(())
                })
                .await?;
            Err(MediaError::upstream("LS3 post-to-arweave failed", message))
        }
    };
    state.jobs().unmark_leased(&user, &job_id).await?;
    result
}

/// The first `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
