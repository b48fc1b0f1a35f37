//! The few JavaScript conversions the original's request parsing relies on, applied to JSON
//! body members so that the same inputs pass or fail the same checks: `a || b` (falsy values
//! fall through), `Number(v)` and `String(v)`.

use serde_json::Value;

use crate::error::{MediaError, MediaResult};

/// Whether `v` is falsy in JavaScript (`undefined`, `null`, `false`, `0`, `""`).
pub fn is_falsy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64().is_none_or(|f| f == 0.0),
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// `(v || …)` followed by `.trim()`: `None` when `v` is falsy, the trimmed text when it is a
/// string. A truthy non-string has no `trim` in the original (a `TypeError`, its 500).
pub fn truthy_str(v: Option<&Value>) -> MediaResult<Option<&str>> {
    if is_falsy(v) {
        return Ok(None);
    }
    match v {
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        _ => Err(MediaError::internal(
            "a non-string value where text was expected",
        )),
    }
}

/// `Number(v)` (NaN when JavaScript's conversion gives NaN).
pub fn number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => string_to_number(s),
        Value::Array(items) => match items.as_slice() {
            [] => 0.0,
            [one] if !one.is_array() && !one.is_object() => number(one),
            _ => f64::NAN,
        },
        Value::Object(_) => f64::NAN,
    }
}

fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            return u64::from_str_radix(digits, radix).map_or(f64::NAN, |n| n as f64);
        }
    }
    let lower = t.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return match t {
            "Infinity" | "+Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => f64::NAN,
        };
    }
    t.parse().unwrap_or(f64::NAN)
}

/// `Number.isInteger(n) && min <= n <= max`.
pub fn integer_in(n: f64, min: f64, max: f64) -> Option<u64> {
    (n.is_finite() && n.fract() == 0.0 && n >= min && n <= max).then_some(n as u64)
}

/// `String(v).trim()` for the values a client sends as numbers or strings.
pub fn string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            (_, _, Some(f)) => f.to_string(),
            _ => String::new(),
        },
        Value::Array(items) => items.iter().map(string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn falsy_values_fall_through_and_truthy_non_strings_fail() {
        assert_eq!(truthy_str(None).unwrap(), None);
        assert_eq!(truthy_str(Some(&json!(""))).unwrap(), None);
        assert_eq!(truthy_str(Some(&json!(0))).unwrap(), None);
        assert_eq!(truthy_str(Some(&json!(null))).unwrap(), None);
        assert_eq!(truthy_str(Some(&json!(" a "))).unwrap(), Some(" a "));
        assert!(truthy_str(Some(&json!(5))).is_err());
        assert!(truthy_str(Some(&json!({}))).is_err());
    }

    #[test]
    fn numbers_convert_as_javascript_does() {
        assert_eq!(number(&json!("12")), 12.0);
        assert_eq!(number(&json!(" 0x10 ")), 16.0);
        assert_eq!(number(&json!("")), 0.0);
        assert_eq!(number(&json!(true)), 1.0);
        assert_eq!(number(&json!(null)), 0.0);
        assert!(number(&json!("12a")).is_nan());
        assert!(number(&json!("inf")).is_nan());
        assert!(number(&json!({})).is_nan());
        assert_eq!(integer_in(number(&json!("1.5")), 0.0, 10.0), None);
        assert_eq!(integer_in(number(&json!(7)), 1.0, 255.0), Some(7));
        assert_eq!(integer_in(number(&json!(256)), 1.0, 255.0), None);
    }

    #[test]
    fn strings_convert_as_javascript_does() {
        assert_eq!(string(&json!(12)), "12");
        assert_eq!(string(&json!(12.0)), "12");
        assert_eq!(string(&json!(1.5)), "1.5");
        assert_eq!(string(&json!(" 7 ")), "7");
        assert_eq!(string(&json!(null)), "null");
    }
}
