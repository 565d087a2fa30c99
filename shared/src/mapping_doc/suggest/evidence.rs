//! What the sample orders say about each field: its path, its non-empty values as the rules
//! read them, how many samples carry it, and the shape its values share.

use std::collections::BTreeMap;

use serde_json::Value;

use super::order_object;
use super::shapes::{Shape, shape_of};
use super::synonyms::{NameMatch, match_name};

/// Deeper than any Kentico order; stops a hostile sample from recursing without end.
const MAX_DEPTH: usize = 8;

/// One field as the samples show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Evidence {
    /// `Customer.CustomerLoyaltyTier`, arrays by their first element (`OrderItems[0].…`).
    pub(crate) path: String,
    /// The last key of the path (`CustomerLoyaltyTier`).
    pub(crate) name: String,
    /// The key holding it (`Customer`), when it is nested.
    pub(crate) parent: Option<String>,
    /// The non-empty values, as text, in sample order.
    pub(crate) values: Vec<String>,
    /// Whether a value was a JSON string (so surrounding spaces are the shop's, and trimmable).
    pub(crate) strings: bool,
    /// How many samples there were.
    pub(crate) samples: usize,
    /// The concept the name names.
    pub(crate) name_match: Option<NameMatch>,
}

impl Evidence {
    /// The shape most values share, and how many share it (ties: the plainer shape).
    pub(crate) fn dominant_shape(&self) -> Option<(Shape, usize)> {
        let mut counts: BTreeMap<Shape, usize> = BTreeMap::new();
        for shape in self.values.iter().filter_map(|v| shape_of(v)) {
            *counts.entry(shape).or_default() += 1;
        }
        let mut ranked: Vec<(Shape, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.first().copied()
    }

    /// Whether some value has spaces around it.
    pub(crate) fn needs_trim(&self) -> bool {
        self.strings && self.values.iter().any(|v| v.trim() != v)
    }

    /// The longest value, in characters.
    pub(crate) fn longest(&self) -> usize {
        (self.values.iter().map(|v| v.chars().count()))
            .max()
            .unwrap_or(0)
    }
}

/// Every field with a value in at least one sample, by path.
pub(crate) fn observe(samples: &[Value]) -> Vec<Evidence> {
    let mut fields: BTreeMap<String, Evidence> = BTreeMap::new();
    for sample in samples {
        let mut found = Vec::new();
        walk(order_object(sample), None, "", 0, &mut found);
        for Found {
            path,
            name,
            parent,
            value,
            string,
        } in found
        {
            let entry = fields.entry(path.clone()).or_insert_with(|| Evidence {
                path,
                name_match: match_name(&name),
                name,
                parent,
                values: Vec::new(),
                strings: false,
                samples: samples.len(),
            });
            entry.values.push(value);
            entry.strings |= string;
        }
    }
    fields.into_values().collect()
}

struct Found {
    path: String,
    name: String,
    parent: Option<String>,
    value: String,
    string: bool,
}

fn walk(
    value: &Value,
    key: Option<(&str, Option<&str>)>,
    path: &str,
    depth: usize,
    out: &mut Vec<Found>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut leaf = |text: String, string: bool| {
        if let Some((name, parent)) = key {
            if !text.trim().is_empty() {
                out.push(Found {
                    path: path.to_string(),
                    name: name.to_string(),
                    parent: parent.map(str::to_string),
                    value: text,
                    string,
                });
            }
        }
    };
    match value {
        Value::String(text) => leaf(text.clone(), true),
        Value::Number(number) => leaf(number.to_string(), false),
        Value::Bool(flag) => leaf(flag.to_string(), false),
        Value::Null => {}
        Value::Array(items) => {
            if let (Some(first), Some(_)) = (items.first(), key) {
                walk(first, key, &format!("{path}[0]"), depth + 1, out);
            }
        }
        Value::Object(object) => {
            let parent = key.map(|(name, _)| name);
            for (name, child) in object.iter().filter(|(name, _)| addressable(name)) {
                let child_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                walk(child, Some((name, parent)), &child_path, depth + 1, out);
            }
        }
    }
}

/// Whether a key can be written in a rule's path (no `.`, brackets or whitespace).
fn addressable(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || ".[]".contains(c))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_are_read_in_path_order_with_arrays_by_their_first_element() {
        let samples = [
            json!({"data": {"object": {"OrderNote": " Ring twice ", "OrderItems": [{"Gift": true}, {"Gift": false}],
                "Customer": {"CustomerTier": "gold", "Empty": "", "Nothing": null}, "bad key": "x", "Tags": ["a", "b"]}}}),
            json!({"OrderNote": "Leave at door", "Customer": {"CustomerTier": null}}),
        ];
        let fields = observe(&samples);
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Customer.CustomerTier",
                "OrderItems[0].Gift",
                "OrderNote",
                "Tags[0]"
            ]
        );
        let note = &fields[2];
        assert_eq!(note.values, [" Ring twice ", "Leave at door"]);
        assert!(note.needs_trim());
        assert_eq!(note.samples, 2);
        assert_eq!(fields[0].parent.as_deref(), Some("Customer"));
        assert_eq!(fields[1].values, ["true"]);
        assert_eq!(fields[1].parent.as_deref(), Some("OrderItems"));
    }
}
