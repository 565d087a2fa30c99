//! The strict reading ingress gives a body before it is accepted: well-formed JSON, no object
//! with the same key twice at any depth, no nesting deeper than [`MAX_DEPTH`].
//!
//! A repeated key is not an error to `serde_json` (the last value wins), but other parsers keep
//! the first: an order with two `OrderGrandTotal`s could be charged for one amount and shown
//! with the other. Such a body is refused before it is queued, so every reader downstream sees
//! the one value there is.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The deepest nesting of arrays and objects accepted (the outermost object is depth 1).
/// Stripe's and Kentico's events nest fewer than ten deep; `serde_json` itself stops at 127.
pub const MAX_DEPTH: usize = 64;

/// Checks `body` is one JSON value without duplicate keys and nested at most [`MAX_DEPTH`]
/// deep; the error says where it is not.
pub fn check(body: &str) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(body);
    Node { depth: 0 }.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// One value at `depth` (the number of arrays and objects around it).
#[derive(Clone, Copy)]
struct Node {
    depth: usize,
}

impl Node {
    fn child<E: de::Error>(self) -> Result<Node, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!(
                "nested deeper than {MAX_DEPTH} arrays and objects"
            )));
        }
        Ok(Node {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Node {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let child = self.child()?;
        while seq.next_element_seed(child)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let child = self.child()?;
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                // The key itself is not repeated in the message: it may be long or personal.
                return Err(de::Error::custom("an object has the same key twice"));
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json() {
        for body in [
            r#"{"id":"evt_1","type":"x","created":1,"data":{"object":{"a":[1,2,{"b":null}]}}}"#,
            r#"{"a":{"k":1},"b":{"k":2}}"#,
            "[]",
            "\"text\"",
            " 12.5e3 ",
            r#"{"k":"v","K":"v","k ":"v"}"#,
        ] {
            assert!(check(body).is_ok(), "{body}");
        }
    }

    #[test]
    fn refuses_a_key_repeated_at_the_top() {
        let error = check(r#"{"id":"evt_1","id":"evt_2"}"#).unwrap_err();
        assert!(error.to_string().contains("same key twice"), "{error}");
    }

    #[test]
    fn refuses_a_key_repeated_deep_inside() {
        let body = r#"{"data":{"object":{"OrderItems":[{"OrderItemUnitCount":1,"OrderItemUnitCount":-1}]}}}"#;
        assert!(check(body).is_err());
    }

    #[test]
    fn a_key_written_with_an_escape_is_the_same_key() {
        assert!(check(r#"{"OrderGrandTotal":"1.00","OrderGrandTot\u0061l":"900.00"}"#).is_err());
    }

    #[test]
    fn refuses_nesting_deeper_than_the_limit() {
        let deep = |depth: usize| "[".repeat(depth) + &"]".repeat(depth);
        assert!(check(&deep(MAX_DEPTH)).is_ok());
        assert!(check(&deep(MAX_DEPTH + 1)).is_err());
        let objects = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
        assert!(check(&objects).is_err(), "a JSON bomb of objects");
    }

    #[test]
    fn refuses_what_is_not_json_or_has_trailing_text() {
        for body in [
            "",
            "{",
            "{\"a\":1}x",
            "{\"a\":1}{\"a\":1}",
            "[1,]",
            "{'a':1}",
        ] {
            assert!(check(body).is_err(), "{body:?}");
        }
    }

    #[test]
    fn reads_a_million_element_array() {
        let body = format!("[{}0]", "0,".repeat(999_999));
        assert!(check(&body).is_ok());
    }
}
