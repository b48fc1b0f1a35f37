//! `GET /health`: `{"ok":true}`, the original's body.

use axum::Json;
use serde_json::{Value, json};

/// Handler.
pub async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}
