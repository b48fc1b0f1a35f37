//! `POST /internal/{family}/{room}/apply`: a room command forwarded by another replica of this
//! service (docs/adr/0022) to the coordinator of `family` (`rooms`: free rooms and booked
//! sessions; `duet`: duet rooms), authenticated by `ROOMS_PEER_SECRET` in
//! [`PEER_SECRET_HEADER`](crate::rooms::peers::PEER_SECRET_HEADER). Answers 200 with the room's
//! event (its JSON, as the local call would return it), 409 `{"error":"not_owner"}` when this
//! replica does not run the room (the sender looks again), 503 when it cannot serve rooms now.
//! Without a configured secret the path is the plain-text 404 like any unknown one.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_common::{constant_time_eq, json_error};
use portability::PeerError;

use crate::error::AppError;
use crate::rooms::peers::{DUET_ROOMS, FREE_ROOMS, NOT_OWNER_STATUS, PEER_SECRET_HEADER};
use crate::state::AppState;

/// Handler.
pub async fn apply_forwarded(
    State(state): State<AppState>,
    Path((family, room_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let Some(secret) = state.peer_secret() else {
        return Err(AppError::NotFound);
    };
    let presented = headers
        .get(PEER_SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(presented, secret.as_bytes()) {
        tracing::warn!(room = %room_id, "forwarded room command with a wrong peer secret");
        return Err(AppError::Unauthorized("unauthorized"));
    }
    let applied = match (family.as_str(), state.rooms(), state.duet()) {
        (FREE_ROOMS, Some(rooms), _) => rooms.apply_forwarded(&room_id, body.to_vec()).await,
        (DUET_ROOMS, _, Some(duet)) => duet.apply_forwarded(&room_id, body.to_vec()).await,
        _ => return Err(AppError::NotFound),
    };
    match applied {
        Ok(event) => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            event,
        )
            .into_response()),
        Err(PeerError::NotOwner) => Ok(json_error(
            StatusCode::from_u16(NOT_OWNER_STATUS).unwrap_or(StatusCode::CONFLICT),
            "not_owner",
        )),
        Err(PeerError::Failed(err)) => Err(err.into()),
    }
}
