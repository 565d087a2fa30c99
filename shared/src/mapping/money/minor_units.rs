//! Major-unit amounts to and from the integer minor units Stripe's API takes, by Stripe's rules.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::Currency;
use crate::mapping::error::MappingError;

/// Stripe refuses an `amount` of more than eight digits.
pub const MAX_MINOR_UNITS: i64 = 99_999_999;

/// Stripe's zero-decimal currencies: the API amount is the major amount itself.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Stripe's three-decimal currencies: amounts carry three decimals but the last digit must be 0.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Stripe's minimum charge per currency as (mantissa, scale); other currencies only need > 0.
const MINIMUM_CHARGE: &[(&str, i64, u32)] = &[
    ("USD", 50, 2),
    ("AED", 200, 2),
    ("AUD", 50, 2),
    ("BGN", 100, 2),
    ("BRL", 50, 2),
    ("CAD", 50, 2),
    ("CHF", 50, 2),
    ("CZK", 1500, 2),
    ("DKK", 250, 2),
    ("EUR", 50, 2),
    ("GBP", 30, 2),
    ("HKD", 400, 2),
    ("HUF", 17500, 2),
    ("INR", 50, 2),
    ("JPY", 50, 0),
    ("MXN", 10, 0),
    ("MYR", 2, 0),
    ("NOK", 300, 2),
    ("NZD", 50, 2),
    ("PLN", 200, 2),
    ("RON", 200, 2),
    ("SEK", 300, 2),
    ("SGD", 50, 2),
    ("THB", 10, 0),
];

/// How Stripe writes one currency: `precision` decimals are chargeable, and the API integer
/// is the major amount times 10^`exponent`.
struct StripeScale {
    precision: u32,
    exponent: u32,
}

fn stripe_scale(currency: &Currency) -> StripeScale {
    let code = currency.code();
    if ZERO_DECIMAL.contains(&code) {
        StripeScale {
            precision: 0,
            exponent: 0,
        }
    } else if THREE_DECIMAL.contains(&code) {
        // Stripe requires the last of the three decimals to be 0, so only cents are chargeable.
        StripeScale {
            precision: 2,
            exponent: 3,
        }
    } else if code == "ISK" {
        // Stripe charges ISK as zero-decimal but its API still takes two (zero) decimals.
        StripeScale {
            precision: 0,
            exponent: 2,
        }
    } else {
        StripeScale {
            precision: 2,
            exponent: 2,
        }
    }
}

/// Stripe's minimum charge in `currency`, in major units; `None` when none is known.
pub fn minimum_charge(currency: &Currency) -> Option<Decimal> {
    MINIMUM_CHARGE
        .iter()
        .find(|(code, _, _)| *code == currency.code())
        .map(|&(_, mantissa, scale)| Decimal::new(mantissa, scale))
}

/// The exact major amount of `minor` Stripe minor units, e.g. 12990 USD → 129.90,
/// 1500 JPY → 1500, 12340 KWD → 12.340, 150000 ISK → 1500.00.
pub fn from_minor_units(minor: i64, currency: &Currency) -> Decimal {
    Decimal::new(minor, stripe_scale(currency).exponent)
}

/// Converts a major amount to the integer Stripe's `amount` field takes.
///
/// The amount is first rounded to the decimals Stripe can charge in the currency, half to even
/// (banker's rounding): Kentico is a .NET application, and .NET's `Math.Round` and decimal
/// rounding default to `MidpointRounding.ToEven`, so the minor units agree with the totals
/// Kentico shows. It then must be above zero, at least Stripe's minimum charge for the
/// currency, and at most [`MAX_MINOR_UNITS`]; each failure is permanent and names `field`.
pub fn to_minor_units(
    field: &str,
    amount: Decimal,
    currency: &Currency,
) -> Result<i64, MappingError> {
    let code = currency.code();
    if amount <= Decimal::ZERO {
        return Err(MappingError::new(
            field,
            format!("amount {amount} {code} must be greater than zero"),
        ));
    }
    let scale = stripe_scale(currency);
    let rounded =
        amount.round_dp_with_strategy(scale.precision, RoundingStrategy::MidpointNearestEven);
    if let Some(minimum) = minimum_charge(currency).filter(|minimum| rounded < *minimum) {
        return Err(MappingError::new(
            field,
            format!("amount {amount} {code} is below Stripe's minimum charge of {minimum} {code}"),
        ));
    }
    if rounded.is_zero() {
        return Err(MappingError::new(
            field,
            format!("amount {amount} {code} rounds to 0 in {code}, so there is nothing to charge"),
        ));
    }
    let too_large = || {
        let maximum = from_minor_units(MAX_MINOR_UNITS, currency);
        MappingError::new(
            field,
            format!(
                "amount {amount} {code} is above Stripe's maximum charge of {maximum} {code} ({MAX_MINOR_UNITS} minor units)"
            ),
        )
    };
    // An amount too large for an i64 is also far above Stripe's maximum.
    let minor = Decimal::from(10_i64.pow(scale.exponent))
        .checked_mul(rounded)
        .and_then(|minor| minor.to_i64())
        .ok_or_else(too_large)?;
    if minor > MAX_MINOR_UNITS {
        return Err(too_large());
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse("OrderCurrencyCode", code).unwrap()
    }

    fn minor(amount: Decimal, code: &str) -> i64 {
        to_minor_units("OrderGrandTotal", amount, &currency(code)).unwrap()
    }

    fn refusal(amount: Decimal, code: &str) -> String {
        to_minor_units("OrderGrandTotal", amount, &currency(code))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn two_decimal_currencies_are_charged_in_cents() {
        assert_eq!(minor(dec!(129.90), "USD"), 12990);
        assert_eq!(minor(dec!(0.50), "EUR"), 50);
    }

    #[test]
    fn zero_decimal_currencies_are_charged_unscaled_rounding_half_to_even() {
        assert_eq!(minor(dec!(1500), "JPY"), 1500);
        assert_eq!(minor(dec!(1500.5), "JPY"), 1500);
        assert_eq!(minor(dec!(1501.5), "JPY"), 1502);
    }

    #[test]
    fn three_decimal_currencies_end_in_zero_rounding_half_to_even() {
        assert_eq!(minor(dec!(12.345), "KWD"), 12340);
        assert_eq!(minor(dec!(12.355), "KWD"), 12360);
        assert_eq!(minor(dec!(12.3451), "KWD"), 12350);
    }

    #[test]
    fn icelandic_krona_keeps_two_zero_decimals() {
        assert_eq!(minor(dec!(1500.50), "ISK"), 150000);
        assert_eq!(minor(dec!(1501.50), "ISK"), 150200);
    }

    #[test]
    fn minor_units_convert_back_to_exact_major_amounts() {
        assert_eq!(
            from_minor_units(12990, &currency("USD")).to_string(),
            "129.90"
        );
        assert_eq!(from_minor_units(1500, &currency("JPY")).to_string(), "1500");
        assert_eq!(
            from_minor_units(12340, &currency("KWD")).to_string(),
            "12.340"
        );
        assert_eq!(
            from_minor_units(150000, &currency("ISK")).to_string(),
            "1500.00"
        );
    }

    #[test]
    fn an_amount_below_stripes_minimum_is_refused_naming_the_minimum() {
        assert_eq!(
            refusal(dec!(0.49), "EUR"),
            "OrderGrandTotal: amount 0.49 EUR is below Stripe's minimum charge of 0.50 EUR"
        );
        assert!(refusal(dec!(49), "JPY").contains("minimum charge of 50 JPY"));
    }

    #[test]
    fn zero_and_negative_amounts_are_refused() {
        assert_eq!(
            refusal(dec!(0), "USD"),
            "OrderGrandTotal: amount 0 USD must be greater than zero"
        );
        assert!(refusal(dec!(-5.00), "CLP").contains("must be greater than zero"));
    }

    #[test]
    fn an_amount_rounding_to_nothing_is_refused_where_no_minimum_is_known() {
        assert!(refusal(dec!(0.4), "CLP").contains("rounds to 0 in CLP"));
    }

    #[test]
    fn an_amount_above_eight_digits_is_refused() {
        assert_eq!(
            refusal(dec!(1000000.00), "USD"),
            "OrderGrandTotal: amount 1000000.00 USD is above Stripe's maximum charge of 999999.99 USD (99999999 minor units)"
        );
        assert!(refusal(Decimal::MAX, "JPY").contains("above Stripe's maximum"));
        assert_eq!(minor(dec!(999999.99), "USD"), MAX_MINOR_UNITS);
    }

    #[test]
    fn minimums_are_known_only_for_stripes_table() {
        assert_eq!(minimum_charge(&currency("GBP")), Some(dec!(0.30)));
        assert_eq!(minimum_charge(&currency("HUF")), Some(dec!(175.00)));
        assert_eq!(minimum_charge(&currency("KWD")), None);
    }
}
