//! Money: ISO 4217 currencies, exact amounts from Kentico JSON, and Stripe's minor units.

mod amount;
mod currency;
mod minor_units;
#[cfg(test)]
mod proptests;

pub use amount::parse_amount;
pub use currency::Currency;
pub(crate) use currency::{Recognised, recognise as recognise_currency};
pub use minor_units::{MAX_MINOR_UNITS, from_minor_units, minimum_charge, to_minor_units};
