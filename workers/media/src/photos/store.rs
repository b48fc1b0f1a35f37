//! [`PhotoStore`]: the pipeline's records over the [`StateStore`]; every change to a job is a
//! compare-and-set, so two runs (a resumed one and a late original) never both advance it.

use std::sync::Arc;

use portability::{PortabilityError, StateStore, StateStoreJsonExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::model::{AnimeAssets, PhotoAccess, PhotoJob, SourceToken, UserPhoto, keys};

/// Records of the photo pipeline.
#[derive(Clone)]
pub struct PhotoStore {
    state: Arc<dyn StateStore>,
}

impl std::fmt::Debug for PhotoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhotoStore(..)")
    }
}

type Result<T> = std::result::Result<T, PortabilityError>;

impl PhotoStore {
    /// The records in `state`.
    pub fn new(state: Arc<dyn StateStore>) -> Self {
        Self { state }
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<(T, u64)>> {
        self.state.get_json(key).await
    }

    async fn put<T: Serialize + Sync>(&self, key: &str, value: &T) -> Result<u64> {
        self.state.put_json(key, value, None).await
    }

    /// A job and its version.
    pub async fn job(&self, job_id: &str) -> Result<Option<(PhotoJob, u64)>> {
        self.get(&keys::job(job_id)).await
    }

    /// Stores a new job and its unfinished marker.
    pub async fn create_job(&self, job: &PhotoJob) -> Result<u64> {
        let version = self.state.insert_json(&keys::job(&job.job_id), job).await?;
        self.state
            .put(&keys::active(&job.job_id), Vec::new(), None)
            .await?;
        Ok(version)
    }

    /// Replaces `job` if it is still at `version`; `Ok(None)` when someone else changed it.
    /// A final job loses its unfinished marker.
    pub async fn replace_job(&self, job: &PhotoJob, version: u64) -> Result<Option<u64>> {
        match self
            .state
            .put_json(&keys::job(&job.job_id), job, Some(version))
            .await
        {
            Ok(version) => {
                if job.status.is_final() {
                    self.state.delete(&keys::active(&job.job_id), None).await?;
                }
                Ok(Some(version))
            }
            Err(PortabilityError::Conflict { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Ids of unfinished jobs after `after`, in order, at most `limit`.
    pub async fn active_jobs(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let after = after.map(keys::active);
        let page = self
            .state
            .list(keys::ACTIVE_PREFIX, after.as_deref(), limit)
            .await?;
        Ok(page
            .into_iter()
            .filter_map(|(key, _)| key.strip_prefix(keys::ACTIVE_PREFIX).map(str::to_owned))
            .collect())
    }

    /// A photo by id.
    pub async fn photo(&self, photo_id: &str) -> Result<Option<UserPhoto>> {
        Ok(self.get(&keys::photo(photo_id)).await?.map(|(p, _)| p))
    }

    /// Stores `photo` and points its owner's slot at it (the original's upsert on
    /// `(user_id, slot)`).
    pub async fn upsert_photo(&self, photo: &UserPhoto) -> Result<()> {
        self.put(&keys::photo(&photo.photo_id), photo).await?;
        self.put(&keys::slot(&photo.user_id, photo.slot), &photo.photo_id)
            .await?;
        Ok(())
    }

    /// The photos in `user`'s slots, by slot.
    pub async fn photos_of(&self, user: &str) -> Result<Vec<UserPhoto>> {
        let slots = self.state.list(&keys::slots(user), None, 16).await?;
        let mut photos = Vec::new();
        for (_, record) in slots {
            let photo_id: String = serde_json::from_slice(&record.value)
                .map_err(|e| PortabilityError::from_json("photo slot", e))?;
            if let Some(photo) = self.photo(&photo_id).await? {
                photos.push(photo);
            }
        }
        Ok(photos)
    }

    /// A user's anime assets.
    pub async fn anime(&self, user: &str) -> Result<Option<AnimeAssets>> {
        Ok(self.get(&keys::anime(user)).await?.map(|(a, _)| a))
    }

    /// Stores a user's anime assets (last writer wins, as the original's upsert).
    pub async fn put_anime(&self, assets: &AnimeAssets) -> Result<()> {
        self.put(&keys::anime(&assets.user_id), assets)
            .await
            .map(drop)
    }

    /// A viewer's access to a photo.
    pub async fn access(&self, viewer: &str, photo_id: &str) -> Result<Option<PhotoAccess>> {
        Ok(self
            .get(&keys::access(viewer, photo_id))
            .await?
            .map(|(a, _)| a))
    }

    /// Stores an access (a later grant for the same viewer and photo replaces it).
    pub async fn put_access(&self, access: &PhotoAccess) -> Result<()> {
        self.put(
            &keys::access(&access.viewer_user_id, &access.photo_id),
            access,
        )
        .await
        .map(drop)
    }

    /// Stores a source token under its hash.
    pub async fn put_token(&self, hash: &str, token: &SourceToken) -> Result<()> {
        self.put(&keys::token(hash), token).await.map(drop)
    }

    /// The token stored under `hash` and its version.
    pub async fn token(&self, hash: &str) -> Result<Option<(SourceToken, u64)>> {
        self.get(&keys::token(hash)).await
    }

    /// Uses up the token: `false` when another request used it first.
    pub async fn consume_token(&self, hash: &str, version: u64) -> Result<bool> {
        match self.state.delete(&keys::token(hash), Some(version)).await {
            Ok(deleted) => Ok(deleted),
            Err(PortabilityError::Conflict { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }
}
