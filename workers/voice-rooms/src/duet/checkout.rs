//! The segment checkout token (§4.4): pins the segment (so its price and payee) a payer was
//! quoted for five minutes, `<base64 JSON {room_id, segment_id, exp}>.<hex HMAC-SHA256>` keyed
//! by `JWT_SECRET`; and the `segment_id` query of x402 resources.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::body::Body;
use super::x402::{base64_json, decode_signature};

/// Token lifetime.
pub const CHECKOUT_TTL_SECONDS: i64 = 300;

/// The claims of a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutClaims {
    /// Room.
    pub room_id: String,
    /// Segment.
    pub segment_id: String,
    /// Expiry.
    pub exp: i64,
}

fn sign(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `extensions` object of a 402 for `segment_id` of `room_id` at `now`.
pub fn extension(secret: &str, room_id: &str, segment_id: &str, now: i64) -> String {
    let exp = now + CHECKOUT_TTL_SECONDS;
    let claims = Body::new()
        .field("room_id", room_id)
        .field("segment_id", segment_id)
        .field("exp", exp)
        .finish();
    let encoded = base64_json(&claims);
    let token = format!("{encoded}.{}", sign(secret, &encoded));
    Body::new()
        .raw(
            "segment_checkout",
            Body::new()
                .field("token", token)
                .field("segment_id", segment_id)
                .field("expires_at", exp)
                .finish(),
        )
        .finish()
}

/// The claims of `token` if it is valid for `room_id` at `now`.
pub fn verify(secret: &str, token: &str, room_id: &str, now: i64) -> Option<CheckoutClaims> {
    let (encoded, sig) = token.split_once('.')?;
    if sig.contains('.') || sig.len() != 64 || !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if !sign(secret, encoded).eq_ignore_ascii_case(sig) {
        return None;
    }
    let claims = decode_signature(encoded)?;
    let room = claims.get("room_id")?.as_str()?;
    let segment = claims.get("segment_id")?.as_str()?;
    let exp = claims.get("exp")?.as_f64()?;
    if room != room_id || !exp.is_finite() || exp < now as f64 {
        return None;
    }
    Some(CheckoutClaims {
        room_id: room.to_owned(),
        segment_id: segment.to_owned(),
        exp: exp as i64,
    })
}

/// What a PAYMENT-SIGNATURE says about the segment: its `resource` string and the checkout
/// token at `extensions.segment_checkout.token` (≥ 10 characters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureSegment {
    /// `resource`, when a string.
    pub resource: Option<String>,
    /// The token.
    pub token: Option<String>,
}

impl SignatureSegment {
    /// Reads the raw header.
    pub fn of(raw: &str) -> Self {
        let Some(decoded) = decode_signature(raw).filter(Value::is_object) else {
            return Self::default();
        };
        Self {
            resource: decoded
                .get("resource")
                .and_then(Value::as_str)
                .map(str::to_owned),
            token: decoded
                .pointer("/extensions/segment_checkout/token")
                .and_then(Value::as_str)
                .filter(|t| t.len() >= 10)
                .map(str::to_owned),
        }
    }
}

fn parse(resource: &str) -> Option<reqwest::Url> {
    let base = reqwest::Url::parse("https://heaven.invalid/").expect("valid base");
    if resource.contains("://") {
        reqwest::Url::parse(resource).ok()
    } else {
        base.join(resource).ok()
    }
}

/// `resource` with its `segment_id` query set, as path + query.
pub fn with_segment_id(resource: &str, segment_id: &str) -> String {
    match parse(resource) {
        Some(mut url) => {
            let mut pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            match pairs.iter().position(|(k, _)| k == "segment_id") {
                Some(i) => {
                    pairs[i].1 = segment_id.to_owned();
                    let mut seen = false;
                    pairs.retain(|(k, _)| {
                        if k != "segment_id" {
                            return true;
                        }
                        let keep = !seen;
                        seen = true;
                        keep
                    });
                }
                None => pairs.push(("segment_id".to_owned(), segment_id.to_owned())),
            }
            url.query_pairs_mut().clear().extend_pairs(pairs);
            match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            }
        }
        None => {
            let sep = if resource.contains('?') { '&' } else { '?' };
            format!("{resource}{sep}segment_id={segment_id}")
        }
    }
}

/// The `segment_id` query of `resource`, if non-empty.
pub fn segment_id_of(resource: &str) -> Option<String> {
    parse(resource)?
        .query_pairs()
        .find(|(k, _)| k == "segment_id")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_for_their_room_until_expiry() {
        let ext = extension("k", "room", "seg-2", 1000);
        let v: Value = serde_json::from_str(&ext).unwrap();
        let token = v["segment_checkout"]["token"].as_str().unwrap();
        assert_eq!(v["segment_checkout"]["expires_at"], 1300);
        let claims = verify("k", token, "room", 1300).unwrap();
        assert_eq!(claims.segment_id, "seg-2");
        assert!(verify("k", token, "room", 1301).is_none());
        assert!(verify("k", token, "other", 1000).is_none());
        assert!(verify("other-key", token, "room", 1000).is_none());
        assert!(verify("k", &token.to_uppercase(), "room", 1000).is_none());
        let (claims_part, sig) = token.split_once('.').unwrap();
        let upper = format!("{claims_part}.{}", sig.to_uppercase());
        assert!(verify("k", &upper, "room", 1000).is_some());
    }

    #[test]
    fn segment_ids_are_set_and_read_in_resources() {
        assert_eq!(
            with_segment_id("/duet/r/enter", "seg-1"),
            "/duet/r/enter?segment_id=seg-1"
        );
        assert_eq!(
            with_segment_id("https://h.org/duet/r/enter?segment_id=a&x=1", "b"),
            "/duet/r/enter?segment_id=b&x=1"
        );
        assert_eq!(
            segment_id_of("/duet/r/enter?segment_id=seg-9").as_deref(),
            Some("seg-9")
        );
        assert_eq!(segment_id_of("/duet/r/enter"), None);
    }
}
