//! `POST /duet/:id/end` (JWT, host) → the room ends (idempotent); the host ticket stays usable
//! 30 minutes for recording-complete. The index goes `ended`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::{duet, forward, index_failed};
use crate::duet::DuetCommand;
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::state::AppState;

/// Handler.
pub async fn end(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let command = DuetCommand::End {
        wallet: sub.to_lowercase(),
    };
    let answer = duet.call(&id, command).await?;
    if answer.status == 200 {
        let now = duet.now();
        let ended = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|b| b["ended_at"].as_i64())
            .unwrap_or(now);
        if let Err(err) = duet
            .db()
            .set_duet_status(&id, "ended", None, Some(ended), now)
            .await
        {
            index_failed(&id, "status update", err);
        }
    }
    Ok(forward(answer))
}
