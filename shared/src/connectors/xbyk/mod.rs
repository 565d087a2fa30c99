//! Xperience by Kentico write-back through the paybridge package's signed endpoints
//! (docs/CONTRACTS.md#xperience-by-kentico-order-endpoints): [`XbykClient`] talks HTTP and signs
//! every request ([`signature`]); [`XbykPackageOrders`] is the [`super::shop::ShopOrders`] the
//! flows write through when `KENTICO_PLATFORM=xbyk`. Failures are the Kentico 13 connector's
//! [`super::kentico::KenticoError`], classified the same way.

pub mod client;
pub mod orders;
pub mod signature;

pub use client::{PackageHealth, XbykClient, XbykConfig};
pub use orders::{XbykPackageOrders, write_body};
pub use signature::{SIGNATURE_HEADER, request_signature, sign_request};
