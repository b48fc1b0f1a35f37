//! `POST /duet/:id/guest/accept` (JWT) → the caller takes the guest seat (the invited wallet,
//! or anyone first when nobody was invited); the index records the guest.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::{duet, forward, index_failed};
use crate::duet::DuetCommand;
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::state::AppState;

/// Handler.
pub async fn accept(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let wallet = sub.to_lowercase();
    let answer = duet
        .call(
            &id,
            DuetCommand::GuestAccept {
                wallet: wallet.clone(),
            },
        )
        .await?;
    if answer.status == 200 {
        let guest = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|b| b["guest_wallet"].as_str().map(str::to_lowercase))
            .unwrap_or(wallet);
        if let Err(err) = duet.db().set_duet_guest(&id, &guest, duet.now()).await {
            index_failed(&id, "guest update", err);
        }
    }
    Ok(forward(answer))
}
