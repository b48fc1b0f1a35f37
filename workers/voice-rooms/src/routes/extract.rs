//! Request pieces read the way the original reads them: the JSON body (a body that is not
//! JSON is a 400 `{"error":"invalid json"}` where Hono crashed into a plain-text 500), string
//! fields by JavaScript truthiness, and the `Authorization: Bearer <jwt>` session.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::Value;

use crate::error::AppError;
use crate::state::AppState;

/// The request body as JSON (`Value::Null` stands for "no fields": a JSON value that is not
/// an object has none).
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(axum::response::IntoResponse::into_response)?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|_| {
            axum::response::IntoResponse::into_response(AppError::BadRequest("invalid json"))
        })
    }
}

impl JsonBody {
    /// Field `key` when it is a non-empty string. The original tests truthiness and then
    /// uses the value as a string; a truthy non-string crashed it, here it counts as missing.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// The `sub` of a valid session JWT from `Authorization: Bearer <jwt>` (the scheme is
/// matched exactly, as the original's `startsWith('Bearer ')`). Anything else is 401
/// `{"error":"unauthorized"}`.
#[derive(Debug, Clone)]
pub struct Session(pub String);

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let unauthorized = AppError::Unauthorized("unauthorized");
        let token = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized("unauthorized"))?;
        state
            .tokens()
            .verify(token, state.now())
            .map(Session)
            .map_err(|_| unauthorized)
    }
}
