//! Exact amounts from Kentico JSON: numbers or decimal strings, never through f64 arithmetic.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::mapping::error::MappingError;
use crate::mapping::text::json_kind;

/// Reads a money value: a JSON number (converted through its decimal text, so 129.9 stays
/// exactly 129.9) or a decimal string such as `"129.90"` (trimmed, scale kept). Absent or null
/// is "is missing"; grouping or decimal commas (`"1,234.50"`, `"12,50"`) are refused with the
/// plain decimal as the suggestion, since guessing a separator could charge 1000× too much.
pub fn parse_amount(field: &str, value: Option<&Value>) -> Result<Decimal, MappingError> {
    match value {
        None | Some(Value::Null) => Err(MappingError::missing(field)),
        Some(Value::Number(number)) => {
            let text = number.to_string();
            decimal_from_text(&text).ok_or_else(|| {
                MappingError::new(
                    field,
                    format!(
                        "amount {text} cannot be represented exactly (at most 28 decimal digits)"
                    ),
                )
            })
        }
        Some(Value::String(raw)) => parse_text(field, raw.trim()),
        Some(other) => Err(MappingError::new(
            field,
            format!("is not a number (found {})", json_kind(other)),
        )),
    }
}

fn parse_text(field: &str, text: &str) -> Result<Decimal, MappingError> {
    if text.is_empty() {
        return Err(MappingError::new(field, "is empty"));
    }
    if is_plain_decimal(text) {
        return Decimal::from_str_exact(text).map_err(|_| {
            MappingError::new(
                field,
                format!(
                    "amount '{text}' cannot be represented exactly (at most 28 decimal digits)"
                ),
            )
        });
    }
    if text.contains(',') {
        let error = MappingError::new(
            field,
            format!("amount '{text}' uses a comma; send a plain decimal with a '.' separator"),
        );
        return Err(match without_commas(text) {
            Some(plain) => error.with_suggestion(plain),
            None => error,
        });
    }
    Err(MappingError::new(
        field,
        format!("'{text}' is not a number"),
    ))
}

/// An optional sign, digits, and optionally a dot followed by digits.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// The plain decimal a comma-formatted amount most likely means, when that is unambiguous:
/// with both separators the last one is the decimal point; a lone comma followed by other
/// than three digits is a decimal comma; several commas and no dot are grouping.
fn without_commas(text: &str) -> Option<String> {
    let last_comma = text.rfind(',')?;
    let plain = match text.rfind('.') {
        Some(last_dot) if last_dot > last_comma => text.replace(',', ""),
        Some(_) => text.replace('.', "").replacen(',', ".", 1),
        None if text.matches(',').count() > 1 => text.replace(',', ""),
        None if text.len() - last_comma - 1 != 3 => text.replacen(',', ".", 1),
        None => return None,
    };
    is_plain_decimal(&plain).then_some(plain)
}

fn decimal_from_text(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<Decimal, MappingError> {
        parse_amount("OrderGrandTotal", Some(&value))
    }

    #[test]
    fn a_decimal_string_keeps_its_exact_value_and_scale() {
        let amount = parse(json!(" 129.90 ")).unwrap();

        assert_eq!(amount, dec!(129.90));
        assert_eq!(amount.to_string(), "129.90");
    }

    #[test]
    fn a_json_number_is_read_through_its_decimal_text() {
        assert_eq!(parse(json!(129.9)).unwrap(), dec!(129.9));
        assert_eq!(parse(json!(0.1)).unwrap(), dec!(0.1));
        assert_eq!(parse(json!(1500)).unwrap(), dec!(1500));
        assert_eq!(parse(json!(-2.5)).unwrap(), dec!(-2.5));
    }

    #[test]
    fn a_json_number_too_large_for_a_decimal_is_refused() {
        let error = parse(json!(1e300)).unwrap_err();

        assert!(
            error.problem.contains("cannot be represented exactly"),
            "{error}"
        );
    }

    #[test]
    fn absent_or_null_is_missing() {
        assert_eq!(
            parse_amount("OrderGrandTotal", None)
                .unwrap_err()
                .to_string(),
            "OrderGrandTotal: is missing"
        );
        assert_eq!(parse(Value::Null).unwrap_err().problem, "is missing");
    }

    #[test]
    fn comma_formatted_amounts_are_refused_with_the_plain_decimal_suggested() {
        let error = parse(json!("1,234.50")).unwrap_err();

        assert_eq!(
            error.to_string(),
            "OrderGrandTotal: amount '1,234.50' uses a comma; send a plain decimal with a '.' separator — did you mean 1234.50?"
        );
        assert_eq!(
            parse(json!("12,50")).unwrap_err().suggestion.as_deref(),
            Some("12.50")
        );
        assert_eq!(
            parse(json!("1.234,50")).unwrap_err().suggestion.as_deref(),
            Some("1234.50")
        );
        assert_eq!(
            parse(json!("1,234,567")).unwrap_err().suggestion.as_deref(),
            Some("1234567")
        );
    }

    #[test]
    fn a_lone_comma_before_three_digits_is_ambiguous_and_gets_no_suggestion() {
        assert_eq!(parse(json!("1,234")).unwrap_err().suggestion, None);
    }

    #[test]
    fn other_text_is_not_a_number() {
        assert_eq!(
            parse(json!("12.5 USD")).unwrap_err().to_string(),
            "OrderGrandTotal: '12.5 USD' is not a number"
        );
        assert!(parse(json!("1e3")).is_err());
        assert!(parse(json!(".5")).is_err());
        assert_eq!(parse(json!("")).unwrap_err().problem, "is empty");
        assert_eq!(
            parse(json!(true)).unwrap_err().problem,
            "is not a number (found a boolean)"
        );
    }
}
