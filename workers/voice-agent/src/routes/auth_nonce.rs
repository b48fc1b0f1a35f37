//! `POST /auth/nonce {wallet}`: issues the wallet's login nonce (replacing any earlier one).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::{JsonBody, js_string, truthy_field};
use crate::auth::{NonceChallenge, Wallet};
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
    JsonBody(body): JsonBody,
) -> Result<Json<NonceIssued>, AppError> {
    let wallet =
        truthy_field(body.as_ref(), "wallet").ok_or(AppError::BadRequest("wallet required"))?;
    let wallet = Wallet::parse(&js_string(wallet)).map_err(AppError::internal)?;
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
