//! `POST /agent/{id}/stop`: the owner ends a session: Agora's agent leaves, the row becomes
//! `ended` with its duration, and the session's LLM secret stops working. Stopping again
//! answers `{ok:true}`. The body is not read (clients send `{}` or nothing).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::extract::JwtWallet;
use crate::error::AppError;
use crate::sessions::SessionStatus;
use crate::state::{AppState, now_ms};

/// `{ok:true, session_id, duration_ms}`, or `{ok:true}` when already stopped.
#[derive(Debug, Serialize)]
pub struct Stopped {
    /// Always true.
    pub ok: bool,
    /// The session (absent when it was already stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Its duration (absent when it was already stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
}

const ALREADY_STOPPED: Stopped = Stopped {
    ok: true,
    session_id: None,
    duration_ms: None,
};

/// Handler.
pub async fn stop_agent(
    State(state): State<AppState>,
    JwtWallet(wallet): JwtWallet,
    Path(id): Path<String>,
) -> Result<Json<Stopped>, AppError> {
    let session = state
        .sessions()
        .session(&id)
        .await?
        .ok_or(AppError::SessionNotFound)?;
    if session.wallet != wallet.as_str() {
        return Err(AppError::Forbidden);
    }
    if session.status != SessionStatus::Active {
        return Ok(Json(ALREADY_STOPPED));
    }
    if let Some(agent_id) = &session.agora_agent_id {
        state
            .agora()
            .stop_agent(agent_id)
            .await
            .map_err(AppError::internal)?;
    }
    let ended_at = now_ms();
    let mut ended_here = false;
    let stored = state
        .sessions()
        .update_session(&id, |s| {
            if s.status != SessionStatus::Active {
                ended_here = false;
                return false;
            }
            s.status = SessionStatus::Ended;
            s.ended_at = Some(ended_at);
            s.duration_ms = Some((ended_at - s.started_at).max(0));
            ended_here = true;
            true
        })
        .await?
        .ok_or(AppError::SessionNotFound)?;
    if !ended_here {
        return Ok(Json(ALREADY_STOPPED));
    }
    Ok(Json(Stopped {
        ok: true,
        session_id: Some(stored.id),
        duration_ms: stored.duration_ms,
    }))
}
