//! `POST /credits/verify-celo` (JWT): the canister reads the verification mirror and grants
//! the 1800 s Celo bonus once per wallet. Not verified (or unreadable) → 403
//! `{"error":"not_verified","granted":false}`; verified → 200 `{granted, remaining_seconds}`
//! (`granted` false when given before). A `sub` that is not an address cannot be read on the
//! mirror: not verified, as the original's failing `eth_call`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::Session;
use crate::auth::Wallet;
use crate::credits::CeloOutcome;
use crate::error::AppError;
use crate::state::AppState;

/// `{granted, remaining_seconds}`.
#[derive(Debug, Serialize)]
pub struct CeloGranted {
    /// The bonus was granted by this call.
    pub granted: bool,
    /// Balance after.
    pub remaining_seconds: u64,
}

/// Handler.
pub async fn verify_celo(
    State(state): State<AppState>,
    Session(sub): Session,
) -> Result<Json<CeloGranted>, AppError> {
    let wallet = Wallet::parse(&sub.to_lowercase()).ok_or(AppError::NotVerified)?;
    match state.credits().verify_celo(&wallet).await? {
        CeloOutcome::NotVerified => Err(AppError::NotVerified),
        CeloOutcome::Verified {
            granted,
            remaining_seconds,
        } => Ok(Json(CeloGranted {
            granted,
            remaining_seconds,
        })),
    }
}
