//! [`JobStore`]: music publish jobs and their indexes in the `StateStore`.
//!
//! Keys (every one under the owner's lowercase address, so no query can reach another user's
//! job):
//! - `media/music/jobs/<user>/<job id>`: the job ([`MusicJob`] as JSON); every change is a
//!   compare-and-set on its version ([`JobStore::update`]).
//! - `media/music/usage/<user>/<created_at, 12 digits>-<job id>`: the job's file size, for the
//!   rolling 24 h quota (a prefix scan from the window's start).
//! - `media/music/sha/<audio sha256>/<job id>`: the owner, for preflight's duplicate lookup.
//! - `media/music/leases/<user>/<job id>`: jobs that hold (or held) a step lease, for the
//!   recovery sweep ([`super::recovery`]).
//! - idempotency reservations: [`super::idempotency`].

use std::sync::Arc;

use portability::{PortabilityError, StateStore, StateStoreJsonExt, Versioned};
use serde::{Deserialize, Serialize};

use super::model::{JobStatus, MusicJob};
use crate::error::{MediaError, MediaResult};

/// Key prefix of every media record.
pub const PREFIX: &str = "media/music/";

fn job_key(user: &str, job_id: &str) -> String {
    format!("{PREFIX}jobs/{user}/{job_id}")
}

fn usage_prefix(user: &str) -> String {
    format!("{PREFIX}usage/{user}/")
}

fn sha_prefix(sha: &str) -> String {
    format!("{PREFIX}sha/{sha}/")
}

/// Prefix of the lease index.
pub fn lease_prefix() -> String {
    format!("{PREFIX}leases/")
}

fn lease_key(user: &str, job_id: &str) -> String {
    format!("{PREFIX}leases/{user}/{job_id}")
}

/// A job and the version it was read at.
#[derive(Clone, Debug)]
pub struct StoredJob {
    /// The job.
    pub job: MusicJob,
    /// Its record version (the compare-and-set token).
    pub version: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    file_size: u64,
}

#[derive(Serialize, Deserialize)]
struct ShaEntry {
    user: String,
}

/// A job with the same audio hash (preflight's `duplicateCandidates`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateCandidate {
    /// Its id.
    pub job_id: String,
    /// Its status.
    pub status: JobStatus,
    /// Its `ar://` ref, if anchored.
    pub arweave_ref: Option<String>,
}

/// Jobs in a state store.
#[derive(Clone)]
pub struct JobStore {
    store: Arc<dyn StateStore>,
}

impl std::fmt::Debug for JobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobStore").finish_non_exhaustive()
    }
}

impl JobStore {
    /// Jobs in `store`.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn state(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    /// The job `job_id` of `user`, if it exists.
    pub async fn get(&self, user: &str, job_id: &str) -> MediaResult<Option<StoredJob>> {
        if !valid_job_id(job_id) {
            return Ok(None);
        }
        Ok(self
            .store
            .get_json::<MusicJob>(&job_key(user, job_id))
            .await?
            .map(|(job, version)| StoredJob { job, version }))
    }

    /// Creates `job` (its usage and hash index entries first, so a crash in between can only
    /// over-count the quota). `Ok(false)` when a job with that id exists already.
    pub async fn create(&self, job: &MusicJob) -> MediaResult<bool> {
        let user = &job.user_address;
        let usage = format!(
            "{}{:012}-{}",
            usage_prefix(user),
            job.created_at.max(0),
            job.job_id
        );
        self.store
            .put_json(
                &usage,
                &Usage {
                    file_size: job.file_size.unwrap_or(0),
                },
                None,
            )
            .await?;
        if let Some(sha) = &job.audio_sha256 {
            let entry = ShaEntry { user: user.clone() };
            self.store
                .put_json(&format!("{}{}", sha_prefix(sha), job.job_id), &entry, None)
                .await?;
        }
        match self
            .store
            .insert_json(&job_key(user, &job.job_id), job)
            .await
        {
            Ok(_) => Ok(true),
            Err(PortabilityError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes `job` (imported from D1) with its usage and hash index entries, replacing a
    /// record with the same id.
    pub async fn import(&self, job: &MusicJob) -> MediaResult<()> {
        let user = &job.user_address;
        let usage = format!(
            "{}{:012}-{}",
            usage_prefix(user),
            job.created_at.max(0),
            job.job_id
        );
        let size = Usage {
            file_size: job.file_size.unwrap_or(0),
        };
        self.store.put_json(&usage, &size, None).await?;
        if let Some(sha) = &job.audio_sha256 {
            let entry = ShaEntry { user: user.clone() };
            self.store
                .put_json(&format!("{}{}", sha_prefix(sha), job.job_id), &entry, None)
                .await?;
        }
        self.store
            .put_json(&job_key(user, &job.job_id), job, None)
            .await?;
        Ok(())
    }

    /// Writes `job` over the record read at `version` (compare-and-set). `Ok(None)` when the
    /// record changed since.
    pub async fn replace(&self, job: &MusicJob, version: u64) -> MediaResult<Option<u64>> {
        match self
            .store
            .put_json(&job_key(&job.user_address, &job.job_id), job, Some(version))
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(PortabilityError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies `change` to the job and writes it with a compare-and-set, re-reading and
    /// re-applying after a concurrent write, until it lands. `change` decides from the job as
    /// it is now: an `Err` stops without writing. `Ok(None)` when the job does not exist.
    pub async fn update<T>(
        &self,
        user: &str,
        job_id: &str,
        mut change: impl FnMut(&mut MusicJob) -> MediaResult<T>,
    ) -> MediaResult<Option<(StoredJob, T)>> {
        loop {
            let Some(current) = self.get(user, job_id).await? else {
                return Ok(None);
            };
            let mut job = current.job.clone();
            let out = change(&mut job)?;
            if let Some(version) = self.replace(&job, current.version).await? {
                return Ok(Some((StoredJob { job, version }, out)));
            }
        }
    }

    /// Jobs created by `user` at or after `since` (seconds): their count and total file size.
    pub async fn usage_since(&self, user: &str, since: i64) -> MediaResult<(u64, u64)> {
        let prefix = usage_prefix(user);
        // Keys are `<12-digit created_at>-<id>`: everything after `<since - 1>~` is in the
        // window ('~' sorts after '-').
        let after = format!("{prefix}{:012}~", (since - 1).max(0));
        let (mut count, mut bytes) = (0u64, 0u64);
        for (key, record) in list_all(self.store.as_ref(), &prefix, Some(after)).await? {
            let usage: Usage = serde_json::from_slice(&record.value)
                .map_err(|e| MediaError::internal(format!("{key}: {e}")))?;
            count += 1;
            bytes += usage.file_size;
        }
        Ok((count, bytes))
    }

    /// Up to five other jobs (any user) with audio hash `sha` in a state at or past
    /// `policy_passed`, most recently updated first.
    pub async fn duplicates(
        &self,
        sha: &str,
        except: &str,
    ) -> MediaResult<Vec<DuplicateCandidate>> {
        let prefix = sha_prefix(sha);
        let mut found: Vec<(i64, DuplicateCandidate)> = Vec::new();
        for (key, record) in list_all(self.store.as_ref(), &prefix, None).await? {
            let job_id = &key[prefix.len()..];
            if job_id == except {
                continue;
            }
            let Ok(entry) = serde_json::from_slice::<ShaEntry>(&record.value) else {
                continue;
            };
            if let Some(other) = self.get(&entry.user, job_id).await?
                && matches!(
                    other.job.status,
                    JobStatus::PolicyPassed
                        | JobStatus::Anchoring
                        | JobStatus::Anchored
                        | JobStatus::Registering
                        | JobStatus::Registered
                )
            {
                found.push((
                    other.job.updated_at,
                    DuplicateCandidate {
                        job_id: other.job.job_id,
                        status: other.job.status,
                        arweave_ref: other.job.arweave_ref,
                    },
                ));
            }
        }
        found.sort_by_key(|c| std::cmp::Reverse(c.0));
        Ok(found.into_iter().take(5).map(|(_, c)| c).collect())
    }

    /// Records that `job_id` of `user` holds a lease (before the lease is written).
    pub async fn mark_leased(&self, user: &str, job_id: &str) -> MediaResult<()> {
        self.store
            .put(&lease_key(user, job_id), b"{}".to_vec(), None)
            .await?;
        Ok(())
    }

    /// Forgets the lease index entry of `job_id` (after the lease is gone).
    pub async fn unmark_leased(&self, user: &str, job_id: &str) -> MediaResult<()> {
        self.store.delete(&lease_key(user, job_id), None).await?;
        Ok(())
    }

    /// A page of the lease index: `(user, job id)` after the key `after`.
    pub async fn leased(&self, after: Option<&str>) -> MediaResult<Vec<(String, String, String)>> {
        let prefix = lease_prefix();
        let page = self
            .store
            .list(&prefix, after, portability::MAX_LIST_LIMIT)
            .await?;
        Ok(page
            .into_iter()
            .filter_map(|(key, _)| {
                let rest = key[prefix.len()..].to_owned();
                let (user, id) = rest.split_once('/')?;
                Some((key.clone(), user.to_owned(), id.to_owned()))
            })
            .collect())
    }
}

/// Every record under `prefix` (after the key `after`), page by page.
pub async fn list_all(
    store: &dyn StateStore,
    prefix: &str,
    mut after: Option<String>,
) -> MediaResult<Vec<(String, Versioned)>> {
    let mut out = Vec::new();
    loop {
        let page = store
            .list(prefix, after.as_deref(), portability::MAX_LIST_LIMIT)
            .await?;
        let full = page.len() == portability::MAX_LIST_LIMIT;
        after = page.last().map(|(key, _)| key.clone());
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// Whether `id` can be a job id (keeps path parameters from reaching into other keys).
pub fn valid_job_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A fresh job id: `music_` and 32 random hex digits, as the original.
pub fn new_job_id() -> String {
    format!("music_{}", hex::encode(rand::random::<[u8; 16]>()))
}
