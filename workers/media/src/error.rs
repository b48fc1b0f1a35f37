//! The one error type of the media routes: an HTTP status and the original's JSON body
//! (`{"error": "..."}` plus the extra members some answers carry: `details`, `job`, `limit`,
//! ...), written in the order the original writes them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portability::PortabilityError;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::jobs::model::{JobView, MusicJob};

/// Seconds a client is asked to wait after a 503 (the identity canister or the state store
/// unreachable), as `canister_bridge` advises.
pub const RETRY_AFTER_SECS: u64 = canister_bridge::RETRY_AFTER_SECS;

/// A member value of [`Fields`].
#[derive(Debug)]
pub enum FieldValue {
    /// Any JSON.
    Json(Value),
    /// A job's view, serialized in its field order.
    Job(Box<JobView>),
    /// A document passed through with its members in their order.
    Ordered(http_common::OrderedJson),
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Json(v) => v.serialize(serializer),
            Self::Job(j) => j.serialize(serializer),
            Self::Ordered(o) => o.serialize(serializer),
        }
    }
}

/// A JSON object whose members keep their insertion order.
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(&'static str, FieldValue)>);

impl Fields {
    /// Appends a member.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.0.push((key, FieldValue::Json(value.into())));
        self
    }

    /// Appends `job`'s view.
    pub fn with_job(mut self, key: &'static str, job: &MusicJob) -> Self {
        self.0.push((key, FieldValue::Job(Box::new(job.view()))));
        self
    }

    /// Appends a document keeping its member order.
    pub fn with_ordered(mut self, key: &'static str, value: http_common::OrderedJson) -> Self {
        self.0.push((key, FieldValue::Ordered(value)));
        self
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl IntoResponse for Fields {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// An answer other than 200: status, ordered JSON body, and `Retry-After` for 503s.
#[derive(Debug)]
pub struct MediaError {
    /// The status.
    pub status: StatusCode,
    /// The body, `error` first.
    pub body: Fields,
    retry_after: Option<u64>,
}

impl MediaError {
    /// `{"error": message}` with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Fields::default().with("error", message.into()),
            retry_after: None,
        }
    }

    /// `body` with `status` (for bodies that do not start with `error`).
    pub fn with_body(status: StatusCode, body: Fields) -> Self {
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    /// 400 `{"error": message}`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 `{"error": "Job not found"}`.
    pub fn job_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Job not found")
    }

    /// 409 `{"error": message}`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 502 `{"error": message, "details": details}`.
    pub fn upstream(message: &str, details: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, message).with("details", details.into())
    }

    /// 501 `{"error": "Not implemented"}`.
    pub fn not_implemented() -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, "Not implemented")
    }

    /// 500 `{"error": "Internal server error"}` (the original's uncaught-exception body); the
    /// cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "media request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// 503 `{"error": "service unavailable"}` with `Retry-After`: a dependency (identity
    /// canister, state store) did not answer; retrying later may succeed.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "media dependency unavailable");
        Self {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "service unavailable")
        }
    }

    /// Appends a member to the body.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.body = self.body.with(key, value);
        self
    }

    /// Appends `job`'s view to the body.
    pub fn with_job(mut self, key: &'static str, job: &MusicJob) -> Self {
        self.body = self.body.with_job(key, job);
        self
    }

    /// The `error` text.
    pub fn message(&self) -> &str {
        self.body
            .0
            .iter()
            .find(|(k, _)| *k == "error")
            .and_then(|(_, v)| match v {
                FieldValue::Json(Value::String(s)) => Some(s.as_str()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

impl std::fmt::Display for MediaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message())
    }
}

impl std::error::Error for MediaError {}

impl From<PortabilityError> for MediaError {
    fn from(err: PortabilityError) -> Self {
        match err {
            PortabilityError::Unavailable { .. } => Self::unavailable(err),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for MediaError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        response
    }
}

/// Result of a media handler.
pub type MediaResult<T> = Result<T, MediaError>;
