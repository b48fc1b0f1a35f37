//! `POST /auth/verify {wallet, signature, nonce}`: checks the EIP-191 signature of the wallet's
//! outstanding nonce and answers a one-hour session JWT. Unlike the original, the nonce is
//! consumed (a captured signature cannot be replayed), a malformed signature is the same 401 as
//! a wrong one and a wallet that is not an address a 400, instead of a crash.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::{JsonBody, js_string, truthy_field, wallet_field};
use crate::auth::{recover_personal_sign, sha256_hex};
use crate::error::AppError;
use crate::sessions::NonceCheck;
use crate::state::{AppState, now_ms};

/// `{token, wallet}`.
#[derive(Debug, Serialize)]
pub struct Verified {
    /// HS256 session token.
    pub token: String,
    /// EIP-55 wallet.
    pub wallet: String,
}

/// Handler.
pub async fn verify_signature(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Verified>, AppError> {
    let fields = ["wallet", "signature", "nonce"].map(|k| truthy_field(body.as_ref(), k));
    let [Some(wallet), Some(signature), Some(nonce)] = fields else {
        return Err(AppError::BadRequest("wallet, signature, nonce required"));
    };
    let wallet = wallet_field(wallet)?;
    let (signature, nonce) = (js_string(signature), js_string(nonce));
    let now = now_ms();
    let check = state
        .sessions()
        .consume_nonce(wallet.as_str(), &sha256_hex(&nonce), now, || {
            recover_personal_sign(&nonce, &signature).as_ref() == Some(&wallet)
        })
        .await?;
    if check != NonceCheck::Consumed {
        return Err(AppError::Unauthorized("signature verification failed"));
    }
    Ok(Json(Verified {
        token: state.tokens().issue(&wallet, now / 1000),
        wallet: wallet.to_string(),
    }))
}
