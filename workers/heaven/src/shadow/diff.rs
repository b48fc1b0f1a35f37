//! Comparing two answers to one request: status, the headers a rule names, and the bodies —
//! structurally when both are JSON (after removing the ignored pointers), byte for byte
//! otherwise.

use serde_json::Value;

use super::rules::Applied;

/// The most differing JSON paths listed for one pair.
const MAX_PATHS: usize = 8;

/// One service's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// HTTP status.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Observed {
    fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// The differences between `primary` and `shadow` under `rule`; empty when they agree.
pub fn compare(primary: &Observed, shadow: &Observed, rule: &Applied) -> Vec<String> {
    let mut out = Vec::new();
    if primary.status != shadow.status {
        out.push(format!("status {} != {}", primary.status, shadow.status));
    }
    for name in &rule.headers {
        let (a, b) = (primary.header(name), shadow.header(name));
        if normalise_header(name, a.as_deref()) != normalise_header(name, b.as_deref()) {
            out.push(format!(
                "header {name}: {} != {}",
                a.as_deref().unwrap_or("(absent)"),
                b.as_deref().unwrap_or("(absent)")
            ));
        }
    }
    match (
        serde_json::from_slice::<Value>(&primary.body),
        serde_json::from_slice::<Value>(&shadow.body),
    ) {
        (Ok(mut a), Ok(mut b)) => {
            for pattern in &rule.ignore {
                strip(&mut a, pattern);
                strip(&mut b, pattern);
            }
            let mut paths = Vec::new();
            json_diff(&a, &b, String::new(), &mut paths);
            let more = paths.len().saturating_sub(MAX_PATHS);
            out.extend(paths.into_iter().take(MAX_PATHS));
            if more > 0 {
                out.push(format!("... and {more} more body differences"));
            }
        }
        _ if primary.body != shadow.body => out.push(format!(
            "body differs ({} bytes vs {} bytes, not both JSON)",
            primary.body.len(),
            shadow.body.len()
        )),
        _ => {}
    }
    out
}

/// Content types compare without case and spaces (`application/json; charset=UTF-8` equals
/// `application/json;charset=utf-8`); other headers exactly.
fn normalise_header(name: &str, value: Option<&str>) -> Option<String> {
    value.map(|v| {
        if name == "content-type" {
            v.to_ascii_lowercase().replace(' ', "")
        } else {
            v.to_string()
        }
    })
}

/// Removes what `pattern` (segments; `*` any key or index, `**` any depth) points at.
fn strip(value: &mut Value, pattern: &[String]) {
    let Some((head, rest)) = pattern.split_first() else {
        return;
    };
    if head == "**" {
        strip(value, rest);
        for_each_child(value, |child| strip(child, pattern));
        return;
    }
    if rest.is_empty() {
        match value {
            Value::Object(map) if head == "*" => map.clear(),
            Value::Object(map) => {
                map.remove(head);
            }
            Value::Array(items) if head == "*" => items.clear(),
            Value::Array(items) => {
                if let Ok(i) = head.parse::<usize>()
                    && i < items.len()
                {
                    items[i] = Value::Null;
                }
            }
            _ => {}
        }
        return;
    }
    match value {
        Value::Object(map) if head == "*" => map.values_mut().for_each(|v| strip(v, rest)),
        Value::Object(map) => {
            if let Some(v) = map.get_mut(head) {
                strip(v, rest);
            }
        }
        Value::Array(items) if head == "*" => items.iter_mut().for_each(|v| strip(v, rest)),
        Value::Array(items) => {
            if let Some(v) = head.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                strip(v, rest);
            }
        }
        _ => {}
    }
}

fn for_each_child(value: &mut Value, mut f: impl FnMut(&mut Value)) {
    match value {
        Value::Object(map) => map.values_mut().for_each(&mut f),
        Value::Array(items) => items.iter_mut().for_each(&mut f),
        _ => {}
    }
}

/// Appends `path: a != b` for every leaf where `a` and `b` differ (object key order ignored).
fn json_diff(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => json_diff(u, v, p, out),
                    (Some(u), None) => out.push(format!("body {p}: {u} != (absent)")),
                    (None, Some(v)) => out.push(format!("body {p}: (absent) != {v}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                json_diff(u, v, format!("{path}/{i}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) => out.push(format!(
            "body {}: {} items != {} items",
            if path.is_empty() { "/" } else { &path },
            x.len(),
            y.len()
        )),
        _ if a != b => out.push(format!(
            "body {}: {a} != {b}",
            if path.is_empty() { "/" } else { &path }
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::rules::Rules;

    fn json(status: u16, body: &str) -> Observed {
        Observed {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn rule(ignore: &[&str]) -> Applied {
        let text = serde_json::json!({
            "version": 1,
            "default": {"headers": ["content-type"], "ignore": ignore},
        })
        .to_string();
        Rules::parse(&text).unwrap().apply("GET", "/x")
    }

    #[test]
    fn equal_json_agrees_whatever_the_key_order() {
        let d = compare(
            &json(200, r#"{"a":1,"b":[1,2]}"#),
            &json(200, r#"{"b":[1,2],"a":1}"#),
            &rule(&[]),
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn status_header_and_body_differences_are_named() {
        let mut b = json(404, r#"{"a":2,"c":true}"#);
        b.headers = vec![("content-type".into(), "text/plain".into())];
        let d = compare(&json(200, r#"{"a":1}"#), &b, &rule(&[]));
        assert_eq!(
            d,
            [
                "status 200 != 404",
                "header content-type: application/json != text/plain",
                "body /a: 1 != 2",
                "body /c: (absent) != true",
            ]
        );
    }

    #[test]
    fn ignored_pointers_wildcards_and_any_depth_are_removed() {
        let a = json(
            200,
            r#"{"nonce":"n1","items":[{"id":"x1","v":1},{"id":"x2","v":2}],"deep":{"k":{"at":5}}}"#,
        );
        let b = json(
            200,
            r#"{"nonce":"n2","items":[{"id":"y1","v":1},{"id":"y2","v":2}],"deep":{"k":{"at":6}}}"#,
        );
        assert!(compare(&a, &b, &rule(&["/nonce", "/items/*/id", "**/at"])).is_empty());
        let d = compare(&a, &b, &rule(&["/nonce", "/items/*/id"]));
        assert_eq!(d, ["body /deep/k/at: 5 != 6"]);
    }

    #[test]
    fn content_types_compare_loosely_and_non_json_bodies_by_bytes() {
        let mut a = json(200, "plain");
        let mut b = json(200, "plain");
        a.headers = vec![("content-type".into(), "text/plain; charset=UTF-8".into())];
        b.headers = vec![("content-type".into(), "text/plain;charset=utf-8".into())];
        assert!(compare(&a, &b, &rule(&[])).is_empty());
        b.body = b"other".to_vec();
        assert_eq!(
            compare(&a, &b, &rule(&[])),
            ["body differs (5 bytes vs 5 bytes, not both JSON)"]
        );
    }
}
