//! Recovery of jobs whose worker died mid-step: the sweep walks the lease index and, for each
//! lease that expired, resumes the step when that is safe or releases the job:
//! - `anchoring`: resumed (the blob store's anchor is idempotent) → `anchored`, or back to
//!   `policy_passed` with `anchor_failed` as any failed anchor;
//! - `checking`: released to the status preflight started from (`error_code =
//!   preflight_interrupted`); the client runs preflight again;
//! - metadata anchoring: released to `metadata_status = failed` (the client retries);
//! - `registering`: released to the status it started from (`register_interrupted`).
//!
//! Jobs imported in one of these states without a lease count as expired.

use super::anchor;
use super::lease::new_owner;
use super::model::{JobStatus, LeasedStep, MetadataStatus, MusicJob};
use crate::error::MediaResult;
use crate::state::MediaState;

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Steps resumed (anchors).
    pub resumed: u64,
    /// Jobs released.
    pub released: u64,
}

impl SweepOutcome {
    /// Jobs changed.
    pub fn touched(&self) -> u64 {
        self.resumed + self.released
    }
}

/// The step a job is in without a live lease, if any.
fn stale_step(job: &MusicJob, now: i64) -> Option<LeasedStep> {
    if job.lease.as_ref().is_some_and(|l| l.until > now) {
        return None;
    }
    match (job.status, job.metadata_status, &job.lease) {
        (JobStatus::Checking, _, _) => Some(LeasedStep::Preflight),
        (JobStatus::Anchoring, _, _) => Some(LeasedStep::Anchor),
        (JobStatus::Registering, _, _) => Some(LeasedStep::Register),
        (_, MetadataStatus::Anchoring, _) => Some(LeasedStep::Metadata),
        _ => None,
    }
}

/// Resumes or releases every job of the lease index whose lease expired.
pub async fn sweep(state: &MediaState) -> MediaResult<SweepOutcome> {
    let mut outcome = SweepOutcome::default();
    let mut after: Option<String> = None;
    loop {
        let page = state.jobs().leased(after.as_deref()).await?;
        let full = page.len() == portability::MAX_LIST_LIMIT;
        for (key, user, job_id) in &page {
            recover(state, user, job_id, &mut outcome).await?;
            after = Some(key.clone());
        }
        if !full {
            return Ok(outcome);
        }
    }
}

/// Recovers one job if its lease expired; drops its index entry once it holds no lease.
pub async fn recover(
    state: &MediaState,
    user: &str,
    job_id: &str,
    outcome: &mut SweepOutcome,
) -> MediaResult<()> {
    let Some(current) = state.jobs().get(user, job_id).await? else {
        return state.jobs().unmark_leased(user, job_id).await;
    };
    let now = state.now();
    let Some(step) = stale_step(&current.job, now) else {
        if current.job.lease.is_none() {
            state.jobs().unmark_leased(user, job_id).await?;
        }
        return Ok(());
    };
    if step == LeasedStep::Anchor {
        let owner = new_owner();
        match anchor::begin(state, user, job_id, &owner).await {
            Ok(anchor::AnchorStart::Run(taken)) => {
                // A failed anchor is recorded on the job like any other (anchor_failed).
                let _ = anchor::run(state, taken, &owner).await;
                outcome.resumed += 1;
                return Ok(());
            }
            Ok(anchor::AnchorStart::Answer(_)) => return Ok(()),
            // It cannot be resumed (no staged id): released below like the other steps.
            Err(_) => {}
        }
    }
    let released = state
        .jobs()
        .update(user, job_id, |job| {
            if stale_step(job, state.now()) != Some(step) {
                return Err(crate::error::MediaError::conflict("lease renewed"));
            }
            let back = job.lease.as_ref().map(|l| l.release_to);
            match step {
                LeasedStep::Preflight => {
                    job.status = back.unwrap_or(JobStatus::Staged);
                    job.error_code = Some("preflight_interrupted".to_owned());
                    job.error_message =
                        Some("Preflight was interrupted; run preflight again".to_owned());
                }
                LeasedStep::Register => {
                    job.status = back.unwrap_or(if job.anchored_dataitem_id.is_some() {
                        JobStatus::Anchored
                    } else {
                        JobStatus::PolicyPassed
                    });
                    job.error_code = Some("register_interrupted".to_owned());
                    job.error_message = Some("Registration was interrupted; retry it".to_owned());
                }
                LeasedStep::Metadata => {
                    job.metadata_status = MetadataStatus::Failed;
                    job.metadata_error =
                        Some("Metadata anchoring was interrupted; retry it".to_owned());
                }
                LeasedStep::Anchor => {
                    job.status = back.unwrap_or(JobStatus::PolicyPassed);
                    job.error_code = Some("anchor_failed".to_owned());
                    job.error_message =
                        Some("Anchoring was interrupted and cannot resume".to_owned());
                }
            }
            job.lease = None;
            job.updated_at = state.now();
            Ok(())
        })
        .await;
    if let Ok(Some(_)) = released {
        outcome.released += 1;
        state.jobs().unmark_leased(user, job_id).await?;
    }
    Ok(())
}
