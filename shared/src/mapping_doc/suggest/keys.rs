//! The metadata key a suggestion proposes for a field: its name in snake case, within Stripe's
//! 40 characters, never paybridge's own and never a key already in use.

use std::collections::BTreeSet;

use super::synonyms::snake_case;
use crate::mapping_doc::validate::RESERVED_METADATA_KEYS;

/// Stripe's limit on a metadata key.
const MAX_KEY_CHARS: usize = 40;

/// The keys a new rule may not take: the document's and paybridge's own.
pub(crate) fn taken_keys<'a>(document_keys: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    (document_keys.map(str::to_string))
        .chain(RESERVED_METADATA_KEYS.iter().map(|k| k.to_string()))
        .collect()
}

/// Whether `key` can be added beside `taken` (what validation will check).
pub(crate) fn usable(key: &str, taken: &BTreeSet<String>) -> bool {
    !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && !key.contains(['[', ']'])
        && !key.starts_with("paybridge_")
        && !taken.contains(key)
}

/// The key for the field `name` (under `parent`): `order_note`; if taken, with the parent's
/// name in front (`customer_note`), then numbered (`order_note_2`).
pub(crate) fn derive_key(
    name: &str,
    parent: Option<&str>,
    taken: &BTreeSet<String>,
) -> Option<String> {
    let mut base = snake_case(name);
    if base.is_empty() {
        base = "field".to_string();
    }
    if base.starts_with("paybridge_") || RESERVED_METADATA_KEYS.contains(&base.as_str()) {
        base = format!("shop_{base}");
    }
    let mut candidates = vec![fit(&base, "")];
    if let Some(parent) = parent.map(snake_case).filter(|p| !p.is_empty()) {
        if !base.starts_with(&parent) {
            candidates.push(fit(&format!("{parent}_{base}"), ""));
        }
    }
    candidates.extend((2..100).map(|n| fit(&base, &format!("_{n}"))));
    candidates.into_iter().find(|key| usable(key, taken))
}

/// `base` cut so that it and `suffix` fit Stripe's limit (no `_` left dangling at the cut).
fn fit(base: &str, suffix: &str) -> String {
    let room = MAX_KEY_CHARS - suffix.chars().count();
    let cut: String = base.chars().take(room).collect();
    format!("{}{suffix}", cut.trim_end_matches('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(keys: &[&str]) -> BTreeSet<String> {
        taken_keys(keys.iter().copied())
    }

    #[test]
    fn a_key_is_the_field_name_in_snake_case() {
        assert_eq!(
            derive_key("OrderGiftNote", None, &taken(&[])).as_deref(),
            Some("order_gift_note")
        );
    }

    #[test]
    fn a_taken_key_gets_its_parent_then_a_number() {
        assert_eq!(
            derive_key("Note", Some("Customer"), &taken(&["note"])).as_deref(),
            Some("customer_note")
        );
        assert_eq!(
            derive_key("Note", Some("Customer"), &taken(&["note", "customer_note"])).as_deref(),
            Some("note_2")
        );
    }

    #[test]
    fn paybridges_own_keys_are_never_proposed() {
        assert_eq!(
            derive_key("KenticoSite", None, &taken(&[])).as_deref(),
            Some("shop_kentico_site")
        );
        assert_eq!(
            derive_key("paybridge_x", None, &taken(&[])).as_deref(),
            Some("shop_paybridge_x")
        );
    }

    #[test]
    fn a_long_name_is_cut_to_stripes_forty_characters() {
        let name = "TheVeryLongCustomFieldNameThatAShopInventedForItsOrders";
        let first = derive_key(name, None, &taken(&[])).unwrap();
        assert_eq!(first, "the_very_long_custom_field_name_that_a_s");
        let key = derive_key(name, None, &taken(&[&first])).unwrap();
        assert!(key.chars().count() <= 40, "{key}");
        assert!(key.ends_with("_2"), "{key}");
    }
}
