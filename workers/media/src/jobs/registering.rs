//! The `registering` step shared by Tempo finalize and Story register (§6.6, §6.7): taking it
//! is a compare-and-set into `registering` that writes a lease (the status to go back to
//! included), finishing requires the lease to still be the caller's, and a failure puts the
//! job back where it started with the route's error code. The chain writes themselves are the
//! publishing signer's (ADR 0028), called with a request id that names one request only, so
//! running the step again after a crash never sends a second transaction (ADR 0029).

use sha2::{Digest, Sha256};

use super::lease::{held_by_other, lease_for, owned_by};
use super::model::{JobStatus, LeasedStep, MusicJob};
use super::store::StoredJob;
use crate::error::{MediaError, MediaResult};
use crate::state::MediaState;

/// Whether `job` is `registering` under a lease nobody renews any more (its worker died), so
/// `owner` may take the step over.
pub fn expired_registering(job: &MusicJob, owner: &str, now: i64) -> bool {
    job.status == JobStatus::Registering && !held_by_other(job, LeasedStep::Register, owner, now)
}

/// The status a `registering` job goes back to when its step ends without success: the
/// lease's, else `anchored` when it was anchored, else `policy_passed`.
pub fn previous_status(job: &MusicJob) -> JobStatus {
    match &job.lease {
        Some(lease) => lease.release_to,
        None if job.anchored_dataitem_id.is_some() => JobStatus::Anchored,
        None => JobStatus::PolicyPassed,
    }
}

/// What the lock decided.
#[derive(Debug)]
pub enum Lock {
    /// The caller holds the `registering` lease; `from` is the status it started from.
    Taken {
        /// The job as written.
        job: StoredJob,
        /// The status before the step.
        from: JobStatus,
    },
    /// Nothing to run: the answer is this job as it is (the caller's `cached` check held).
    Done(MusicJob),
}

/// How a step decides whether it may take `registering`.
pub struct LockRules<'a> {
    /// The statuses the step starts from.
    pub allowed: &'a (dyn Fn(&MusicJob) -> bool + Sync),
    /// The job needs no step: answer it as it is.
    pub done: &'a (dyn Fn(&MusicJob) -> bool + Sync),
    /// The answer when the step may not start.
    pub refused: &'a (dyn Fn(&MusicJob) -> MediaError + Sync),
    /// The 404 text when the job vanished.
    pub not_found: &'a str,
}

/// Takes `registering` for `owner` when `rules.allowed(job)` holds, or the job is
/// `registering` under an expired lease and the step may start from the status it started
/// from; `rules.done(job)` short-cuts to [`Lock::Done`]; anything else
/// is `rules.refused(job)`.
pub async fn lock(
    state: &MediaState,
    user: &str,
    job_id: &str,
    owner: &str,
    rules: LockRules<'_>,
) -> MediaResult<Lock> {
    state.jobs().mark_leased(user, job_id).await?;
    loop {
        let Some(current) = state.jobs().get(user, job_id).await? else {
            state.jobs().unmark_leased(user, job_id).await?;
            return Err(MediaError::new(
                axum::http::StatusCode::NOT_FOUND,
                rules.not_found,
            ));
        };
        let mut job = current.job;
        let now = state.now();
        let resumable = expired_registering(&job, owner, now) && {
            let mut before = job.clone();
            before.status = previous_status(&job);
            (rules.allowed)(&before)
        };
        let from = if resumable {
            previous_status(&job)
        } else if (rules.done)(&job) {
            release_index(state, &job).await?;
            return Ok(Lock::Done(job));
        } else if (rules.allowed)(&job) {
            job.status
        } else {
            release_index(state, &job).await?;
            return Err((rules.refused)(&job));
        };
        job.status = JobStatus::Registering;
        job.lease = Some(lease_for(state, LeasedStep::Register, owner, from));
        job.updated_at = now;
        if let Some(version) = state.jobs().replace(&job, current.version).await? {
            return Ok(Lock::Taken {
                job: StoredJob { job, version },
                from,
            });
        }
    }
}

/// Drops the lease index entry written before a lock that was not taken, unless the job
/// still holds a lease (someone else's step).
async fn release_index(state: &MediaState, job: &MusicJob) -> MediaResult<()> {
    if job.lease.is_none() {
        state
            .jobs()
            .unmark_leased(&job.user_address, &job.job_id)
            .await?;
    }
    Ok(())
}

/// Ends `owner`'s step: `change` applies the outcome when the lease is still `owner`'s (the
/// lease is cleared with it); otherwise `lost(job)` is the answer (another worker took the
/// step over after this one stopped renewing). Drops the lease index entry afterwards.
pub async fn finish(
    state: &MediaState,
    user: &str,
    job_id: &str,
    owner: &str,
    mut change: impl FnMut(&mut MusicJob),
    lost: impl Fn(&MusicJob) -> MediaError,
) -> MediaResult<Option<MusicJob>> {
    let outcome = state
        .jobs()
        .update(user, job_id, |job| {
            if !owned_by(job, owner) {
                return Err(lost(job));
            }
            change(job);
            job.lease = None;
            job.updated_at = state.now();
            Ok(())
        })
        .await;
    state.jobs().unmark_leased(user, job_id).await?;
    Ok(outcome?.map(|(stored, ())| stored.job))
}

/// A request id for the publishing signer naming exactly this request of this job:
/// `<kind>:<job id>:<16 hex of SHA-256 of the request's fields>` (a retry of the same request
/// gets the signer's stored reply; a request with other fields is a new one).
pub fn request_id(kind: &str, job_id: &str, fields: &serde_json::Value) -> String {
    let digest = hex::encode(Sha256::digest(fields.to_string().as_bytes()));
    let id = format!("{kind}:{job_id}:{}", &digest[..16]);
    if id.chars().count() <= 128 {
        id
    } else {
        let job = hex::encode(Sha256::digest(job_id.as_bytes()));
        format!("{kind}:{}:{}", &job[..32], &digest[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::model::Lease;

    fn job(status: JobStatus, lease: Option<Lease>) -> MusicJob {
        let mut job = MusicJob::new("music_1".into(), "0xabc".into(), 100);
        job.status = status;
        job.lease = lease;
        job
    }

    fn lease(owner: &str, until: i64, release_to: JobStatus) -> Lease {
        Lease {
            step: LeasedStep::Register,
            owner: owner.into(),
            until,
            release_to,
        }
    }

    #[test]
    fn only_an_expired_or_own_registering_lease_can_be_taken_over() {
        let live = job(
            JobStatus::Registering,
            Some(lease("a", 200, JobStatus::Anchored)),
        );
        assert!(!expired_registering(&live, "b", 150));
        assert!(expired_registering(&live, "a", 150));
        assert!(expired_registering(&live, "b", 200));
        assert!(!expired_registering(
            &job(JobStatus::Anchored, None),
            "b",
            150
        ));
    }

    #[test]
    fn the_previous_status_is_the_leases_else_inferred_from_the_anchor() {
        let leased = job(
            JobStatus::Registering,
            Some(lease("a", 1, JobStatus::Registered)),
        );
        assert_eq!(previous_status(&leased), JobStatus::Registered);
        let mut imported = job(JobStatus::Registering, None);
        assert_eq!(previous_status(&imported), JobStatus::PolicyPassed);
        imported.anchored_dataitem_id = Some("id".into());
        assert_eq!(previous_status(&imported), JobStatus::Anchored);
    }

    #[test]
    fn request_ids_name_one_request_and_fit_the_signers_limit() {
        let a = request_id("finalize", "music_1", &serde_json::json!({"title": "A"}));
        let b = request_id("finalize", "music_1", &serde_json::json!({"title": "B"}));
        assert_ne!(a, b);
        assert_eq!(
            a,
            request_id("finalize", "music_1", &serde_json::json!({"title": "A"}))
        );
        assert!(a.starts_with("finalize:music_1:"));
        let long = request_id("register", &"x".repeat(128), &serde_json::json!({}));
        assert!(long.chars().count() <= 128, "{long}");
    }
}
