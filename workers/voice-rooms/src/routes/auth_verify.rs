//! `POST /auth/verify {wallet, signature, nonce}` → `{"token":"<jwt>"}`. The signature is
//! checked first, so a bad one never burns the nonce (401 `invalid signature`); then the nonce
//! is consumed once (401 `invalid or expired nonce`, the text the desktop client retries on).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::JsonBody;
use crate::auth::{Wallet, signature_matches};
use crate::error::AppError;
use crate::state::AppState;

/// `{token}`.
#[derive(Debug, Serialize)]
pub struct Verified {
    /// HS256 session token, one hour.
    pub token: String,
}

/// Handler.
pub async fn verify_signature(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Json<Verified>, AppError> {
    let (Some(wallet), Some(signature), Some(nonce)) = (
        body.string("wallet"),
        body.string("signature"),
        body.string("nonce"),
    ) else {
        return Err(AppError::BadRequest("missing wallet, signature, or nonce"));
    };
    let invalid_signature = AppError::Unauthorized("invalid signature");
    if !signature_matches(wallet, nonce, signature) {
        return Err(invalid_signature);
    }
    let wallet = Wallet::parse(wallet).ok_or(invalid_signature)?;
    let now = state.now();
    if !state.nonces().consume(&wallet, nonce, now).await? {
        return Err(AppError::Unauthorized("invalid or expired nonce"));
    }
    Ok(Json(Verified {
        token: state.tokens().issue(wallet.as_str(), now),
    }))
}
