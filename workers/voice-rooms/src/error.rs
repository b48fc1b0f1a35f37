//! The crate's one error type: each variant knows its status and body. JSON errors are the
//! original's `{"error":"<code>"}` byte for byte (clients match some of them literally);
//! unexpected failures are Hono's plain-text 500 and unknown paths its plain-text 404.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_common::json_error;

/// The `Retry-After` (seconds) of a 503 for a credits canister that did not answer.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Every way a voice-rooms request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 with the original's message (`missing wallet`, `missing wallet, signature, or
    /// nonce`), or `invalid json` where the original crashed on a bad body.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401 with the original's message (`unauthorized`, `invalid signature`, `invalid or
    /// expired nonce`).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403 `{"error":"not_verified","granted":false}` from `POST /credits/verify-celo`.
    #[error("not verified")]
    NotVerified,
    /// Hono's plain-text `404 Not Found`.
    #[error("not found")]
    NotFound,
    /// 429 `{"error":"rate limited"}` with `Retry-After` (new: the original had no limits).
    #[error("rate limited")]
    RateLimited(Duration),
    /// 501 `{"error":"not implemented"}`: a route of the original this worker does not serve
    /// yet.
    #[error("not implemented")]
    NotImplemented,
    /// 503 `{"error":"service unavailable"}` with `Retry-After`: the credits canister, a store
    /// or the replica running the room did not answer. The detail is logged, never sent.
    #[error("service unavailable: {0}")]
    Unavailable(String),
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
            Self::NotVerified => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<portability::PortabilityError> for AppError {
    /// A store or peer replica that cannot be reached is a 503 (the client retries); anything
    /// else is the plain 500.
    fn from(err: portability::PortabilityError) -> Self {
        match err {
            portability::PortabilityError::Unavailable { .. } => Self::Unavailable(err.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<crate::credits::CreditsError> for AppError {
    fn from(err: crate::credits::CreditsError) -> Self {
        Self::Unavailable(err.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::BadRequest(message) | Self::Unauthorized(message) => json_error(status, message),
            Self::NotVerified => (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"not_verified","granted":false}"#,
            )
                .into_response(),
            Self::NotFound => plain_text(status, "404 Not Found"),
            Self::RateLimited(wait) => {
                let mut response = json_error(status, "rate limited");
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
                response
            }
            Self::NotImplemented => json_error(status, "not implemented"),
            Self::Unavailable(detail) => {
                tracing::warn!(%detail, "dependency unavailable");
                let mut response = json_error(status, "service unavailable");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS.into());
                response
            }
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
