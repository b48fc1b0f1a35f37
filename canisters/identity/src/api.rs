//! The HTTP shapes the identity logic speaks, independent of who carries them (the canister's
//! HTTP gateway or the local stack's axum server): [`ApiRequest`], [`ApiResponse`] and the
//! crate's error type [`ApiError`], which is always an HTTP status plus the original's JSON
//! error body.

use serde::Serialize;
use serde_json::{Map, Value};

/// The randomness handed to handlers that need it (seeded from `raw_rand` / the OS per request).
pub type Rng = rand_chacha::ChaCha20Rng;

/// Builds the per-request generator from 32 random bytes.
pub fn rng_from_seed(seed: [u8; 32]) -> Rng {
    use rand_chacha::rand_core::SeedableRng;
    Rng::from_seed(seed)
}

/// Largest request body the identity routes accept (they all take small JSON documents).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The time of the current message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Nanoseconds since the Unix epoch.
    pub ns: u64,
}

impl Now {
    /// From nanoseconds.
    pub fn from_ns(ns: u64) -> Self {
        Self { ns }
    }

    /// From whole seconds (tests).
    pub fn from_secs(secs: u64) -> Self {
        Self {
            ns: secs * 1_000_000_000,
        }
    }

    /// Whole seconds.
    pub fn secs(&self) -> u64 {
        self.ns / 1_000_000_000
    }

    /// Whole milliseconds.
    pub fn millis(&self) -> u64 {
        self.ns / 1_000_000
    }
}

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

    /// The body as a JSON object. A body that is not JSON, or not an object, is the error
    /// `bad_json` builds (the original answered 500 here; we answer 400).
    pub fn json_object(
        &self,
        bad_json: impl FnOnce() -> ApiError,
    ) -> Result<Map<String, Value>, ApiError> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::error(413, "Request body too large"));
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(bad_json()),
        }
    }
}

/// JavaScript-style reads of loosely typed JSON request fields, as the original handlers did.
pub mod field {
    use serde_json::{Map, Value};

    /// The field as a string, when it is one.
    pub fn str<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
        body.get(name).and_then(Value::as_str)
    }

    /// A non-empty string field (JavaScript truthiness for strings).
    pub fn non_empty_str<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
        str(body, name).filter(|s| !s.is_empty())
    }

    /// JavaScript truthiness of a field (`undefined`, `null`, `false`, `0`, `""` are falsy).
    pub fn truthy(body: &Map<String, Value>, name: &str) -> bool {
        match body.get(name) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    /// A JSON integer (`Number.isInteger`): 5 and 5.0 are integers, "5" is not.
    pub fn integer(body: &Map<String, Value>, name: &str) -> Option<i64> {
        let n = body.get(name)?.as_number()?;
        if let Some(i) = n.as_i64() {
            return Some(i);
        }
        let f = n.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
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
mod tests {
    use super::*;

    #[test]
    fn splits_path_query_and_decodes_segments() {
        let req = ApiRequest::new(
            "get",
            "https://x.icp0.io/api/names/Al%20ice?label=a+b&tld=heaven",
            vec![("Authorization".into(), "Bearer s".into())],
            vec![],
        );
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/api/names/Al%20ice");
        assert_eq!(req.query_param("label"), Some("a b"));
        assert_eq!(req.header("authorization"), Some("Bearer s"));
        assert_eq!(
            req.segments_after("/api/names"),
            Some(vec!["Al ice".to_string()])
        );
        assert_eq!(req.segments_after("/api/claim"), None);
        assert_eq!(
            ApiRequest::new("GET", "/api/namesx", vec![], vec![]).segments_after("/api/names"),
            None
        );
    }

    #[test]
    fn error_bodies_keep_the_original_shapes() {
        let e = ApiError::failure(409, "Nonce already used (replay detected)");
        assert_eq!(
            String::from_utf8(e.clone().into_response().body).unwrap(),
            r#"{"success":false,"error":"Nonce already used (replay detected)"}"#
        );
        assert_eq!(e.message(), "Nonce already used (replay detected)");
        assert_eq!(
            ApiError::error(404, "Not found").into_response().body,
            br#"{"error":"Not found"}"#.to_vec()
        );
    }

    #[test]
    fn javascript_style_field_reads() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"a":"","b":"x","c":0,"d":5.0,"e":"5","f":1.5,"g":null,"h":[]}"#,
        )
        .unwrap();
        assert!(!field::truthy(&body, "a"));
        assert!(field::truthy(&body, "b"));
        assert!(!field::truthy(&body, "c"));
        assert!(!field::truthy(&body, "g"));
        assert!(!field::truthy(&body, "missing"));
        assert!(field::truthy(&body, "h"));
        assert_eq!(field::integer(&body, "d"), Some(5));
        assert_eq!(field::integer(&body, "e"), None);
        assert_eq!(field::integer(&body, "f"), None);
        assert_eq!(field::non_empty_str(&body, "a"), None);
    }

    #[test]
    fn oversized_and_non_object_bodies_are_rejected() {
        let bad = || ApiError::error(400, "Invalid JSON body");
        let req = ApiRequest {
            body: b"[1]".to_vec(),
            ..Default::default()
        };
        assert_eq!(req.json_object(bad).unwrap_err().status, 400);
        let req = ApiRequest {
            body: vec![b' '; MAX_BODY_BYTES + 1],
            ..Default::default()
        };
        assert_eq!(req.json_object(bad).unwrap_err().status, 413);
    }
}
