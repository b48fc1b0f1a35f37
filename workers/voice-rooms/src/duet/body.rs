//! JSON objects written field by field in the original's order (`serde_json`'s map would
//! sort the keys), with `undefined` fields left out as `JSON.stringify` does.

use serde::Serialize;

/// A JSON object under construction.
#[derive(Debug, Default)]
pub struct Body {
    text: String,
}

impl Body {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, key: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        self.text
            .push_str(&serde_json::to_string(key).expect("a string serialises"));
        self.text.push(':');
    }

    /// Adds `key: value`.
    pub fn field(mut self, key: &str, value: impl Serialize) -> Self {
        self.key(key);
        self.text
            .push_str(&serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned()));
        self
    }

    /// Adds `key: value` when `value` is `Some` (an absent field otherwise).
    pub fn opt<T: Serialize>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    /// Adds `key: <json text>` (a nested [`Body`]).
    pub fn raw(mut self, key: &str, json: String) -> Self {
        self.key(key);
        self.text.push_str(&json);
        self
    }

    /// The JSON text.
    pub fn finish(mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        self.text
    }
}

/// `{"error": code}`.
pub fn error(code: &str) -> String {
    Body::new().field("error", code).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_order_and_absent_ones_are_left_out() {
        let inner = Body::new().field("b", 1).finish();
        let body = Body::new()
            .field("z", true)
            .opt("gone", None::<i64>)
            .field("a", "x\"y")
            .raw("n", inner)
            .finish();
        assert_eq!(body, r#"{"z":true,"a":"x\"y","n":{"b":1}}"#);
        assert_eq!(Body::new().finish(), "{}");
    }
}
