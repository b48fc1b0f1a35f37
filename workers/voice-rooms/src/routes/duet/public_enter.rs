//! `POST /duet/:id/public-enter` (no auth; body `{wallet?, resource?}`, a body that is not
//! JSON counts as `{}`; optional `PAYMENT-SIGNATURE`) → the watch page's entry: an entitled
//! body wallet or a free room enters without paying, else the payment of §4.3.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::{duet, index_failed, payment_signature, reply};
use crate::duet::entry::{Entrant, EntryRequest, public_wallet};
use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn public_enter(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let resource = body
        .get("resource")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/duet/{id}/public-enter"));
    let entrant = match public_wallet(&body) {
        Ok(wallet) => Entrant::Public(wallet),
        Err(_) => Entrant::InvalidPublic,
    };
    let answer = duet
        .enter(EntryRequest {
            room_id: id.clone(),
            entrant,
            signature: payment_signature(&headers),
            base_resource: resource,
        })
        .await?;
    if answer.viewer_granted
        && let Err(err) = duet.db().count_duet_listener(&id, duet.now()).await
    {
        index_failed(&id, "listener count", err);
    }
    Ok(reply(answer))
}
