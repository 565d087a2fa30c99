//! Stripe metadata that always fits Stripe's limits, so metadata is never the reason a call fails.

use std::collections::BTreeMap;

/// Stripe allows at most 50 metadata keys per object.
const MAX_KEYS: usize = 50;
/// Stripe allows metadata keys of at most 40 characters.
const MAX_KEY_CHARS: usize = 40;
/// Stripe allows metadata values of at most 500 characters.
const MAX_VALUE_CHARS: usize = 500;
/// Ends a value that was cut, so a reader in the Stripe Dashboard knows it is incomplete.
const TRUNCATED_MARKER: &str = "…[truncated]";
/// Takes the last slot when keys had to be dropped; its value says how many.
const DROPPED_KEYS_KEY: &str = "paybridge_truncated";

/// Collects metadata in insertion order and builds a map within Stripe's limits: ≤ 50 keys,
/// keys ≤ 40 characters without square brackets, values ≤ 500 characters.
#[derive(Debug, Clone, Default)]
pub struct MetadataBuilder {
    entries: Vec<(String, String)>,
}

impl MetadataBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key. Square brackets become `_` (Stripe's form encoding reads `a[b]` as nesting)
    /// and the key is cut to 40 characters; a value over 500 characters is cut and ends with
    /// `…[truncated]`. A key already present keeps its slot and takes the new value; an empty
    /// key is ignored, since Stripe cannot store it.
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        let key = sanitize_key(key.as_ref());
        if key.is_empty() {
            return self;
        }
        let value = fit_value(value.as_ref());
        match self
            .entries
            .iter_mut()
            .find(|(existing, _)| *existing == key)
        {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
        self
    }

    /// The metadata to send. Beyond 50 keys the first 49 are kept and the 50th slot is
    /// `paybridge_truncated` = "N keys dropped".
    pub fn build(&self) -> BTreeMap<String, String> {
        if self.entries.len() <= MAX_KEYS {
            return self.entries.iter().cloned().collect();
        }
        let kept = MAX_KEYS - 1;
        let dropped = self.entries.len() - kept;
        let mut metadata: BTreeMap<String, String> =
            self.entries.iter().take(kept).cloned().collect();
        metadata.insert(
            DROPPED_KEYS_KEY.to_string(),
            format!("{dropped} keys dropped"),
        );
        metadata
    }
}

fn sanitize_key(key: &str) -> String {
    key.chars()
        .map(|c| if c == '[' || c == ']' { '_' } else { c })
        .take(MAX_KEY_CHARS)
        .collect()
}

fn fit_value(value: &str) -> String {
    if value.chars().count() <= MAX_VALUE_CHARS {
        return value.to_string();
    }
    let room = MAX_VALUE_CHARS - TRUNCATED_MARKER.chars().count();
    let mut fitted: String = value.chars().take(room).collect();
    fitted.push_str(TRUNCATED_MARKER);
    fitted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_and_values_pass_unchanged() {
        let metadata = MetadataBuilder::new()
            .insert("kentico_order_id", "1042")
            .insert("kentico_order_guid", "6f1c2a1e")
            .build();

        assert_eq!(metadata.len(), 2);
        assert_eq!(metadata["kentico_order_id"], "1042");
    }

    #[test]
    fn a_ten_thousand_character_sku_list_is_cut_to_500_with_a_visible_marker() {
        let skus = vec!["SKU-12345"; 1000].join(",");

        let metadata = MetadataBuilder::new().insert("skus", &skus).build();

        let value = &metadata["skus"];
        assert_eq!(value.chars().count(), 500);
        assert!(value.ends_with("…[truncated]"));
        assert!(skus.starts_with(value.trim_end_matches("…[truncated]")));
    }

    #[test]
    fn multi_byte_values_are_cut_on_character_boundaries() {
        let value = "€".repeat(600);

        let metadata = MetadataBuilder::new().insert("note", &value).build();

        assert_eq!(metadata["note"].chars().count(), 500);
        assert!(metadata["note"].starts_with("€€€"));
    }

    #[test]
    fn brackets_in_keys_become_underscores_and_long_keys_are_cut_to_40() {
        let metadata = MetadataBuilder::new()
            .insert("items[0][sku]", "EG-100")
            .insert("ü".repeat(45), "long")
            .build();

        assert_eq!(metadata["items_0__sku_"], "EG-100");
        assert!(metadata.contains_key(&"ü".repeat(40)));
    }

    #[test]
    fn sixty_keys_keep_49_and_say_how_many_were_dropped() {
        let mut builder = MetadataBuilder::new();
        for i in 0..60 {
            builder.insert(format!("key_{i:02}"), i.to_string());
        }

        let metadata = builder.build();

        assert_eq!(metadata.len(), 50);
        assert_eq!(metadata["paybridge_truncated"], "11 keys dropped");
        assert!(metadata.contains_key("key_48"));
        assert!(!metadata.contains_key("key_49"));
    }

    #[test]
    fn exactly_fifty_keys_are_all_kept() {
        let mut builder = MetadataBuilder::new();
        for i in 0..50 {
            builder.insert(format!("key_{i}"), "v");
        }

        let metadata = builder.build();

        assert_eq!(metadata.len(), 50);
        assert!(!metadata.contains_key("paybridge_truncated"));
    }

    #[test]
    fn inserting_a_key_again_replaces_its_value_in_place() {
        let metadata = MetadataBuilder::new()
            .insert("a", "1")
            .insert("a", "2")
            .build();

        assert_eq!(metadata.len(), 1);
        assert_eq!(metadata["a"], "2");
    }

    #[test]
    fn an_empty_key_is_ignored() {
        assert!(MetadataBuilder::new().insert("", "x").build().is_empty());
    }
}
