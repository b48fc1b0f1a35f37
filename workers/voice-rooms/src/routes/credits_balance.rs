//! `GET /credits` (JWT) → `{remaining_seconds, base_granted_seconds, bonus_granted_seconds,
//! consumed_seconds}`, all zero for a wallet without an account (none is created). A token
//! whose `sub` is not an address has no account in the original either: zeros, no canister
//! call.

use axum::Json;
use axum::extract::State;

use super::extract::Session;
use crate::auth::Wallet;
use crate::credits::CreditBalance;
use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn balance(
    State(state): State<AppState>,
    Session(sub): Session,
) -> Result<Json<CreditBalance>, AppError> {
    let Some(wallet) = Wallet::parse(&sub.to_lowercase()) else {
        return Ok(Json(CreditBalance::default()));
    };
    Ok(Json(state.credits().balance(&wallet).await?))
}
