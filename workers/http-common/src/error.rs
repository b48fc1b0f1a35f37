//! The `{"error": "..."}` JSON body every original service answers errors with.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A response with `status` and the compact body `{"error":"<message>"}`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
