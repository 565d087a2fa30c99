//! Loopback fakes of Stripe and Kentico: real HTTP servers that record every request and fail on demand.

pub mod erp;
pub mod kentico;
pub mod quickbooks;
pub mod stripe;
pub mod stripe_params;
