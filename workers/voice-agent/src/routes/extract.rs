//! Request pieces read the way the original reads them: bodies parsed leniently (`c.req.json()`
//! failing gives "no body"), JavaScript truthiness and `String()` for fields, and the two
//! Bearer schemes (session JWT, per-session LLM secret).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde_json::Value;

use crate::auth::Wallet;
use crate::error::AppError;
use crate::state::{AppState, now_ms};

/// The request body as JSON, or `None` when it is absent or not JSON.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(axum::response::IntoResponse::into_response)?;
        Ok(Self(serde_json::from_slice(&bytes).ok()))
    }
}

/// JavaScript truthiness of a JSON value.
pub fn js_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `String(value)` as JavaScript writes it (close enough for ids and hex strings).
pub fn js_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                if v.is_null() {
                    String::new()
                } else {
                    js_string(v)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// A body field that must be a wallet address: `String(value)` normalised like ethers
/// `getAddress`; anything else (a number, an object, a megabyte of text) is a 400
/// `{"error":"invalid wallet"}` where the original crashed into a plain-text 500.
pub fn wallet_field(value: &Value) -> Result<Wallet, AppError> {
    Wallet::parse(&js_string(value)).map_err(|_| AppError::BadRequest("invalid wallet"))
}

/// The truthy field `key` of an optional body.
pub fn truthy_field<'a>(body: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    body?.get(key).filter(|v| js_truthy(v))
}

/// The token of an `Authorization` header matching `^Bearer\s+(.+)$` (case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let scheme = value.get(..6)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = &value[6..];
    if !rest.starts_with(char::is_whitespace) || rest.chars().count() < 2 {
        return None;
    }
    let token = rest.trim_start();
    if token.is_empty() {
        // `\s+` gives its last whitespace character back to `(.+)`.
        return rest.char_indices().last().map(|(i, _)| &rest[i..]);
    }
    Some(token)
}

/// The wallet of a valid session JWT (`Authorization: Bearer <jwt>`).
#[derive(Debug, Clone)]
pub struct JwtWallet(pub Wallet);

impl FromRequestParts<AppState> for JwtWallet {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Unauthorized(
            "Missing Authorization: Bearer <jwt>",
        ))?;
        state
            .tokens()
            .verify(token, now_ms() / 1000)
            .map(JwtWallet)
            .map_err(|_| AppError::Unauthorized("Invalid token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("authorization", HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn bearer_forms() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("bearer \t abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("BEARER x y")), Some("x y"));
        assert_eq!(bearer_token(&headers("Bearerabc")), None);
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn javascript_coercions() {
        assert!(!js_truthy(&Value::from(0)));
        assert!(!js_truthy(&Value::from("")));
        assert!(js_truthy(&serde_json::json!({})));
        assert_eq!(js_string(&serde_json::json!({"a": 1})), "[object Object]");
        assert_eq!(js_string(&serde_json::json!([1, null, "x"])), "1,,x");
        assert_eq!(js_string(&Value::from(12)), "12");
    }
}
