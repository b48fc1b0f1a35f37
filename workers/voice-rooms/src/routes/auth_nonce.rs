//! `POST /auth/nonce {wallet}` → `{"nonce":"<64 hex>"}`. Any non-empty string is accepted as
//! the original does; only a wallet that is an address has its nonce stored (no other could
//! ever pass `/auth/verify`, whose signature check needs an address). New: issuance is limited
//! per client address, then per wallet (429 with `Retry-After`).

use axum::Json;
use axum::extract::State;
use http_common::ClientIp;
use portability::{Admission, RateLimit};
use serde::Serialize;

use super::extract::JsonBody;
use crate::auth::{Wallet, new_nonce};
use crate::error::AppError;
use crate::state::AppState;

/// `{nonce}`.
#[derive(Debug, Serialize)]
pub struct NonceIssued {
    /// The text to `personal_sign`.
    pub nonce: String,
}

/// Handler.
pub async fn issue_nonce(
    State(state): State<AppState>,
    client: ClientIp,
    body: JsonBody,
) -> Result<Json<NonceIssued>, AppError> {
    let wallet = body
        .string("wallet")
        .ok_or(AppError::BadRequest("missing wallet"))?;
    let limiters = state.nonce_limiters();
    // The client's own budget first, so one address hammering a victim's wallet is stopped
    // before it spends that wallet's budget.
    if let ClientIp(Some(ip)) = client {
        admit(&state, &limiters.per_ip, &ip.to_string()).await?;
    }
    let nonce = new_nonce();
    if let Some(wallet) = Wallet::parse(wallet) {
        admit(&state, &limiters.per_wallet, wallet.as_str()).await?;
        state.nonces().put(&wallet, &nonce, state.now()).await?;
    }
    Ok(Json(NonceIssued { nonce }))
}

/// Counts one nonce against `limit` for `key`; 429 over the limit.
async fn admit(state: &AppState, limit: &RateLimit, key: &str) -> Result<(), AppError> {
    match limit.admit(state.cache(), key).await? {
        Admission::Allowed => Ok(()),
        Admission::Limited { retry_after } => Err(AppError::RateLimited(retry_after)),
    }
}
