//! The one-line order description Stripe shows on the payment ("2× Espresso Grinder, 1× Filter Pack").

use crate::mapping::kentico_order::OrderItem;

/// Stripe refuses a `description` longer than 1000 characters.
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Describes the items as "2× Espresso Grinder, 1× Filter Pack" (units without trailing zeros)
/// in at most 1000 characters. Items that do not fit are left out whole and summarised as
/// ", … and N more"; only a single item too long on its own is cut, ending in "…". An empty
/// list gives an empty string.
pub fn describe_items(items: &[OrderItem]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|item| format!("{}× {}", item.units.normalize(), item.name.trim()))
        .collect();
    let full = parts.join(", ");
    if full.chars().count() <= MAX_DESCRIPTION_CHARS {
        return full;
    }
    let mut kept_length = 0;
    let mut kept = 0;
    for (index, part) in parts.iter().enumerate() {
        let separator = if index == 0 { 0 } else { 2 };
        let length = kept_length + separator + part.chars().count();
        if length + more_suffix(parts.len() - index - 1).chars().count() > MAX_DESCRIPTION_CHARS {
            break;
        }
        kept_length = length;
        kept = index + 1;
    }
    if kept == 0 {
        return cut_first_part(&parts[0], parts.len() - 1);
    }
    parts[..kept].join(", ") + &more_suffix(parts.len() - kept)
}

fn more_suffix(left_out: usize) -> String {
    if left_out == 0 {
        String::new()
    } else {
        format!(", … and {left_out} more")
    }
}

fn cut_first_part(part: &str, left_out: usize) -> String {
    let suffix = more_suffix(left_out);
    let room = MAX_DESCRIPTION_CHARS - suffix.chars().count() - 1;
    let mut description: String = part.chars().take(room).collect();
    description.push('…');
    description + &suffix
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn item(units: Decimal, name: &str) -> OrderItem {
        OrderItem {
            sku_id: None,
            name: name.to_string(),
            sku_number: None,
            units,
            unit_price: None,
            total_price: None,
        }
    }

    #[test]
    fn lists_units_and_names_without_trailing_zeros() {
        let items = [
            item(dec!(2.000), "Espresso Grinder"),
            item(dec!(1), "Filter Pack"),
            item(dec!(1.50), "Beans (kg)"),
        ];

        assert_eq!(
            describe_items(&items),
            "2× Espresso Grinder, 1× Filter Pack, 1.5× Beans (kg)"
        );
    }

    #[test]
    fn no_items_give_an_empty_description() {
        assert_eq!(describe_items(&[]), "");
    }

    #[test]
    fn too_many_items_stop_at_an_item_boundary_and_say_how_many_more() {
        let items: Vec<OrderItem> = (0..200)
            .map(|i| item(dec!(1), &format!("Item number {i:03}")))
            .collect();

        let description = describe_items(&items);

        assert!(description.chars().count() <= 1000);
        assert!(description.starts_with("1× Item number 000, 1× Item number 001"));
        let (listed, summary) = description.split_once(", … and ").unwrap();
        let listed_count = listed.split(", ").count();
        assert!(listed.ends_with(&format!("Item number {:03}", listed_count - 1)));
        assert_eq!(summary, format!("{} more", 200 - listed_count));
    }

    #[test]
    fn a_description_of_exactly_1000_characters_is_kept_whole() {
        let items = [item(dec!(1), &"x".repeat(997))];

        assert_eq!(describe_items(&items).chars().count(), 1000);
    }

    #[test]
    fn a_single_item_too_long_on_its_own_is_cut_with_an_ellipsis() {
        let items = [
            item(dec!(3), &"é".repeat(2000)),
            item(dec!(1), "Filter Pack"),
        ];

        let description = describe_items(&items);

        assert_eq!(description.chars().count(), 1000);
        assert!(description.starts_with("3× ééé"));
        assert!(description.ends_with("é…, … and 1 more"));
    }
}
