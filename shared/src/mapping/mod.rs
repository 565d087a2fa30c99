//! Mapping rules between Kentico objects and Stripe requests: pure functions, no I/O.

pub mod address;
mod columns;
pub mod description;
pub mod error;
pub mod kentico_order;
pub mod metadata;
pub mod money;
mod order_fields;
pub mod payment_status;
pub mod platform;
pub(crate) mod text;
mod xbyk_order;

pub use address::{
    Address, CountryCode, standardize_country, standardize_postcode, standardize_state,
};
pub use description::describe_items;
pub use error::MappingError;
pub use kentico_order::{KenticoCustomer, KenticoOrder, OrderItem};
pub use metadata::MetadataBuilder;
pub use money::{
    Currency, MAX_MINOR_UNITS, from_minor_units, minimum_charge, parse_amount, to_minor_units,
};
pub(crate) use order_fields::built_in_order_fields;
pub use platform::KenticoPlatform;
