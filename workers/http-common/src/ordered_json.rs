//! A JSON value that keeps object keys in document order, the one every worker uses where its
//! answer must be written like the original's `JSON.stringify(JSON.parse(text))`: same key
//! order, compact, a repeated key keeping its first position with its last value, and objects
//! patched in place like a JavaScript spread (`{...cached, coverArtUrl}`).
//!
//! (serde_json's own `Value` sorts keys unless `preserve_order` is enabled, a feature that would
//! change the output of every crate in the workspace.)

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// An order-preserving JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderedJson {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<OrderedJson>),
    /// An object, keys in document order.
    Object(Vec<(String, OrderedJson)>),
}

impl OrderedJson {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&OrderedJson> {
        match self {
            Self::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key` of an object, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut OrderedJson> {
        match self {
            Self::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Element `index` of an array.
    pub fn index_mut(&mut self, index: usize) -> Option<&mut OrderedJson> {
        match self {
            Self::Array(items) => items.get_mut(index),
            _ => None,
        }
    }

    /// Sets `key` on an object: replaces the value in place, or appends the key (JavaScript
    /// spread semantics). Does nothing on non-objects.
    pub fn set(&mut self, key: &str, value: OrderedJson) {
        if let Self::Object(members) = self {
            match members.iter_mut().find(|(k, _)| k == key) {
                Some((_, slot)) => *slot = value,
                None => members.push((key.to_owned(), value)),
            }
        }
    }

    /// Removes the member `key` of an object.
    pub fn remove(&mut self, key: &str) {
        if let Self::Object(members) = self {
            members.retain(|(k, _)| k != key);
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// JavaScript truthiness (`null`, `false`, `0`, `""` are falsy; objects and arrays truthy).
    pub fn is_truthy(&self) -> bool {
        match self {
            Self::Null => false,
            Self::Bool(b) => *b,
            Self::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
            Self::String(s) => !s.is_empty(),
            Self::Array(_) | Self::Object(_) => true,
        }
    }

    /// Parses JSON text.
    pub fn parse(bytes: &[u8]) -> Result<OrderedJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Compact serialisation (`JSON.stringify`).
    pub fn to_compact_string(&self) -> String {
        serde_json::to_string(self).expect("serialising a JSON value cannot fail")
    }

    /// Compact serialisation as bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serialising a JSON value cannot fail")
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = OrderedJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }
    fn visit_none<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<OrderedJson, E> {
        serde_json::Number::from_f64(v)
            .map(OrderedJson::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedJson, A::Error> {
        let mut object = OrderedJson::Object(Vec::new());
        while let Some((key, value)) = map.next_entry::<String, OrderedJson>()? {
            object.set(&key, value);
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_key_order_and_compacts() {
        let text = r#"{ "z": 1, "a": [true, null, {"y": "é\n", "b": 2.5}], "m": "x" }"#;
        let value: OrderedJson = serde_json::from_str(text).unwrap();
        assert_eq!(
            value.to_compact_string(),
            r#"{"z":1,"a":[true,null,{"y":"é\n","b":2.5}],"m":"x"}"#
        );
    }

    #[test]
    fn repeated_key_keeps_first_position_and_last_value() {
        let value: OrderedJson = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(value.to_compact_string(), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn set_patches_in_place_or_appends() {
        let mut value = OrderedJson::parse(br#"{"z":1,"a":{"y":true,"b":null},"m":"x"}"#).unwrap();
        value.set("a", OrderedJson::String("patched".into()));
        value.set("new", OrderedJson::Bool(false));
        value.remove("m");
        assert_eq!(
            String::from_utf8(value.to_vec()).unwrap(),
            r#"{"z":1,"a":"patched","new":false}"#
        );
    }

    #[test]
    fn truthiness_is_javascripts() {
        for (text, truthy) in [
            ("null", false),
            ("0", false),
            ("\"\"", false),
            ("false", false),
            ("1", true),
            ("\"x\"", true),
            ("[]", true),
            ("{}", true),
        ] {
            let value: OrderedJson = serde_json::from_str(text).unwrap();
            assert_eq!(value.is_truthy(), truthy, "{text}");
        }
    }
}
