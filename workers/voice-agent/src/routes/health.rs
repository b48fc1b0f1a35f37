//! `GET /health`: `{"ok":true,"service":"voice-agent"}`, shaped like metadata-resolver's answer
//! (new: the original voice-agent had no health route).

use axum::Json;
use serde_json::{Value, json};

/// Handler.
pub async fn health() -> Json<Value> {
    Json(json!({ "ok": true, "service": "voice-agent" }))
}
