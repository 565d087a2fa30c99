//! Connectors to the outside systems: Stripe's API and Kentico's REST service.

pub mod kentico;
pub mod stripe;
