//! `POST /auth/nonce {wallet}`: issues the wallet's login nonce (replacing any earlier one, as
//! the original). New: a wallet that is not an address is a 400 (the original crashed into a
//! plain-text 500), and issuance is limited per client address, then per wallet (429).

use axum::Json;
use axum::extract::State;
use http_common::ClientIp;
use portability::Admission;
use serde::Serialize;

use super::extract::{JsonBody, truthy_field, wallet_field};
use crate::auth::NonceChallenge;
use crate::error::AppError;
use crate::sessions::NonceRecord;
use crate::state::{AppState, now_ms};

/// `{wallet, nonce, expiresAt}`.
#[derive(Debug, Serialize)]
pub struct NonceIssued {
    /// EIP-55 wallet.
    pub wallet: String,
    /// The string to sign.
    pub nonce: String,
    /// Expiry, epoch ms.
    #[serde(rename = "expiresAt")]
    pub expires_at: i64,
}

/// Handler.
pub async fn issue_nonce(
    State(state): State<AppState>,
    client: ClientIp,
    JsonBody(body): JsonBody,
) -> Result<Json<NonceIssued>, AppError> {
    let wallet =
        truthy_field(body.as_ref(), "wallet").ok_or(AppError::BadRequest("wallet required"))?;
    let wallet = wallet_field(wallet)?;
    let limiters = state.nonce_limiters();
    // The client's own budget first, so one address hammering a victim's wallet is stopped
    // before it spends that wallet's budget.
    if let ClientIp(Some(ip)) = client {
        admit(&state, &limiters.per_ip, &ip.to_string()).await?;
    }
    admit(&state, &limiters.per_wallet, wallet.as_str()).await?;
    let challenge = NonceChallenge::issue(now_ms());
    state
        .sessions()
        .put_nonce(&NonceRecord {
            wallet: wallet.to_string(),
            nonce_hash: challenge.nonce_hash,
            expires_at: challenge.expires_at,
            created_at: challenge.created_at,
        })
        .await?;
    Ok(Json(NonceIssued {
        wallet: wallet.to_string(),
        nonce: challenge.nonce,
        expires_at: challenge.expires_at,
    }))
}

/// Counts one nonce against `limit` for `key`; 429 over the limit.
async fn admit(
    state: &AppState,
    limit: &portability::RateLimit,
    key: &str,
) -> Result<(), AppError> {
    match limit.admit(state.cache(), key).await? {
        Admission::Allowed => Ok(()),
        Admission::Limited { retry_after } => Err(AppError::RateLimited(retry_after)),
    }
}
