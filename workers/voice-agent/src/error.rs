//! The crate's one error type: each variant knows its status and body. JSON errors are the
//! original's `{"error":"<message>"}`; unexpected failures are Hono's plain-text 500.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_common::json_error;

/// Every way a voice-agent request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 with the original's message (`wallet required`, `message required`, ...).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401 with the original's message.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403 `forbidden`: the session belongs to another wallet.
    #[error("forbidden")]
    Forbidden,
    /// 404 `session not found`.
    #[error("session not found")]
    SessionNotFound,
    /// 429 `{"error":"rate limited"}` with `Retry-After` (new: the original had no limits).
    #[error("rate limited")]
    RateLimited(std::time::Duration),
    /// 503 `AI temporarily unavailable`: the LLM refused or is not configured.
    #[error("AI temporarily unavailable")]
    AiUnavailable,
    /// 500 `Internal Server Error` (text/plain), as Hono answers an uncaught exception. The
    /// detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// An internal error from anything displayable.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::SessionNotFound => StatusCode::NOT_FOUND,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::AiUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<portability::PortabilityError> for AppError {
    fn from(err: portability::PortabilityError) -> Self {
        Self::internal(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::BadRequest(message) | Self::Unauthorized(message) => json_error(status, message),
            Self::Forbidden => json_error(status, "forbidden"),
            Self::SessionNotFound => json_error(status, "session not found"),
            Self::RateLimited(wait) => {
                let mut response = json_error(status, "rate limited");
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
                response
            }
            Self::AiUnavailable => json_error(status, "AI temporarily unavailable"),
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                plain_text(status, "Internal Server Error")
            }
        }
    }
}

/// A `text/plain; charset=UTF-8` response, as Hono's `c.text` sends.
pub fn plain_text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        body,
    )
        .into_response()
}
