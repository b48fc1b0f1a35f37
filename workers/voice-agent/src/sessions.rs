//! The original's two D1 tables (`nonces`, `sessions`) as records in the [`StateStore`].
//!
//! | key | value |
//! |---|---|
//! | `voice-agent/nonces/<EIP-55 wallet>` | [`NonceRecord`] (one outstanding nonce per wallet) |
//! | `voice-agent/sessions/<session id>` | [`SessionRecord`] (the `sessions` row) |
//! | `voice-agent/llm-secrets/<sha256 hex>` | the session id (the `llm_secret_hash` index) |
//!
//! Updates are compare-and-swap on the record version, so concurrent stops, verifies or
//! context writes never lose each other's changes.

use std::sync::Arc;

use portability::{PortabilityError, StateStore, StateStoreJsonExt};
use serde::{Deserialize, Serialize};

const NONCES: &str = "voice-agent/nonces/";
const SESSIONS: &str = "voice-agent/sessions/";
const SECRETS: &str = "voice-agent/llm-secrets/";
const CAS_ATTEMPTS: usize = 8;

/// A row of `nonces`: the hash of the outstanding nonce of a wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceRecord {
    /// EIP-55 wallet.
    pub wallet: String,
    /// `sha256hex(nonce)`.
    pub nonce_hash: String,
    /// Epoch ms after which the nonce is refused.
    pub expires_at: i64,
    /// Epoch ms of issue.
    pub created_at: i64,
}

/// A session's lifecycle state (`status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// Started; its LLM secret is accepted.
    Active,
    /// Stopped by its owner.
    Ended,
    /// Agora refused to start the agent (the original left such rows `active`).
    Error,
}

impl SessionStatus {
    /// The status as the D1 column holds it.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(Self::Active),
            "ended" => Some(Self::Ended),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// A row of `sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// UUID v4.
    pub id: String,
    /// EIP-55 wallet of the owner (the JWT subject).
    pub wallet: String,
    /// Agora channel name.
    pub channel: String,
    /// The agent id Agora returned.
    pub agora_agent_id: Option<String>,
    /// `sha256hex(llm_secret)`.
    pub llm_secret_hash: String,
    /// Memory and activity context injected into the voice prompt.
    pub context_blob: Option<String>,
    /// Epoch ms.
    pub started_at: i64,
    /// Epoch ms.
    pub ended_at: Option<i64>,
    /// `max(0, ended_at - started_at)`.
    pub duration_ms: Option<i64>,
    /// Lifecycle state.
    pub status: SessionStatus,
}

/// Outcome of consuming a nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonceCheck {
    /// The nonce matched, was unexpired, and is now consumed.
    Consumed,
    /// No nonce, another nonce, expired, or already consumed by a concurrent verify.
    Refused,
}

/// Nonces and sessions over a [`StateStore`].
#[derive(Clone)]
pub struct SessionBook {
    store: Arc<dyn StateStore>,
}

impl SessionBook {
    /// Keeps records in `store`.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    /// Replaces the wallet's outstanding nonce (the original's upsert).
    pub async fn put_nonce(&self, record: &NonceRecord) -> Result<(), PortabilityError> {
        self.store
            .put_json(&format!("{NONCES}{}", record.wallet), record, None)
            .await?;
        Ok(())
    }

    /// The wallet's outstanding nonce.
    pub async fn nonce(&self, wallet: &str) -> Result<Option<NonceRecord>, PortabilityError> {
        Ok(self
            .store
            .get_json(&format!("{NONCES}{wallet}"))
            .await?
            .map(|(record, _)| record))
    }

    /// Deletes every nonce expired at `now_ms` (each only if unchanged since it was read, so a
    /// nonce re-issued meanwhile survives); returns how many.
    pub async fn sweep_expired_nonces(&self, now_ms: i64) -> Result<usize, PortabilityError> {
        let mut removed = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list(NONCES, after.as_deref(), portability::MAX_LIST_LIMIT)
                .await?;
            let last_page = page.len() < portability::MAX_LIST_LIMIT;
            for (key, record) in &page {
                let expired = serde_json::from_slice::<NonceRecord>(&record.value)
                    .map(|nonce| now_ms > nonce.expires_at)
                    // A record this build cannot read is useless to a verify: remove it too.
                    .unwrap_or(true);
                if expired {
                    match self.store.delete(key, Some(record.version)).await {
                        Ok(true) => removed += 1,
                        Ok(false) | Err(PortabilityError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            if last_page {
                return Ok(removed);
            }
            after = page.last().map(|(key, _)| key.clone());
        }
    }

    /// Checks that `nonce_hash` is the wallet's unexpired nonce at `now_ms` and consumes it
    /// when `signature_ok` approves it. Exactly one of concurrent verifications succeeds.
    pub async fn consume_nonce(
        &self,
        wallet: &str,
        nonce_hash: &str,
        now_ms: i64,
        signature_ok: impl FnOnce() -> bool,
    ) -> Result<NonceCheck, PortabilityError> {
        let key = format!("{NONCES}{wallet}");
        let Some((record, version)) = self.store.get_json::<NonceRecord>(&key).await? else {
            return Ok(NonceCheck::Refused);
        };
        if now_ms > record.expires_at || record.nonce_hash != nonce_hash || !signature_ok() {
            return Ok(NonceCheck::Refused);
        }
        match self.store.delete(&key, Some(version)).await {
            Ok(true) => Ok(NonceCheck::Consumed),
            Ok(false) | Err(PortabilityError::Conflict { .. }) => Ok(NonceCheck::Refused),
            Err(err) => Err(err),
        }
    }

    /// Stores a new session and its secret index.
    pub async fn insert_session(&self, session: &SessionRecord) -> Result<(), PortabilityError> {
        self.store
            .insert_json(&format!("{SESSIONS}{}", session.id), session)
            .await?;
        self.store
            .put_json(
                &format!("{SECRETS}{}", session.llm_secret_hash),
                &session.id,
                None,
            )
            .await?;
        Ok(())
    }

    /// Writes a session as given (imports); keeps the secret index in step.
    pub async fn put_session(&self, session: &SessionRecord) -> Result<(), PortabilityError> {
        self.store
            .put_json(&format!("{SESSIONS}{}", session.id), session, None)
            .await?;
        self.store
            .put_json(
                &format!("{SECRETS}{}", session.llm_secret_hash),
                &session.id,
                None,
            )
            .await?;
        Ok(())
    }

    /// The session `id`.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRecord>, PortabilityError> {
        if id.is_empty() {
            return Ok(None);
        }
        Ok(self
            .store
            .get_json(&format!("{SESSIONS}{id}"))
            .await?
            .map(|(record, _)| record))
    }

    /// The active session whose LLM secret hashes to `secret_hash`.
    pub async fn active_session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<SessionRecord>, PortabilityError> {
        let Some((id, _)) = self
            .store
            .get_json::<String>(&format!("{SECRETS}{secret_hash}"))
            .await?
        else {
            return Ok(None);
        };
        Ok(self
            .session(&id)
            .await?
            .filter(|s| s.status == SessionStatus::Active && s.llm_secret_hash == secret_hash))
    }

    /// Applies `change` to the session with compare-and-swap, retrying on concurrent writes.
    /// `change` returns `false` to leave the record as it is. Returns the record as stored
    /// afterwards, or `None` when there is no such session.
    pub async fn update_session(
        &self,
        id: &str,
        mut change: impl FnMut(&mut SessionRecord) -> bool,
    ) -> Result<Option<SessionRecord>, PortabilityError> {
        let key = format!("{SESSIONS}{id}");
        for _ in 0..CAS_ATTEMPTS {
            let Some((mut record, version)) = self.store.get_json::<SessionRecord>(&key).await?
            else {
                return Ok(None);
            };
            if !change(&mut record) {
                return Ok(Some(record));
            }
            match self.store.put_json(&key, &record, Some(version)).await {
                Ok(_) => return Ok(Some(record)),
                Err(PortabilityError::Conflict { .. }) => continue,
                Err(err) => return Err(err),
            }
        }
        Err(PortabilityError::Backend {
            backend: "voice-agent",
            message: format!("session {id} kept changing during {CAS_ATTEMPTS} attempts"),
        })
    }
}
