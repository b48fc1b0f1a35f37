//! Who is scrobbling (the original's middleware on `/api/scrobble/submit`, contracts §1.6),
//! attached here to `/batches` too (ADR 0030): in development an `X-User-Address` header is
//! taken as is, else a `Bearer` JWT whose payload's `address` is read without verifying the
//! signature; outside development there is no scheme yet and the answer is the original's 501.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use crate::error::MediaError;

/// `atob`'s alphabet with or without padding.
const ATOB: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `{success: false, error}` with `status` (the scrobble routes' error shape).
pub fn refusal(status: StatusCode, error: &str) -> MediaError {
    MediaError::with_body(
        status,
        crate::error::Fields::default()
            .with("success", false)
            .with("error", error),
    )
}

/// The address in a development token's payload.
fn token_address(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let cleaned: String = parts[1]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let payload = ATOB.decode(cleaned).ok()?;
    let payload: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    match &payload["address"] {
        serde_json::Value::String(a) if !a.is_empty() => Some(a.to_lowercase()),
        _ => None,
    }
}

/// The scrobbler's lowercase address, or the original's refusal
/// (`{success:false, error}`: 401 missing/invalid, 501 outside development).
pub fn scrobbler(headers: &HeaderMap, development: bool) -> Result<String, MediaError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if development && let Some(address) = header("x-user-address").filter(|a| !a.is_empty()) {
        return Ok(address.to_lowercase());
    }
    let Some(token) = header("authorization").and_then(|h| h.strip_prefix("Bearer ")) else {
        return Err(refusal(StatusCode::UNAUTHORIZED, "Missing authorization"));
    };
    if !development {
        return Err(refusal(
            StatusCode::NOT_IMPLEMENTED,
            "Production auth not implemented",
        ));
    }
    token_address(token).ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "Invalid token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn token(payload: &str) -> String {
        format!(
            "Bearer x.{}.sig",
            base64::engine::general_purpose::STANDARD.encode(payload)
        )
    }

    fn refused(r: Result<String, MediaError>) -> (u16, String) {
        let e = r.unwrap_err();
        (e.status.as_u16(), serde_json::to_string(&e.body).unwrap())
    }

    #[test]
    fn development_takes_the_header_or_the_unverified_token() {
        let h = headers(&[("x-user-address", "0xABC")]);
        assert_eq!(scrobbler(&h, true).unwrap(), "0xabc");
        let h = headers(&[("authorization", &token(r#"{"address":"0xDEF"}"#))]);
        assert_eq!(scrobbler(&h, true).unwrap(), "0xdef");
        let h = headers(&[("authorization", &token(r#"{"sub":"x"}"#))]);
        assert_eq!(
            refused(scrobbler(&h, true)),
            (401, r#"{"success":false,"error":"Invalid token"}"#.into())
        );
        let h = headers(&[("authorization", "Bearer a.b")]);
        assert_eq!(refused(scrobbler(&h, true)).0, 401);
    }

    #[test]
    fn production_has_no_scheme_yet() {
        let h = headers(&[("x-user-address", "0xabc")]);
        assert_eq!(
            refused(scrobbler(&h, false)),
            (
                401,
                r#"{"success":false,"error":"Missing authorization"}"#.into()
            )
        );
        let h = headers(&[("authorization", &token(r#"{"address":"0xdef"}"#))]);
        assert_eq!(
            refused(scrobbler(&h, false)),
            (
                501,
                r#"{"success":false,"error":"Production auth not implemented"}"#.into()
            )
        );
    }
}
