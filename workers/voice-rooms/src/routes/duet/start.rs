//! `POST /duet/:id/start` (JWT, host) → the room goes live with a host bridge ticket; a repeat
//! while live hands back the same ticket (`already_live`). The index goes `live`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::{duet, forward, index_failed};
use crate::duet::DuetCommand;
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::state::AppState;

/// Handler.
pub async fn start(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let command = DuetCommand::Start {
        wallet: sub.to_lowercase(),
    };
    let answer = duet.call(&id, command).await?;
    if answer.status == 200 {
        let now = duet.now();
        let started = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|b| b["live_started_at"].as_i64())
            .unwrap_or(now);
        if let Err(err) = duet
            .db()
            .set_duet_status(&id, "live", Some(started), None, now)
            .await
        {
            index_failed(&id, "status update", err);
        }
    }
    Ok(forward(answer))
}
