//! Upload bans (`music_upload_bans` of the original) in the `StateStore`, under
//! `media/music/bans/<user>/<ban id, 12 digits>`. The newest active ban that has not expired
//! blocks the user's music routes (403 `Upload access blocked`). Bans are written by the D1
//! import (`heaven migrate media-import`) and operators.

use std::sync::Arc;

use portability::{StateStore, StateStoreJsonExt};
use serde::{Deserialize, Serialize};

use crate::error::{MediaError, MediaResult};
use crate::jobs::store::{PREFIX, list_all};

/// One ban, with the original's columns.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadBan {
    pub ban_id: u64,
    pub user_address: String,
    pub self_nullifier: Option<String>,
    pub reason_code: String,
    pub reason: String,
    pub evidence_json: Option<String>,
    pub active: bool,
    /// Seconds; `None` = permanent.
    pub expires_at: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: i64,
}

fn prefix(user: &str) -> String {
    format!("{PREFIX}bans/{user}/")
}

/// The bans.
#[derive(Clone)]
pub struct BanStore {
    store: Arc<dyn StateStore>,
}

impl BanStore {
    /// Bans in `store`.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    /// Writes `ban` (replacing the ban with the same id).
    pub async fn put(&self, ban: &UploadBan) -> MediaResult<()> {
        let key = format!("{}{:012}", prefix(&ban.user_address), ban.ban_id);
        self.store.put_json(&key, ban, None).await?;
        Ok(())
    }

    /// Every ban of `user`, by id.
    pub async fn of(&self, user: &str) -> MediaResult<Vec<UploadBan>> {
        list_all(self.store.as_ref(), &prefix(user), None)
            .await?
            .into_iter()
            .map(|(key, record)| {
                serde_json::from_slice(&record.value)
                    .map_err(|e| MediaError::internal(format!("{key}: {e}")))
            })
            .collect()
    }

    /// The newest active ban of `user` in force at `now`.
    pub async fn active(&self, user: &str, now: i64) -> MediaResult<Option<UploadBan>> {
        Ok(self
            .of(user)
            .await?
            .into_iter()
            .filter(|b| b.active && b.expires_at.is_none_or(|e| e > now))
            .max_by_key(|b| (b.created_at, b.ban_id)))
    }
}
