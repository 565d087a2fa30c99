//! The minor-unit converter (`mapping::money`): a currency code, then `|`, then an amount as
//! Kentico may send it (a decimal string, or the same text as a JSON number).
//!
//! Beyond "no panic": an amount that converts is within Stripe's 1..=99,999,999; converting
//! back gives the amount rounded half to even to the decimals Stripe charges in the currency;
//! and that converts to the same minor units again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paybridge::mapping::{
    Currency, MAX_MINOR_UNITS, from_minor_units, parse_amount, to_minor_units,
};
use rust_decimal::RoundingStrategy;
use serde_json::Value;

/// The decimals Stripe charges in: its zero-decimal currencies and ISK charge whole units.
fn precision(currency: &Currency) -> u32 {
    const WHOLE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF", "ISK",
    ];
    if WHOLE.contains(&currency.code()) {
        0
    } else {
        2
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (code, amount_text) = text.split_once('|').unwrap_or(("USD", text));
    let currency = match Currency::parse("OrderCurrencyCode", code) {
        Ok(currency) => currency,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let as_number = serde_json::from_str::<Value>(amount_text).unwrap_or(Value::Null);
    for value in [Value::String(amount_text.to_string()), as_number] {
        let Ok(amount) = parse_amount("OrderGrandTotal", Some(&value)) else {
            continue;
        };
        let Ok(minor) = to_minor_units("OrderGrandTotal", amount, &currency) else {
            continue;
        };
        assert!((1..=MAX_MINOR_UNITS).contains(&minor), "{minor}");
        let back = from_minor_units(minor, &currency);
        let rounded = amount
            .round_dp_with_strategy(precision(&currency), RoundingStrategy::MidpointNearestEven);
        assert_eq!(back, rounded, "{amount} {} → {minor}", currency.code());
        assert_eq!(
            to_minor_units("OrderGrandTotal", back, &currency),
            Ok(minor)
        );
    }
});
