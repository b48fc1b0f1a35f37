//! The `set-profile` request: the original's presence and format checks, and the user's
//! `SetProfile` authorisation rebuilt and checked the way viem's `hashTypedData` +
//! `recoverAddress` did it, with the same messages for the failures clients can cause.
//!
//! The original handed the JSON values to viem untyped, so numbers went through JavaScript's
//! `BigInt()`: integral numbers, decimal/hex strings and booleans were accepted, anything else
//! threw. [`JsInt`] reproduces that coercion; viem's range checks follow, in viem's order (a
//! first pass over JSON numbers while validating, a second over the rest while encoding).
//! Only viem's first message line is kept (not its "Version: viem@…" trailer).

use heaven_eth::eip712::{SetProfile, set_profile_digest};
use heaven_eth::{Address, B256, U256, address, signature};
use serde::Deserialize;
use serde_json::{Number, Value};

use super::{DEADLINE_MARGIN_SECS, internal_error, missing_fields};
use crate::api::{ApiError, Field, Now};

/// A Solidity integer type of the `SetProfile` struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IntType {
    bits: u32,
    signed: bool,
}

const UINT8: IntType = IntType {
    bits: 8,
    signed: false,
};
const UINT16: IntType = IntType {
    bits: 16,
    signed: false,
};
const INT32: IntType = IntType {
    bits: 32,
    signed: true,
};

impl IntType {
    fn max(self) -> i64 {
        (1i64 << (self.bits - u32::from(self.signed))) - 1
    }

    fn min(self) -> i64 {
        if self.signed { -self.max() - 1 } else { 0 }
    }
}

/// The integer fields of `SetProfile` after `user`, in struct order.
const INT_FIELDS: [(&str, IntType); 10] = [
    ("gender", UINT8),
    ("interestedMask", UINT16),
    ("locationMode", UINT8),
    ("locationLat", INT32),
    ("locationLng", INT32),
    ("heightCm", UINT16),
    ("birthYear", UINT16),
    ("nationalityCode", UINT16),
    ("ethnicityMask", UINT16),
    ("relationshipMode", UINT8),
];

/// Body of `POST /api/wallet/set-profile`, as sent: the integers go through [`JsInt`]
/// (`BigInt()`), as the original handed them to viem untyped.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ProfileBody {
    user_address: Field,
    signature: Field,
    deadline: Field,
    gender: Field,
    interested_mask: Field,
    location_mode: Field,
    location_lat: Field,
    location_lng: Field,
    height_cm: Field,
    birth_year: Field,
    nationality_code: Field,
    ethnicity_mask: Field,
    relationship_mode: Field,
}

impl ProfileBody {
    /// The integer field named `name` (one of [`INT_FIELDS`]).
    fn int_field(&self, name: &str) -> &Field {
        match name {
            "gender" => &self.gender,
            "interestedMask" => &self.interested_mask,
            "locationMode" => &self.location_mode,
            "locationLat" => &self.location_lat,
            "locationLng" => &self.location_lng,
            "heightCm" => &self.height_cm,
            "birthYear" => &self.birth_year,
            "nationalityCode" => &self.nationality_code,
            "ethnicityMask" => &self.ethnicity_mask,
            "relationshipMode" => &self.relationship_mode,
            _ => &Field::Absent,
        }
    }

    /// The fields the original required present (`null` counts), besides the truthy
    /// `userAddress` and `signature`.
    fn has_required_fields(&self) -> bool {
        [
            &self.gender,
            &self.interested_mask,
            &self.location_mode,
            &self.deadline,
        ]
        .iter()
        .all(|f| f.value().is_some())
    }
}

/// A value as JavaScript's `BigInt()` makes it: sign and magnitude, `None` when the magnitude
/// needs more than 256 bits (out of range of every Solidity type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct JsInt {
    negative: bool,
    magnitude: Option<U256>,
}

impl JsInt {
    fn from_u64(n: u64) -> Self {
        Self {
            negative: false,
            magnitude: Some(U256::from(n)),
        }
    }

    /// `BigInt(value)`; the `Err` is the JavaScript exception's message. `None` is `undefined`.
    /// Arrays and objects go through their string form, as in JavaScript.
    pub(super) fn coerce(value: Option<&Value>) -> Result<Self, String> {
        match value {
            None => Err("Cannot convert undefined to a BigInt".into()),
            Some(Value::Null) => Err("Cannot convert null to a BigInt".into()),
            Some(Value::Bool(b)) => Ok(Self::from_u64(u64::from(*b))),
            Some(Value::Number(n)) => Self::from_number(n),
            Some(other) => {
                let text = js_string(other);
                Self::parse(&text).ok_or_else(|| format!("Cannot convert {text} to a BigInt"))
            }
        }
    }

    /// `BigInt(number)`: integral numbers only.
    fn from_number(n: &Number) -> Result<Self, String> {
        if let Some(u) = n.as_u64() {
            return Ok(Self::from_u64(u));
        }
        if let Some(i) = n.as_i64() {
            return Ok(Self {
                negative: i < 0,
                magnitude: Some(U256::from(i.unsigned_abs())),
            });
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        if !f.is_finite() || f.fract() != 0.0 {
            return Err(format!(
                "The number {f} cannot be converted to a BigInt because it is not an integer"
            ));
        }
        // `{:.0}` prints the exact integer an integral f64 stands for, as BigInt() takes it.
        Ok(Self {
            negative: f < 0.0,
            magnitude: U256::from_str_radix(&format!("{:.0}", f.abs()), 10).ok(),
        })
    }

    /// `BigInt(string)`: surrounding whitespace ignored, empty is 0, an optional sign before
    /// decimal digits, or a `0x`/`0o`/`0b` prefix (no sign); `None` for anything else.
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() {
            return Some(Self::from_u64(0));
        }
        let prefixed = |p: &str| {
            t.get(..2)
                .filter(|head| head.eq_ignore_ascii_case(p))
                .map(|_| &t[2..])
        };
        let (negative, radix, digits) = if let Some(d) = prefixed("0x") {
            (false, 16, d)
        } else if let Some(d) = prefixed("0o") {
            (false, 8, d)
        } else if let Some(d) = prefixed("0b") {
            (false, 2, d)
        } else if let Some(d) = t.strip_prefix('-') {
            (true, 10, d)
        } else {
            (false, 10, t.strip_prefix('+').unwrap_or(t))
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        Some(Self {
            negative,
            // The digits are valid, so the only failure left is overflow.
            magnitude: U256::from_str_radix(digits, u64::from(radix)).ok(),
        })
    }

    /// The value when it fits `ty`.
    fn fit(self, ty: IntType) -> Option<i64> {
        let magnitude = i64::try_from(u64::try_from(self.magnitude?).ok()?).ok()?;
        let value = if self.negative { -magnitude } else { magnitude };
        (ty.min()..=ty.max()).contains(&value).then_some(value)
    }
}

/// JavaScript's `String(value)` of a JSON value (used for coercion and messages).
fn js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// viem's `IntegerOutOfRangeError` message (`n` suffixes when the value was a BigInt).
fn out_of_range(value: &str, ty: IntType, bigint: bool) -> String {
    let n = if bigint { "n" } else { "" };
    let sign = if ty.signed { "signed" } else { "unsigned" };
    format!(
        "Number \"{value}{n}\" is not in safe {}-bit {sign} integer range ({}{n} to {}{n})",
        ty.bits,
        ty.min(),
        ty.max()
    )
}

/// The request's deadline as `BigInt(deadline)` read it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Deadline {
    /// Zero or negative: always too close.
    NotPositive,
    /// A uint256.
    Value(U256),
    /// Positive but wider than uint256: passes the freshness check, then fails viem's
    /// range check. The text is the value as sent.
    TooLarge(String),
}

/// A `set-profile` body that passed the original's presence and format checks.
pub(super) struct ProfileRequest<'a> {
    /// The user, as parsed from `userAddress`.
    pub(super) user: Address,
    user_text: &'a str,
    body: &'a ProfileBody,
    deadline: Deadline,
    /// The hex digits of `signature`, after `0x`.
    signature_digits: &'a str,
}

/// A verified authorisation: the message the user signed and the signature.
pub(super) struct Authorised {
    pub(super) profile: SetProfile,
    pub(super) signature: Vec<u8>,
}

impl<'a> ProfileRequest<'a> {
    /// The original's checks, in its order: required fields, address format, signature format,
    /// then `BigInt(deadline)` (an uncaught exception there was a 500).
    pub(super) fn parse(body: &'a ProfileBody) -> Result<Self, ApiError> {
        if !body.user_address.is_truthy()
            || !body.has_required_fields()
            || !body.signature.is_truthy()
        {
            return Err(missing_fields());
        }
        let user_text = body.user_address.as_str().unwrap_or_default();
        let user = address::parse(user_text)
            .ok_or_else(|| ApiError::error(400, "Invalid userAddress format"))?;
        let signature_digits = body
            .signature
            .as_str()
            .and_then(|s| s.strip_prefix("0x"))
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| ApiError::error(400, "Invalid signature format"))?;
        let raw_deadline = body.deadline.value();
        let deadline = match JsInt::coerce(raw_deadline) {
            Err(e) => {
                canister_runtime::print(&format!(
                    "wallet set-profile: BigInt(deadline) threw: {e}"
                ));
                return Err(internal_error());
            }
            Ok(d) if d.negative || d.magnitude == Some(U256::ZERO) => Deadline::NotPositive,
            Ok(JsInt {
                magnitude: Some(v), ..
            }) => Deadline::Value(v),
            Ok(_) => Deadline::TooLarge(raw_deadline.map(js_string).unwrap_or_default()),
        };
        Ok(Self {
            user,
            user_text,
            body,
            deadline,
            signature_digits,
        })
    }

    /// 400 unless the deadline is later than now + [`DEADLINE_MARGIN_SECS`].
    pub(super) fn check_deadline(&self, now: Now) -> Result<(), ApiError> {
        let earliest = U256::from(now.secs() + DEADLINE_MARGIN_SECS);
        match &self.deadline {
            Deadline::Value(d) if *d > earliest => Ok(()),
            Deadline::TooLarge(_) => Ok(()),
            _ => Err(ApiError::error(
                400,
                "Deadline expired or too close (must be > now + 15s)",
            )),
        }
    }

    /// Rebuilds the `SetProfile` message with the on-chain `nonce` and checks the user signed
    /// it: 403 "Signature verification failed: …" when the message or signature cannot be
    /// processed, 403 "Invalid signature (…)" when it recovers to someone else.
    pub(super) fn verify(
        &self,
        nonce: U256,
        chain_id: u64,
        contract: Address,
    ) -> Result<Authorised, ApiError> {
        let failed = |reason: String| {
            ApiError::error(403, format!("Signature verification failed: {reason}"))
        };
        let profile = self.message(nonce).map_err(failed)?;
        let signature = self.signature().map_err(failed)?;
        let digest = set_profile_digest(&profile, chain_id, contract);
        let recovered = recover(&digest, &signature).map_err(failed)?;
        if recovered != self.user {
            canister_runtime::print(&format!(
                "wallet set-profile: signature recovers to {}, not {}",
                address::to_lower_hex(&recovered),
                address::to_lower_hex(&self.user)
            ));
            return Err(ApiError::error(
                403,
                "Invalid signature (recovered address does not match user)",
            ));
        }
        Ok(Authorised { profile, signature })
    }

    /// The value viem saw for an integer field (`relationshipMode ?? 0`).
    fn int_value(&self, name: &str) -> Option<Value> {
        match self.body.int_field(name).value() {
            None | Some(Value::Null) if name == "relationshipMode" => Some(Value::from(0)),
            v => v.cloned(),
        }
    }

    /// The typed message, or viem's error for it.
    fn message(&self, nonce: U256) -> Result<SetProfile, String> {
        // Validation pass: the address (strict EIP-55 when mixed case), then JSON numbers
        // against their type's range, then the deadline.
        let lowercase = self.user_text.to_ascii_lowercase() == self.user_text;
        if !lowercase && address::to_checksum(&self.user) != self.user_text {
            return Err(format!("Address \"{}\" is invalid.", self.user_text));
        }
        for (name, ty) in INT_FIELDS {
            if let Some(Value::Number(n)) = &self.int_value(name) {
                let v = JsInt::from_number(n)?;
                if v.fit(ty).is_none() {
                    return Err(out_of_range(&n.to_string(), ty, false));
                }
            }
        }
        let deadline = match &self.deadline {
            Deadline::Value(d) => *d,
            Deadline::TooLarge(text) => {
                return Err(format!(
                    "Number \"{text}n\" is not in safe 256-bit unsigned integer range (0n to {}n)",
                    U256::MAX
                ));
            }
            // Refused by `check_deadline` before any signature is looked at.
            Deadline::NotPositive => U256::ZERO,
        };
        // Encoding pass: every other value through BigInt() and the range check.
        let mut ints = [0i64; INT_FIELDS.len()];
        for (slot, (name, ty)) in ints.iter_mut().zip(INT_FIELDS) {
            let value = self.int_value(name);
            *slot = JsInt::coerce(value.as_ref())?.fit(ty).ok_or_else(|| {
                out_of_range(
                    &value.as_ref().map(js_string).unwrap_or_default(),
                    ty,
                    false,
                )
            })?;
        }
        let [
            gender,
            interested,
            location_mode,
            lat,
            lng,
            height,
            birth_year,
            nationality,
            ethnicity,
            relationship,
        ] = ints;
        // Every value fits its type (checked above), so the narrowing casts are exact.
        Ok(SetProfile {
            user: self.user,
            gender: gender as u8,
            interestedMask: interested as u16,
            locationMode: location_mode as u8,
            locationLat: lat as i32,
            locationLng: lng as i32,
            heightCm: height as u16,
            birthYear: birth_year as u16,
            nationalityCode: nationality as u16,
            ethnicityMask: ethnicity as u16,
            relationshipMode: relationship as u8,
            // No private survey envelope yet: the contract's "empty CID" sentinel.
            privateCidHash: B256::ZERO,
            nonce,
            deadline,
        })
    }

    /// The 65 signature bytes, with viem's messages for the wrong length or `v`.
    fn signature(&self) -> Result<Vec<u8>, String> {
        let bytes = hex::decode(self.signature_digits)
            .ok()
            .filter(|b| b.len() == 65)
            .ok_or("invalid signature length")?;
        if !matches!(bytes[64], 0 | 1 | 27 | 28) {
            return Err("Invalid yParityOrV value".into());
        }
        Ok(bytes)
    }
}

fn recover(digest: &B256, signature: &[u8]) -> Result<Address, String> {
    signature::recover_prehash(digest, signature).map_err(|e| e.to_string())
}
