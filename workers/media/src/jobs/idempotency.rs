//! Idempotency keys of `POST /api/music/publish/start`, unique per user.
//!
//! Before uploading, a start with a key creates the reservation
//! `media/music/idempotency/<user>/<sha256(key)>` naming the job id it will create (a
//! create-only insert: of two concurrent starts exactly one wins). The winner uploads while
//! renewing the reservation's lease, then creates the job; the others wait for that job and
//! answer it as an idempotent replay. A winner that fails before creating the job deletes
//! its reservation (the next start with the key uploads); one that died leaves a reservation
//! whose lease runs out, and the next start takes it over by compare-and-set, keeping the
//! job id, so one key never names two jobs. The original uploaded twice and answered the
//! second request 500 (unique index violation).

use portability::{PortabilityError, StateStoreJsonExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::store::{JobStore, PREFIX};
use crate::error::MediaResult;

/// A reservation of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    /// The job the key names.
    pub job_id: String,
    /// Random token of the request uploading for it.
    pub owner: String,
    /// Until when the uploader's claim holds (seconds); renewed while it uploads.
    pub until: i64,
}

/// What [`Idempotency::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the reservation and must create job `job_id`.
    Upload {
        /// The job id to create.
        job_id: String,
    },
    /// Another request holds a live reservation for `job_id`; wait for that job.
    Wait {
        /// The job being created.
        job_id: String,
    },
    /// The key names an existing job (replay).
    Existing {
        /// The job.
        job_id: String,
    },
}

/// Idempotency reservations over a [`JobStore`]'s state store.
#[derive(Clone, Debug)]
pub struct Idempotency {
    jobs: JobStore,
}

fn key_of(user: &str, idempotency_key: &str) -> String {
    let digest = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    format!("{PREFIX}idempotency/{user}/{digest}")
}

impl Idempotency {
    /// Reservations beside `jobs`.
    pub fn new(jobs: JobStore) -> Self {
        Self { jobs }
    }

    /// The job the key names, if it was created.
    pub async fn existing(&self, user: &str, key: &str) -> MediaResult<Option<String>> {
        let Some((r, _)) = self
            .jobs
            .state()
            .get_json::<Reservation>(&key_of(user, key))
            .await?
        else {
            return Ok(None);
        };
        Ok(self.jobs.get(user, &r.job_id).await?.map(|_| r.job_id))
    }

    /// Claims `key` for `owner` until `until` (a new job id `fresh_id` if nobody holds it),
    /// or says whom to wait for, at time `now`.
    pub async fn claim(
        &self,
        user: &str,
        key: &str,
        owner: &str,
        fresh_id: &str,
        now: i64,
        until: i64,
    ) -> MediaResult<Claim> {
        let record = key_of(user, key);
        let state = self.jobs.state();
        loop {
            match state.get_json::<Reservation>(&record).await? {
                None => {
                    let mine = Reservation {
                        job_id: fresh_id.to_owned(),
                        owner: owner.to_owned(),
                        until,
                    };
                    match state.insert_json(&record, &mine).await {
                        Ok(_) => {
                            return Ok(Claim::Upload {
                                job_id: mine.job_id,
                            });
                        }
                        Err(PortabilityError::Conflict { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Some((r, version)) => {
                    if self.jobs.get(user, &r.job_id).await?.is_some() {
                        return Ok(Claim::Existing { job_id: r.job_id });
                    }
                    if r.owner == owner {
                        return Ok(Claim::Upload { job_id: r.job_id });
                    }
                    if r.until > now {
                        return Ok(Claim::Wait { job_id: r.job_id });
                    }
                    // The uploader stopped renewing: take over, keeping its job id.
                    let mine = Reservation {
                        job_id: r.job_id.clone(),
                        owner: owner.to_owned(),
                        until,
                    };
                    match state.put_json(&record, &mine, Some(version)).await {
                        Ok(_) => return Ok(Claim::Upload { job_id: r.job_id }),
                        Err(PortabilityError::Conflict { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
    }

    /// Records that `key` names the existing job `job_id` (the D1 import).
    pub async fn record(&self, user: &str, key: &str, job_id: &str) -> MediaResult<()> {
        let r = Reservation {
            job_id: job_id.to_owned(),
            owner: "d1-import".to_owned(),
            until: 0,
        };
        self.jobs
            .state()
            .put_json(&key_of(user, key), &r, None)
            .await?;
        Ok(())
    }

    /// Extends `owner`'s reservation to `until`; `false` when it is no longer `owner`'s.
    pub async fn renew(&self, user: &str, key: &str, owner: &str, until: i64) -> MediaResult<bool> {
        let record = key_of(user, key);
        let state = self.jobs.state();
        loop {
            let Some((mut r, version)) = state.get_json::<Reservation>(&record).await? else {
                return Ok(false);
            };
            if r.owner != owner {
                return Ok(false);
            }
            r.until = until;
            match state.put_json(&record, &r, Some(version)).await {
                Ok(_) => return Ok(true),
                Err(PortabilityError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Gives up `owner`'s reservation (its upload or validation failed) unless the job it
    /// names exists.
    pub async fn release(&self, user: &str, key: &str, owner: &str) -> MediaResult<()> {
        let record = key_of(user, key);
        let state = self.jobs.state();
        if let Some((r, version)) = state.get_json::<Reservation>(&record).await?
            && r.owner == owner
            && self.jobs.get(user, &r.job_id).await?.is_none()
        {
            match state.delete(&record, Some(version)).await {
                Ok(_) | Err(PortabilityError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
