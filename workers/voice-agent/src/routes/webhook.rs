//! `POST /webhook/agora`: acknowledges Agora's notifications (the original does nothing with
//! them), guarded by `Authorization: Bearer <WEBHOOK_SECRET>` when that secret is set.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use http_common::constant_time_eq;

use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn agora_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    if let Some(secret) = &state.config().webhook_secret {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let expected = format!("Bearer {secret}");
        if !constant_time_eq(auth.as_bytes(), expected.as_bytes()) {
            return Err(AppError::Unauthorized("unauthorized"));
        }
    }
    Ok(Json(json!({ "ok": true })))
}
