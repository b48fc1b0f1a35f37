//! HS256 session tokens, as the original issues them with jose: protected header
//! `{"alg":"HS256"}` (no `typ`), claims `{"sub","iat","exp"}` with a one-hour lifetime, key = the
//! UTF-8 bytes of `JWT_SECRET`. Verification accepts HS256 only, with no clock tolerance: a token
//! is expired when `exp <= now`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::Wallet;

/// Lifetime of a session token.
pub const TOKEN_TTL_SECONDS: i64 = 60 * 60;

/// Why a token was refused (every case answers 401 `Invalid token`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url JSON parts.
    #[error("malformed token")]
    Malformed,
    /// Another algorithm than HS256.
    #[error("unsupported algorithm")]
    Algorithm,
    /// The signature does not match the secret.
    #[error("bad signature")]
    Signature,
    /// `exp` missing, not a number, or not in the future; or `nbf` in the future.
    #[error("token expired or not yet valid")]
    Expired,
    /// `sub` missing or not a wallet address.
    #[error("bad subject")]
    Subject,
}

/// Issues and verifies the tokens of one secret.
#[derive(Clone)]
pub struct SessionToken {
    secret: Vec<u8>,
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    /// Tokens signed with `secret` (its UTF-8 bytes are the HMAC key).
    pub fn new(secret: &str) -> Self {
        Self {
            secret: secret.as_bytes().to_vec(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC accepts keys of any length")
    }

    /// A token for `wallet` issued at `now` (seconds), valid for [`TOKEN_TTL_SECONDS`].
    pub fn issue(&self, wallet: &Wallet, now: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        let claims = format!(
            r#"{{"sub":{},"iat":{now},"exp":{}}}"#,
            serde_json::Value::from(wallet.as_str()),
            now + TOKEN_TTL_SECONDS
        );
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The wallet a valid token was issued for, checked at `now` (seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Wallet, JwtError> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: Value = decode_json(header)?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(JwtError::Algorithm);
        }
        if header.get("crit").is_some() {
            return Err(JwtError::Malformed);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&token.as_bytes()[..header_and_claims_len(token)]);
        mac.verify_slice(&signature)
            .map_err(|_| JwtError::Signature)?;
        let claims: Value = decode_json(claims)?;
        let Some(claims) = claims.as_object() else {
            return Err(JwtError::Malformed);
        };
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .ok_or(JwtError::Expired)?;
        if exp <= now as f64 {
            return Err(JwtError::Expired);
        }
        if let Some(nbf) = claims.get("nbf")
            && nbf.as_f64().is_none_or(|nbf| nbf > now as f64)
        {
            return Err(JwtError::Expired);
        }
        if claims.get("iat").is_some_and(|iat| !iat.is_number()) {
            return Err(JwtError::Malformed);
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(JwtError::Subject)?;
        Wallet::parse(sub).map_err(|_| JwtError::Subject)
    }
}

fn header_and_claims_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn decode_json(part: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet() -> Wallet {
        Wallet::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap()
    }

    #[test]
    fn issued_token_has_the_original_shape() {
        let token = SessionToken::new("s3cret").issue(&wallet(), 1_700_000_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[0]).unwrap(),
            br#"{"alg":"HS256"}"#
        );
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"sub": wallet().as_str(), "iat": 1_700_000_000, "exp": 1_700_003_600})
        );
    }

    #[test]
    fn verification_checks_secret_expiry_and_subject() {
        let tokens = SessionToken::new("s3cret");
        let token = tokens.issue(&wallet(), 1000);
        assert_eq!(tokens.verify(&token, 1000).unwrap(), wallet());
        assert_eq!(tokens.verify(&token, 4599).unwrap(), wallet());
        assert_eq!(tokens.verify(&token, 4600), Err(JwtError::Expired));
        assert_eq!(
            SessionToken::new("other").verify(&token, 1000),
            Err(JwtError::Signature)
        );
        assert_eq!(tokens.verify("a.b", 1000), Err(JwtError::Malformed));
        let mut tampered = token.clone();
        tampered.push('A');
        assert!(tokens.verify(&tampered, 1000).is_err());
    }

    #[test]
    fn other_algorithms_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let claims = URL_SAFE_NO_PAD
            .encode(br#"{"sub":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","exp":99999999999}"#);
        let token = format!("{header}.{claims}.");
        assert_eq!(
            SessionToken::new("s").verify(&token, 0),
            Err(JwtError::Algorithm)
        );
    }
}
