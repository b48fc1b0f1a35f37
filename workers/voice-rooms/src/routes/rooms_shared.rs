//! Pieces shared by the `/rooms/*` handlers: the served rooms, the caller's credit check
//! (`ensureCredits` then the 90 s minimum), the `{room_id, connection_id}` body with its
//! ownership check, and a room answer as a response.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::extract::JsonBody;
use crate::auth::Wallet;
use crate::credits::EnsuredCredits;
use crate::error::AppError;
use crate::rooms::room::MIN_SECONDS;
use crate::rooms::{RoomAnswer, Rooms, RoomsDbError};
use crate::state::AppState;

impl From<RoomsDbError> for AppError {
    fn from(err: RoomsDbError) -> Self {
        AppError::internal(err)
    }
}

/// The rooms (the routes are only mounted when they exist).
pub fn rooms(state: &AppState) -> Result<&Rooms, AppError> {
    state.rooms().ok_or(AppError::NotImplemented)
}

/// A JSON response with `status` and an already-encoded body.
pub fn json_text(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A room's answer forwarded with its status and body, as the original's routes did.
pub fn forward(answer: RoomAnswer) -> Response {
    json_text(answer.status, answer.body)
}

/// `{"error": code}` with `status`.
pub fn error(status: u16, code: &str) -> Response {
    json_text(status, json!({ "error": code }).to_string())
}

/// `ensureCredits` and the 90 s minimum: the 403 to answer, if any.
pub async fn credit_refusal(state: &AppState, wallet: &str) -> Result<Option<Response>, AppError> {
    let ensured = match Wallet::parse(wallet) {
        Some(wallet) => state.credits().ensure_credits(&wallet).await?,
        None => EnsuredCredits::NameRequired,
    };
    Ok(match ensured {
        EnsuredCredits::NameRequired => Some(error(403, "heaven_name_required")),
        EnsuredCredits::Ready(b) if b.remaining_seconds < MIN_SECONDS => Some(json_text(
            403,
            format!(
                r#"{{"error":"insufficient_credits","remaining_seconds":{}}}"#,
                b.remaining_seconds
            ),
        )),
        EnsuredCredits::Ready(_) => None,
    })
}

/// `{room_id, connection_id}` of heartbeat, renew and leave, owned by `wallet`: else the 400
/// or 403 to answer.
pub async fn owned_connection(
    state: &AppState,
    wallet: &str,
    body: &JsonBody,
) -> Result<Result<(String, String), Response>, AppError> {
    let (Some(room_id), Some(connection_id)) =
        (body.string("room_id"), body.string("connection_id"))
    else {
        return Ok(Err(error(400, "missing room_id or connection_id")));
    };
    let owns = rooms(state)?
        .db()
        .owns_connection(wallet, connection_id, room_id)
        .await?;
    if !owns {
        return Ok(Err(error(403, "not_your_connection")));
    }
    Ok(Ok((room_id.to_owned(), connection_id.to_owned())))
}
