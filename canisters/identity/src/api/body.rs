//! Request bodies: each route deserialises its JSON body once ([`super::ApiRequest::json`])
//! into a struct of its fields, then validates those into typed values.
//!
//! A field whose reading the original left to JavaScript is a [`Field`]: the value as sent,
//! read with JavaScript's rules where clients depend on them. Those rules are:
//! - truthiness for "is it there" checks (`""`, `0`, `false`, `null` count as missing: the
//!   claim routes, `recipient` of the permit, `userAddress` / `label` of the wallet relay);
//! - `Number.isInteger` for times and durations (`5.0` is 5; `"5"` is not a number);
//! - UTF-16 length for nonces, labels and CIDs;
//! - `BigInt()` for the integers of `set-profile` (clients send numbers or numeric strings;
//!   `crate::wallet`).
//!
//! Anything else of the wrong JSON type is simply invalid for that field, with the error the
//! route reports for an invalid value.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A body field as the client sent it: absent, or a JSON value (`null` included).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Field {
    /// Not in the body (`undefined`).
    #[default]
    Absent,
    /// In the body with this value.
    Sent(Value),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Field::Sent)
    }
}

impl Field {
    /// The value, unless the field is absent.
    pub fn value(&self) -> Option<&Value> {
        match self {
            Self::Absent => None,
            Self::Sent(v) => Some(v),
        }
    }

    /// Absent or `null`.
    pub fn is_nullish(&self) -> bool {
        matches!(self, Self::Absent | Self::Sent(Value::Null))
    }

    /// The value when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        self.value().and_then(Value::as_str)
    }

    /// The string, trimmed; `""` when the value is not a string.
    pub fn trimmed(&self) -> &str {
        self.as_str().unwrap_or("").trim()
    }

    /// JavaScript truthiness (`undefined`, `null`, `false`, `0`, `""` are falsy).
    pub fn is_truthy(&self) -> bool {
        match self.value() {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    /// A JSON integer (`Number.isInteger`): 5 and 5.0 are integers, "5" is not; integers
    /// beyond ±9·10¹⁵ are `None` here (see [`Field::is_integral`]).
    pub fn integer(&self) -> Option<i64> {
        let n = self.value()?.as_number()?;
        if let Some(i) = n.as_i64() {
            return Some(i);
        }
        let f = n.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    }

    /// Whether the value is a finite integral number of any size.
    pub fn is_integral(&self) -> bool {
        self.value()
            .and_then(Value::as_f64)
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
    }
}

/// Length as JavaScript counts it (UTF-16 code units).
pub fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}
