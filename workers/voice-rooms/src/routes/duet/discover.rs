//! `GET /duet/discover` (optional JWT) → `{"rooms":[…]}`: created or live rooms that are
//! public or have the caller as host or guest, live first, newest first, at most 100. Never
//! an error: a failing index answers an empty list, as the original.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{duet, optional_wallet};
use crate::duet::body::Body;
use crate::error::AppError;
use crate::routes::rooms_shared::json_text;
use crate::state::AppState;

/// Handler.
pub async fn discover(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let wallet = optional_wallet(&state, &headers).unwrap_or_default();
    let rooms = match duet.db().discover_duet_rooms(&wallet).await {
        Ok(rooms) => rooms,
        Err(err) => {
            tracing::warn!(%err, "duet discover failed (answering an empty list)");
            Vec::new()
        }
    };
    Ok(json_text(200, Body::new().field("rooms", rooms).finish()))
}
