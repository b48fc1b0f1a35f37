//! `GET /api/load/health`: probes the Load agent (`GET /`, then the legacy `GET /health`) as
//! the original does; 502 `{ok:false, status, legacyStatus}` when neither answers 2xx, and the
//! original's uncaught 500 when the agent cannot be reached at all.

use axum::extract::State;
use axum::http::StatusCode;

use crate::error::{Fields, MediaError, MediaResult};
use crate::state::MediaState;

async fn probe(state: &MediaState, path: &str) -> MediaResult<StatusCode> {
    let url = format!("{}{path}", state.config().load_agent_url);
    let response = state
        .http()
        .get(url)
        .send()
        .await
        .map_err(|e| MediaError::internal(format!("Load agent probe: {e}")))?;
    Ok(StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY))
}

/// The handler.
pub async fn handle(State(state): State<MediaState>) -> Result<Fields, (StatusCode, Fields)> {
    let fail = |e: MediaError| (e.status, e.body);
    let root = probe(&state, "/").await.map_err(fail)?;
    if root.is_success() {
        return Ok(Fields::default().with("ok", true));
    }
    let legacy = probe(&state, "/health").await.map_err(fail)?;
    if !legacy.is_success() {
        return Err((
            StatusCode::BAD_GATEWAY,
            Fields::default()
                .with("ok", false)
                .with("status", root.as_u16())
                .with("legacyStatus", legacy.as_u16()),
        ));
    }
    Ok(Fields::default().with("ok", true))
}
