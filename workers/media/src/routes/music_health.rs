//! `GET /api/music/health` → `{"ok":true}` (public).

use axum::Json;
use serde_json::{Value, json};

/// The handler.
pub async fn handle() -> Json<Value> {
    Json(json!({ "ok": true }))
}
