//! What a sample value looks like (an e-mail address, a phone number, a country…): the "value"
//! signal of a suggestion. Each test is deliberately plain, so a reason can name it.

use crate::mapping::money::{Currency, recognise_currency};
use crate::mapping::standardize_country;
use crate::mapping::text::looks_like_email;

/// The kind of value a field holds, judged from one value's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `true`, `false`, `yes`, `no`.
    Boolean,
    /// `6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41`, with or without braces.
    Uuid,
    /// `ada@example.com`.
    Email,
    /// `2026-11-29`, `2026-11-29T12:00:00Z`, `29.11.2026`, `11/29/2026`.
    Date,
    /// `129.90`: digits with a decimal part of one to four digits.
    Amount,
    /// `1042`: digits only.
    Integer,
    /// `+44 20 7946 0000`: seven to fifteen digits with phone punctuation.
    Phone,
    /// `SW1Y 4JH`, `90210-1234`, `1012 AB`, `K1A 0B1`.
    Postcode,
    /// `USD`, `US Dollar`, `€`: a currency code, name or sign.
    Currency,
    /// `GB`, `DEU`, `Germany`: an ISO 3166 code or a country name.
    Country,
    /// `INV-2026-0042`: one word of letters and digits.
    Reference,
    /// Anything else.
    Text,
}

impl Shape {
    /// The phrase a reason uses: "looks like {phrase}".
    pub fn phrase(self) -> &'static str {
        match self {
            Shape::Boolean => "a yes/no flag",
            Shape::Uuid => "a UUID",
            Shape::Email => "an e-mail address",
            Shape::Date => "a date",
            Shape::Amount => "an amount",
            Shape::Integer => "a whole number",
            Shape::Phone => "a phone number",
            Shape::Postcode => "a postcode",
            Shape::Currency => "a currency",
            Shape::Country => "a country",
            Shape::Reference => "a code or reference number",
            Shape::Text => "free text",
        }
    }
}

/// A shape's test of a trimmed value.
type Test = fn(&str) -> bool;

/// The shape of one value (trimmed); `None` when it is empty.
pub fn shape_of(raw: &str) -> Option<Shape> {
    let value = raw.trim();
    if value.is_empty() {
        return None;
    }
    let tests: [(Shape, Test); 11] = [
        (Shape::Boolean, is_boolean),
        (Shape::Uuid, is_uuid),
        (Shape::Email, looks_like_email),
        (Shape::Date, is_date),
        (Shape::Amount, is_amount),
        (Shape::Integer, is_integer),
        (Shape::Phone, is_phone),
        (Shape::Postcode, is_postcode),
        (Shape::Currency, is_currency),
        (Shape::Country, is_country),
        (Shape::Reference, is_reference),
    ];
    Some(
        tests
            .iter()
            .find(|(_, test)| test(value))
            .map_or(Shape::Text, |(shape, _)| *shape),
    )
}

fn is_boolean(value: &str) -> bool {
    ["true", "false", "yes", "no"]
        .iter()
        .any(|word| value.eq_ignore_ascii_case(word))
}

fn is_uuid(value: &str) -> bool {
    let bare = value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .unwrap_or(value);
    let groups: Vec<&str> = bare.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn digits(value: &str) -> usize {
    value.chars().filter(char::is_ascii_digit).count()
}

fn is_date(value: &str) -> bool {
    let date = value.split(['T', ' ']).next().unwrap_or_default();
    let parts: Vec<&str> = date.split(['-', '.', '/']).collect();
    let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    let numeric = parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()));
    numeric && matches!(lengths.as_slice(), [4, 1..=2, 1..=2] | [1..=2, 1..=2, 4])
}

fn is_amount(value: &str) -> bool {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    match unsigned.split_once('.') {
        Some((whole, fraction)) => {
            !whole.is_empty()
                && whole.chars().all(|c| c.is_ascii_digit())
                && (1..=4).contains(&fraction.len())
                && fraction.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn is_integer(value: &str) -> bool {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    !unsigned.is_empty() && unsigned.chars().all(|c| c.is_ascii_digit())
}

fn is_phone(value: &str) -> bool {
    let punctuation = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let plus_only_first = value.rfind('+').is_none_or(|at| at == 0);
    punctuation && plus_only_first && (7..=15).contains(&digits(value))
}

/// UK (`SW1Y 4JH`), US ZIP+4 (`90210-1234`), Dutch (`1012 AB`) and Canadian (`K1A 0B1`)
/// postcodes; five digits alone are a whole number, as nothing tells them apart.
fn is_postcode(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    let shape: String = upper
        .chars()
        .map(|c| match c {
            'A'..='Z' => 'A',
            '0'..='9' => '9',
            other => other,
        })
        .collect();
    const SHAPES: &[&str] = &[
        "A9 9AA",
        "A99 9AA",
        "AA9 9AA",
        "AA99 9AA",
        "A9A 9AA",
        "AA9A 9AA",
        "99999-9999",
        "9999 AA",
        "9999AA",
        "A9A 9A9",
        "A9A9A9",
    ];
    SHAPES.contains(&shape.as_str())
}

fn is_currency(value: &str) -> bool {
    Currency::parse("value", value).is_ok()
        || recognise_currency(value).is_some_and(|(_, how)| how.is_exact())
}

fn is_country(value: &str) -> bool {
    let key_length = value.chars().filter(|c| c.is_alphabetic()).count();
    key_length >= 2 && standardize_country("value", value).is_ok()
}

fn is_reference(value: &str) -> bool {
    value.chars().count() <= 40
        && digits(value) > 0
        && value.chars().any(char::is_alphabetic)
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "-_/#.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_is_recognised() {
        for (value, shape) in [
            ("true", Shape::Boolean),
            ("No", Shape::Boolean),
            ("6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41", Shape::Uuid),
            ("{0B7F3A52-8F87-4C1E-B0A4-1D5C3E2F9A10}", Shape::Uuid),
            ("ada@example.com", Shape::Email),
            ("2026-11-29T12:00:00Z", Shape::Date),
            ("29.11.2026", Shape::Date),
            ("129.90", Shape::Amount),
            ("1042", Shape::Integer),
            ("+44 20 7946 0000", Shape::Phone),
            ("(555) 010-4477", Shape::Phone),
            ("sw1y 4jh", Shape::Postcode),
            ("1012 AB", Shape::Postcode),
            ("K1A 0B1", Shape::Postcode),
            ("USD", Shape::Currency),
            ("US Dollar", Shape::Currency),
            ("€", Shape::Currency),
            ("GB", Shape::Country),
            ("Germany", Shape::Country),
            ("INV-2026-0042", Shape::Reference),
            ("Leave at the door", Shape::Text),
        ] {
            assert_eq!(shape_of(value), Some(shape), "{value}");
        }
        assert_eq!(shape_of("  "), None);
    }

    #[test]
    fn ambiguous_values_take_the_plainer_shape() {
        assert_eq!(shape_of("90210"), Some(Shape::Integer), "a ZIP or a count");
        assert_eq!(shape_of("no"), Some(Shape::Boolean), "not Norway");
        assert_eq!(
            shape_of("Gold"),
            Some(Shape::Text),
            "not a currency by typo"
        );
    }
}
