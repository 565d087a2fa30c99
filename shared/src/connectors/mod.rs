//! Connectors to the outside systems: Stripe's API, and Kentico's orders through the
//! [`shop::ShopOrders`] port: Kentico 13's REST service or the Xperience by Kentico package.

pub mod kentico;
pub mod shop;
pub mod stripe;
pub mod xbyk;
