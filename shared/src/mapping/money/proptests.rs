//! Property tests for Stripe minor units: Stripe's digit rules hold and nothing panics.

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Currency, from_minor_units, parse_amount, to_minor_units};

fn currency(code: &str) -> Currency {
    Currency::parse("OrderCurrencyCode", code).unwrap()
}

/// Every Decimal there is: any 96-bit mantissa, sign and scale.
fn any_decimal() -> impl Strategy<Value = Decimal> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0_u32..=28,
    )
        .prop_map(|(lo, mid, hi, negative, scale)| {
            Decimal::from_parts(lo, mid, hi, negative, scale)
        })
}

/// Plausible order totals: up to ten million with up to four decimals.
fn order_total() -> impl Strategy<Value = Decimal> {
    (1_i64..100_000_000_000, 0_u32..=4).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale))
}

fn any_currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec![
        "USD", "EUR", "GBP", "JPY", "KRW", "CLP", "KWD", "BHD", "TND", "ISK", "HUF", "CHF",
    ])
    .prop_map(currency)
}

fn precision(currency: &Currency) -> u32 {
    match currency.code() {
        "JPY" | "KRW" | "CLP" | "ISK" => 0,
        _ => 2,
    }
}

proptest! {
    #[test]
    fn three_decimal_currencies_always_end_in_zero(amount in order_total(), code in prop::sample::select(vec!["BHD", "JOD", "KWD", "OMR", "TND"])) {
        if let Ok(minor) = to_minor_units("OrderGrandTotal", amount, &currency(code)) {
            prop_assert_eq!(minor % 10, 0);
        }
    }

    #[test]
    fn icelandic_krona_is_always_a_multiple_of_100(amount in order_total()) {
        if let Ok(minor) = to_minor_units("OrderGrandTotal", amount, &currency("ISK")) {
            prop_assert_eq!(minor % 100, 0);
        }
    }

    #[test]
    fn converting_back_gives_the_amount_rounded_to_the_currencys_precision(amount in order_total(), currency in any_currency()) {
        if let Ok(minor) = to_minor_units("OrderGrandTotal", amount, &currency) {
            let expected = amount.round_dp_with_strategy(precision(&currency), RoundingStrategy::MidpointNearestEven);
            prop_assert_eq!(from_minor_units(minor, &currency), expected);
            prop_assert!((1..=super::MAX_MINOR_UNITS).contains(&minor));
        }
    }

    #[test]
    fn never_panics_for_any_decimal(amount in any_decimal(), currency in any_currency()) {
        let _ = to_minor_units("OrderGrandTotal", amount, &currency);
    }

    #[test]
    fn every_decimal_survives_a_trip_through_a_string(amount in any_decimal()) {
        let text = serde_json::Value::String(amount.to_string());
        prop_assert_eq!(parse_amount("OrderGrandTotal", Some(&text)).unwrap(), amount);
    }

    #[test]
    fn parsing_never_panics_on_any_text(text in ".{0,40}") {
        let _ = parse_amount("OrderGrandTotal", Some(&serde_json::Value::String(text)));
    }
}
