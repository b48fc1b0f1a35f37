//! HS256 session tokens exactly as voice-control-plane mints them: header
//! `{"alg":"HS256","typ":"JWT"}`, claims `{"sub","iat","exp"}` in that order, each part
//! base64url without padding, HMAC-SHA256 keyed with the UTF-8 bytes of `JWT_SECRET`, one hour.
//!
//! Verification is the original's (three parts, signature recomputed over the first two, valid
//! through the `exp` second) with quirk 12 of the contract fixed: the header must say HS256 and
//! `exp` must be a number; tokens the original or its tests mint always satisfy both.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Lifetime of a session token, seconds.
pub const TOKEN_TTL_SECONDS: i64 = 3600;

/// Why a token was refused (every case answers 401 `unauthorized`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url JSON parts.
    #[error("malformed token")]
    Malformed,
    /// The header does not say HS256.
    #[error("unsupported algorithm")]
    Algorithm,
    /// The signature does not match the secret.
    #[error("bad signature")]
    Signature,
    /// `exp` missing, not a number, or before now.
    #[error("token expired")]
    Expired,
    /// `sub` missing or not a string.
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

    fn sign(&self, signing_input: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        mac.update(signing_input.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A token for `wallet` (lowercased, as the original does) issued at `now` (seconds).
    pub fn issue(&self, wallet: &str, now: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = format!(
            r#"{{"sub":{},"iat":{now},"exp":{}}}"#,
            Value::from(wallet.to_lowercase()),
            now + TOKEN_TTL_SECONDS
        );
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let signature = self.sign(&signing_input);
        format!("{signing_input}.{signature}")
    }

    /// The `sub` of a valid token at `now` (seconds), as written in the token (the original
    /// does not re-lowercase it).
    pub fn verify(&self, token: &str, now: i64) -> Result<String, JwtError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err(JwtError::Malformed);
        };
        let expected = self.sign(&format!("{header}.{claims}"));
        if !http_common::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(JwtError::Signature);
        }
        if decode_json(header)?.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(JwtError::Algorithm);
        }
        let claims = decode_json(claims)?;
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .ok_or(JwtError::Expired)?;
        if exp < now as f64 {
            return Err(JwtError::Expired);
        }
        claims
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(JwtError::Subject)
    }
}

/// A base64url part (padding tolerated, as `atob` does) holding JSON.
fn decode_json(part: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALLET: &str = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";

    #[test]
    fn issued_token_is_byte_identical_to_the_originals() {
        // What the original's createJWT produces for this wallet, secret and second (header
        // and claims are JSON.stringify output; the signature is HMAC-SHA256 over both).
        let token = SessionToken::new("s3cret")
            .issue(&WALLET.to_uppercase().replace("0X", "0x"), 1_700_000_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[1]).unwrap(),
            format!(r#"{{"sub":"{WALLET}","iat":1700000000,"exp":1700003600}}"#).as_bytes()
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(
            parts[2],
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
    }

    #[test]
    fn valid_through_the_exp_second_and_only_with_its_secret() {
        let tokens = SessionToken::new("s3cret");
        let token = tokens.issue(WALLET, 1000);
        assert_eq!(tokens.verify(&token, 1000).unwrap(), WALLET);
        assert_eq!(tokens.verify(&token, 4600).unwrap(), WALLET);
        assert_eq!(tokens.verify(&token, 4601), Err(JwtError::Expired));
        assert_eq!(
            SessionToken::new("other").verify(&token, 1000),
            Err(JwtError::Signature)
        );
        assert_eq!(tokens.verify("a.b", 1000), Err(JwtError::Malformed));
        assert_eq!(
            tokens.verify(&format!("{token}.x"), 1000),
            Err(JwtError::Malformed)
        );
    }

    fn signed(tokens: &SessionToken, header: &str, claims: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        format!("{input}.{}", tokens.sign(&input))
    }

    #[test]
    fn quirk_12_fixed_other_algorithms_and_missing_exp_are_refused() {
        let tokens = SessionToken::new("s");
        let none = signed(
            &tokens,
            r#"{"alg":"none"}"#,
            r#"{"sub":"x","exp":9999999999}"#,
        );
        assert_eq!(tokens.verify(&none, 0), Err(JwtError::Algorithm));
        let no_exp = signed(&tokens, r#"{"alg":"HS256"}"#, r#"{"sub":"x"}"#);
        assert_eq!(tokens.verify(&no_exp, 0), Err(JwtError::Expired));
        let no_sub = signed(&tokens, r#"{"alg":"HS256"}"#, r#"{"exp":10}"#);
        assert_eq!(tokens.verify(&no_sub, 0), Err(JwtError::Subject));
        // The subject is taken as written.
        let upper = signed(&tokens, r#"{"alg":"HS256"}"#, r#"{"sub":"0xABC","exp":10}"#);
        assert_eq!(tokens.verify(&upper, 0).unwrap(), "0xABC");
    }
}
