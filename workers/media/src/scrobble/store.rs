//! Scrobble batches and track events in the `StateStore` (the original's `scrobble_batches`
//! and `scrobble_track_events`):
//! - `media/scrobble/batches/<user>/<inverted created_at>-<inverted nanos>-<random>`: one
//!   record per uploaded batch; the inverted times make a prefix listing newest first, so
//!   `/batches` reads at most one page. Like the original's table, a retried upload adds a row.
//! - `media/scrobble/events/<id>`: one record per track event, created only if absent (the
//!   original's `INSERT OR IGNORE`; the id already names user, time, track and source).

use std::sync::Arc;

use portability::{PortabilityError, StateStore, StateStoreJsonExt};
use serde::{Deserialize, Serialize};

use crate::error::{MediaError, MediaResult};

const PREFIX: &str = "media/scrobble/";
/// Timestamps are stored as `INVERT - created_at` so that keys sort newest first.
const INVERT: i64 = 999_999_999_999;
/// The most batches `/batches` returns.
pub const MAX_LISTED: usize = 100;

/// A `scrobble_batches` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// Owner (lowercase).
    pub user_address: String,
    /// The Load data-item id.
    pub cid: String,
    /// Tracks.
    pub track_count: u64,
    /// First `playedAt` (floored).
    pub start_ts: i64,
    /// Last `playedAt` (floored).
    pub end_ts: i64,
    /// Seconds.
    pub created_at: i64,
    /// EAS attestation, when made.
    pub attestation_uid: Option<String>,
    /// Its transaction.
    pub tx_hash: Option<String>,
}

/// A `scrobble_track_events` row.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackEvent {
    pub id: String,
    pub user_address: String,
    pub played_at: f64,
    pub source: Option<String>,
    pub track_key: String,
    pub mbid: Option<String>,
    pub isrc: Option<String>,
    pub acoustid: Option<String>,
    pub confidence: f64,
    pub title_norm: String,
    pub artist_norm: String,
    pub album_norm: String,
    pub duration_s: Option<i64>,
    pub batch_cid: String,
}

/// Batches and events in a state store.
#[derive(Clone)]
pub struct ScrobbleStore {
    store: Arc<dyn StateStore>,
}

impl std::fmt::Debug for ScrobbleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrobbleStore").finish_non_exhaustive()
    }
}

fn batches_prefix(user: &str) -> String {
    format!("{PREFIX}batches/{user}/")
}

impl ScrobbleStore {
    /// Batches and events in `store`.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    /// Records a batch; returns its key (for [`Self::set_attestation`]).
    pub async fn add_batch(&self, batch: &BatchRecord) -> MediaResult<String> {
        // Within one second, newer rows sort first too (inverted wall-clock nanoseconds).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let key = format!(
            "{}{:012}-{:016x}-{}",
            batches_prefix(&batch.user_address),
            (INVERT - batch.created_at).max(0),
            u64::MAX - nanos,
            hex::encode(rand::random::<[u8; 4]>())
        );
        self.store.insert_json(&key, batch).await?;
        Ok(key)
    }

    /// Adds the attestation of the batch at `key`.
    pub async fn set_attestation(&self, key: &str, uid: &str, tx_hash: &str) -> MediaResult<()> {
        loop {
            let Some((mut batch, version)) = self.store.get_json::<BatchRecord>(key).await? else {
                return Ok(());
            };
            batch.attestation_uid = Some(uid.to_owned());
            batch.tx_hash = Some(tx_hash.to_owned());
            match self.store.put_json(key, &batch, Some(version)).await {
                Ok(_) => return Ok(()),
                Err(PortabilityError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `user`'s newest batches, at most [`MAX_LISTED`], newest first.
    pub async fn batches(&self, user: &str) -> MediaResult<Vec<BatchRecord>> {
        let page = self
            .store
            .list(&batches_prefix(user), None, MAX_LISTED)
            .await?;
        page.into_iter()
            .map(|(key, record)| {
                serde_json::from_slice(&record.value)
                    .map_err(|e| MediaError::internal(format!("{key}: {e}")))
            })
            .collect()
    }

    /// Stores `event` unless an event with its id exists; `true` when it was new.
    pub async fn insert_event(&self, event: &TrackEvent) -> MediaResult<bool> {
        match self
            .store
            .insert_json(&format!("{PREFIX}events/{}", event.id), event)
            .await
        {
            Ok(_) => Ok(true),
            Err(PortabilityError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The event `id`, if stored.
    pub async fn event(&self, id: &str) -> MediaResult<Option<TrackEvent>> {
        Ok(self
            .store
            .get_json::<TrackEvent>(&format!("{PREFIX}events/{id}"))
            .await?
            .map(|(event, _)| event))
    }
}
