//! `GET /duet/:id/replay` (optional JWT: a header that is present but invalid is 401; optional
//! `PAYMENT-SIGNATURE`) → load-gated rooms point at Load's x402 URL; worker-gated rooms hand an
//! entitled (or paying) wallet a one-time access token for `/replay/source` (§4.8).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{duet, optional_wallet, payment_signature, reply};
use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let wallet = optional_wallet(&state, &headers);
    if headers.contains_key("authorization") && wallet.is_none() {
        return Err(AppError::Unauthorized("unauthorized"));
    }
    Ok(reply(
        duet.replay(&id, wallet, payment_signature(&headers))
            .await?,
    ))
}
