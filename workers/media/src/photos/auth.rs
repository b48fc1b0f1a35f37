//! Who is calling a photo route (contracts/api-core.md §5 head, ADR 0032).
//!
//! In development, as the original: `X-User-Address` names the user; otherwise
//! `Authorization: Bearer <jwt>` whose `address` (or `sub`) claim is read without checking the
//! signature. Outside development — where the original answered 501 — the bearer token must be
//! an HS256 session token signed with `JWT_SECRET` (the wallet sessions the voice services
//! issue: `sub` = wallet, `exp` in the future), verified before its claims are read.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::config::PhotosConfig;
use super::photo_error;
use crate::error::MediaError;

/// Why a bearer token was refused (each answers 401 `Invalid token`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// Not HS256.
    #[error("unsupported algorithm")]
    Algorithm,
    /// The signature does not match.
    #[error("bad signature")]
    Signature,
    /// `exp` missing or past, or `nbf` ahead.
    #[error("expired or not yet valid")]
    Expired,
    /// No address claim.
    #[error("no address in token")]
    Subject,
}

fn decode(part: &str) -> Result<Value, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

fn address_claim(claims: &Value) -> Result<String, TokenError> {
    claims
        .get("address")
        .or_else(|| claims.get("sub"))
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_lowercase)
        .ok_or(TokenError::Subject)
}

/// The address in `token`'s claims, signature unchecked (development only, as the original).
pub fn unverified_address(token: &str) -> Result<String, TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(TokenError::Malformed);
    }
    address_claim(&decode(parts[1])?)
}

/// The address of an HS256 token signed with `secret`, checked at `now` (seconds).
pub fn verified_address(token: &str, secret: &str, now: i64) -> Result<String, TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(TokenError::Malformed);
    };
    if decode(header)?.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(TokenError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| TokenError::Signature)?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(claims.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::Signature)?;
    let claims = decode(claims)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or(TokenError::Expired)?;
    if exp <= now as f64 {
        return Err(TokenError::Expired);
    }
    if claims
        .get("nbf")
        .is_some_and(|nbf| nbf.as_f64().is_none_or(|nbf| nbf > now as f64))
    {
        return Err(TokenError::Expired);
    }
    address_claim(&claims)
}

/// The caller of a route that needs one, or the original's 401 / 501.
pub fn caller(config: &PhotosConfig, headers: &HeaderMap, now: i64) -> Result<String, MediaError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    if config.development
        && let Some(address) = header("x-user-address")
    {
        return Ok(address.to_lowercase());
    }
    let Some(token) = header("authorization").and_then(|h| h.strip_prefix("Bearer ")) else {
        return Err(photo_error(
            StatusCode::UNAUTHORIZED,
            "Missing authorization",
        ));
    };
    let invalid = |_| photo_error(StatusCode::UNAUTHORIZED, "Invalid token");
    if config.development {
        return unverified_address(token).map_err(invalid);
    }
    match &config.jwt_secret {
        Some(secret) => verified_address(token, secret, now).map_err(invalid),
        None => Err(photo_error(
            StatusCode::NOT_IMPLEMENTED,
            "Production auth not implemented",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(claims: &str, secret: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    const WALLET: &str = "0x8BA1f109551bD432803012645Ac136ddd64DBA72";

    #[test]
    fn verified_tokens_need_the_secret_and_a_future_expiry() {
        let token = sign(&format!(r#"{{"sub":"{WALLET}","exp":2000}}"#), "s3cret");
        assert_eq!(
            verified_address(&token, "s3cret", 1999).unwrap(),
            WALLET.to_lowercase()
        );
        assert_eq!(
            verified_address(&token, "other", 1999),
            Err(TokenError::Signature)
        );
        assert_eq!(
            verified_address(&token, "s3cret", 2000),
            Err(TokenError::Expired)
        );
        let forever = sign(&format!(r#"{{"sub":"{WALLET}"}}"#), "s3cret");
        assert_eq!(
            verified_address(&forever, "s3cret", 1),
            Err(TokenError::Expired)
        );
        // An unsigned token is refused, whatever it claims.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"{WALLET}","exp":9999999999}}"#))
        );
        assert_eq!(
            verified_address(&none, "s3cret", 1),
            Err(TokenError::Algorithm)
        );
    }

    #[test]
    fn development_reads_the_address_claim_unverified() {
        let token = format!(
            "x.{}.y",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"address":"{WALLET}"}}"#))
        );
        assert_eq!(unverified_address(&token).unwrap(), WALLET.to_lowercase());
        assert_eq!(unverified_address("a.b"), Err(TokenError::Malformed));
    }

    #[test]
    fn callers_per_environment() {
        let mut config = PhotosConfig::for_tests("http://127.0.0.1:9");
        let mut headers = HeaderMap::new();
        headers.insert("x-user-address", WALLET.parse().unwrap());
        assert_eq!(caller(&config, &headers, 1).unwrap(), WALLET.to_lowercase());
        config.development = false;
        let err = caller(&config, &headers, 1).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.message()),
            (401, "Missing authorization")
        );
        headers.insert("authorization", "Bearer a.b.c".parse().unwrap());
        let err = caller(&config, &headers, 1).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.message()),
            (501, "Production auth not implemented")
        );
        config.jwt_secret = Some("s3cret".into());
        let err = caller(&config, &headers, 1).unwrap_err();
        assert_eq!((err.status.as_u16(), err.message()), (401, "Invalid token"));
        let token = sign(&format!(r#"{{"sub":"{WALLET}","exp":50}}"#), "s3cret");
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        assert_eq!(caller(&config, &headers, 1).unwrap(), WALLET.to_lowercase());
    }
}
