//! The resolver's one error type: each variant knows its HTTP status and the original's body.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a request failed, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404 `{"error":"not found"}`: no such route (or a path parameter of the wrong alphabet).
    #[error("not found")]
    RouteNotFound,
    /// 405 `{"error":"method not allowed"}`: a method other than GET, POST, OPTIONS.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 400 `{"error":"<message>"}`: the request is malformed (invalid mbid, missing q...).
    #[error("{0}")]
    BadRequest(String),
    /// 502 `{"error":"upstream_error","status":N}`: MusicBrainz answered N.
    #[error("upstream_error {0}")]
    Upstream(u16),
    /// 502 `{"error":"upstream_unreachable"}`: MusicBrainz could not be reached or gave no
    /// answer (the original crashed into the platform's 500 page).
    #[error("upstream unreachable: {0}")]
    UpstreamUnreachable(String),
    /// 503 `{"error":"service unavailable"}`: the cache store cannot be reached.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// 503 with `Retry-After`: the MusicBrainz queue is full or the wait would be too long.
    #[error("MusicBrainz queue is full; retry in {0:?}")]
    Busy(Duration),
    /// 500 `{"error":"LOAD_S3_AGENT_API_KEY not configured"}`.
    #[error("LOAD_S3_AGENT_API_KEY not configured")]
    LoadNotConfigured,
    /// 500 `{"error":"internal error"}`: the cache or another dependency failed (the original
    /// ended these as the platform's exception page).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Upstream(_) | Self::UpstreamUnreachable(_) => StatusCode::BAD_GATEWAY,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::LoadNotConfigured | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body, compact as `JSON.stringify` writes it.
    pub fn body(&self) -> serde_json::Value {
        match self {
            Self::RouteNotFound => json!({ "error": "not found" }),
            Self::MethodNotAllowed => json!({ "error": "method not allowed" }),
            Self::BadRequest(message) => json!({ "error": message }),
            Self::Upstream(status) => json!({ "error": "upstream_error", "status": status }),
            Self::UpstreamUnreachable(_) => json!({ "error": "upstream_unreachable" }),
            Self::StoreUnavailable(_) => json!({ "error": "service unavailable" }),
            Self::Busy(_) => json!({ "error": "musicbrainz_busy" }),
            Self::LoadNotConfigured => json!({ "error": "LOAD_S3_AGENT_API_KEY not configured" }),
            Self::Internal(_) => json!({ "error": "internal error" }),
        }
    }
}

impl From<portability::PortabilityError> for AppError {
    fn from(err: portability::PortabilityError) -> Self {
        match err {
            portability::PortabilityError::Unavailable { .. } => {
                Self::StoreUnavailable(err.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            Self::UpstreamUnreachable(detail) | Self::StoreUnavailable(detail) => {
                tracing::warn!(error = %detail, "dependency unavailable")
            }
            _ => {}
        }
        let mut response = json_response(self.status(), serde_json::to_vec(&self.body()));
        if let Self::Busy(wait) = &self {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// A response with `status`, `Content-Type: application/json` and `body` as is.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json_response(status: StatusCode, body: Result<Vec<u8>, serde_json::Error>) -> Response {
    json_bytes(status, body.unwrap_or_else(|_| b"{}".to_vec()))
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_original() {
        assert_eq!(
            AppError::Upstream(503).body().to_string(),
            r#"{"error":"upstream_error","status":503}"#
        );
        assert_eq!(AppError::RouteNotFound.status(), StatusCode::NOT_FOUND);
        let busy = AppError::Busy(Duration::from_millis(1200)).into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "2");
    }
}
