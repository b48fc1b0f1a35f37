//! Leases on a job's step in progress (`checking`, `anchoring`, `registering`, metadata
//! anchoring), so a job whose worker died is resumed or released instead of staying stuck
//! (the original had no recovery; contracts/api-core.md §6.1, ADR 0027).
//!
//! Taking a step is a compare-and-set that writes the [`Lease`] (owner token, expiry, the
//! status to go back to) with the new status; while the step runs a [`Heartbeat`] extends the
//! expiry every third of the lease; finishing is a compare-and-set that requires the lease to
//! still be the caller's. A lease that expired may be taken over by the next request for the
//! job or by the sweep ([`super::recovery`]).

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::model::{Lease, LeasedStep, MusicJob};
use crate::error::MediaResult;
use crate::state::MediaState;

/// A random owner token for one request's (or sweep run's) leases.
pub fn new_owner() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

/// A task that calls `renew` every `every` until it answers `false` or this is dropped.
#[derive(Debug)]
pub struct Heartbeat(JoinHandle<()>);

impl Heartbeat {
    /// Starts the task.
    pub fn start<F, Fut>(every: Duration, renew: F) -> Self
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let every = every.max(Duration::from_millis(100));
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if !renew().await {
                    break;
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether `job` holds a lease on `step` that is still live at `now`, owned by someone else
/// than `owner`.
pub fn held_by_other(job: &MusicJob, step: LeasedStep, owner: &str, now: i64) -> bool {
    job.lease
        .as_ref()
        .is_some_and(|l| l.step == step && l.owner != owner && l.until > now)
}

/// Whether `job`'s lease (if any) is `owner`'s.
pub fn owned_by(job: &MusicJob, owner: &str) -> bool {
    job.lease.as_ref().is_some_and(|l| l.owner == owner)
}

/// The lease a step takes now.
pub fn lease_for(
    state: &MediaState,
    step: LeasedStep,
    owner: &str,
    release_to: super::model::JobStatus,
) -> Lease {
    Lease {
        step,
        owner: owner.to_owned(),
        until: state.now() + state.lease_secs(),
        release_to,
    }
}

/// Extends `owner`'s lease on the job; `false` once it is not `owner`'s any more.
pub async fn renew(state: &MediaState, user: &str, job_id: &str, owner: &str) -> MediaResult<bool> {
    loop {
        let Some(current) = state.jobs().get(user, job_id).await? else {
            return Ok(false);
        };
        let mut job = current.job;
        let Some(lease) = job.lease.as_mut().filter(|l| l.owner == owner) else {
            return Ok(false);
        };
        lease.until = state.now() + state.lease_secs();
        if state.jobs().replace(&job, current.version).await?.is_some() {
            return Ok(true);
        }
    }
}

/// A heartbeat renewing `owner`'s lease on the job every third of the lease.
pub fn keep_alive(state: &MediaState, user: &str, job_id: &str, owner: &str) -> Heartbeat {
    let every = state.config().lease / 3;
    let (state, user, job_id, owner) = (
        state.clone(),
        user.to_owned(),
        job_id.to_owned(),
        owner.to_owned(),
    );
    Heartbeat::start(every, move || {
        let (state, user, job_id, owner) =
            (state.clone(), user.clone(), job_id.clone(), owner.clone());
        async move { renew(&state, &user, &job_id, &owner).await.unwrap_or(true) }
    })
}
