//! `GET /` and `GET /health`: `{"ok":true,"service":"metadata-resolver"}`.

use axum::response::Response;

use super::ok_json;

/// The health answer of the original.
pub(super) async fn handler() -> Response {
    ok_json(br#"{"ok":true,"service":"metadata-resolver"}"#.to_vec())
}
