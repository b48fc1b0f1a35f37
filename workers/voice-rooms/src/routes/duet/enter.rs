//! `POST /duet/:id/enter` (JWT, optional `PAYMENT-SIGNATURE`) → a viewer grant for an entitled
//! wallet, a free room or a settled payment; else 402 with `PAYMENT-REQUIRED` (§4.3). Each
//! grant counts one listener in the index (the original's quirk: renewals count too).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{duet, index_failed, payment_signature, reply};
use crate::duet::entry::{Entrant, EntryRequest};
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::state::AppState;

/// Handler.
pub async fn enter(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let answer = duet
        .enter(EntryRequest {
            room_id: id.clone(),
            entrant: Entrant::Session(sub.to_lowercase()),
            signature: payment_signature(&headers),
            base_resource: format!("/duet/{id}/enter"),
        })
        .await?;
    if answer.viewer_granted
        && let Err(err) = duet.db().count_duet_listener(&id, duet.now()).await
    {
        index_failed(&id, "listener count", err);
    }
    Ok(reply(answer))
}
