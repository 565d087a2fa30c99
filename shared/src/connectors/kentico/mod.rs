//! Kentico write-back through its REST service: order status and payment flags, custom data, customers.
//!
//! [`KenticoClient`] talks HTTP ([`client`]), [`OrderStatusResolver`] turns status names into
//! per-site IDs ([`statuses`]), [`merge_custom_data`] keeps other modules' `OrderCustomData`
//! ([`custom_data`]), [`response`] reads Kentico's JSON tolerantly, and every failure is a
//! [`KenticoError`] that says whether a retry can help ([`error`]).

pub mod client;
pub mod custom_data;
pub mod error;
mod response;
pub mod statuses;
pub mod update;

pub use client::{DEFAULT_TIMEOUT, KenticoClient, KenticoConfig};
pub use custom_data::merge_custom_data;
pub use error::KenticoError;
pub use response::{as_bool, as_i64, decode_object, decode_objects, decode_order_statuses};
pub use statuses::{OrderStatus, OrderStatusResolver, parse_status_overrides};
pub use update::OrderUpdate;
