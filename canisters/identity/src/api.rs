//! The HTTP shapes the identity logic speaks, independent of who carries them (the canister's
//! HTTP gateway or the local stack's axum server): [`ApiRequest`], [`ApiResponse`] and the
//! crate's error type [`ApiError`], which is always an HTTP status plus the original's JSON
//! error body.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub mod body;

pub use crate::time::Now;
pub use body::Field;

/// The randomness handed to handlers that need it (seeded from `raw_rand` / the OS per request).
pub type Rng = rand_chacha::ChaCha20Rng;

/// Builds the per-request generator from 32 random bytes.
pub fn rng_from_seed(seed: [u8; 32]) -> Rng {
    use rand_chacha::rand_core::SeedableRng;
    Rng::from_seed(seed)
}

/// Largest request body the identity routes accept (they all take small JSON documents).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An HTTP request as the routes see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiRequest {
    /// Upper-case method.
    pub method: String,
    /// Path without the query, still percent-encoded.
    pub path: String,
    /// Query parameters, decoded (`+` is a space), in order.
    pub query: Vec<(String, String)>,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// Splits `url` (a path with an optional query, or an absolute URL) into path and query.
    pub fn new(method: &str, url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        let without_origin = match url.find("://") {
            Some(i) => {
                let rest = &url[i + 3..];
                rest.find('/').map(|j| &rest[j..]).unwrap_or("/")
            }
            None => url,
        };
        let without_fragment = without_origin.split('#').next().unwrap_or("");
        let (path, query) = match without_fragment.split_once('?') {
            Some((p, q)) => (p, q),
            None => (without_fragment, ""),
        };
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query: form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers,
            body,
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Path segments after `prefix` (which must match), percent-decoded. `None` when the path
    /// does not start with `prefix`, or a segment is not valid UTF-8 once decoded.
    pub fn segments_after(&self, prefix: &str) -> Option<Vec<String>> {
        let rest = self.path.strip_prefix(prefix)?;
        if rest.is_empty() {
            return Some(Vec::new());
        }
        let rest = rest.strip_prefix('/')?;
        rest.split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            })
            .collect()
    }

    /// The body deserialised, once, into the route's body type `T` (a struct of [`Field`]s
    /// and typed fields). A body that is not JSON, or not a JSON object, is the error `bad_json`
    /// builds (the original answered 500 here; we answer 400); one over
    /// [`MAX_BODY_BYTES`] is 413.
    pub fn json<T: DeserializeOwned>(
        &self,
        bad_json: impl FnOnce() -> ApiError,
    ) -> Result<T, ApiError> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::error(413, "Request body too large"));
        }
        // Through a `Value` so that only an object can fill a struct (serde would also take a
        // JSON array as one).
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(object @ Value::Object(_)) => T::deserialize(object).map_err(|_| bad_json()),
            _ => Err(bad_json()),
        }
    }
}

/// A response: status plus a JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body bytes.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// `status` with `value` serialized as the body (field order = declaration order).
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        Self {
            status,
            body: serde_json::to_vec(value).expect("response types serialize"),
        }
    }

    /// 200 with `value`.
    pub fn ok(value: &impl Serialize) -> Self {
        Self::json(200, value)
    }

    /// The body parsed back (tests).
    pub fn body_json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What a route returns.
pub type ApiResult = Result<ApiResponse, ApiError>;

/// The crate's error type: an HTTP status and the JSON error body the original sends for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {body}")]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// JSON body text (kept serialized so field order is the original's).
    pub body: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

#[derive(Serialize)]
struct FailureBody<'a> {
    success: bool,
    error: &'a str,
}

impl ApiError {
    /// `{"error": message}`.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self::with_body(
            status,
            &ErrorBody {
                error: &message.into(),
            },
        )
    }

    /// `{"success": false, "error": message}`.
    pub fn failure(status: u16, message: impl Into<String>) -> Self {
        Self::with_body(
            status,
            &FailureBody {
                success: false,
                error: &message.into(),
            },
        )
    }

    /// Any JSON body (e.g. `{error, hash, nonceUsed}`), fields in declaration order.
    pub fn with_body(status: u16, body: &impl Serialize) -> Self {
        Self {
            status,
            body: serde_json::to_string(body).expect("error bodies serialize"),
        }
    }

    /// The error as a response.
    pub fn into_response(self) -> ApiResponse {
        ApiResponse {
            status: self.status,
            body: self.body.into_bytes(),
        }
    }

    /// The message in `error`, when there is one (tests and logs).
    pub fn message(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
