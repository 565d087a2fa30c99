//! The composition root: the only place that turns configuration into running parts. Every entry
//! point — the five Lambda functions ([`lambda`]), `paybridge serve` and the operator commands
//! ([`serve`]) — asks here for its ingress handlers, processors, stores, queue ports and
//! dead-letter view, and wires nothing itself. Secrets are resolved here ([`secrets`]) and
//! nowhere else. The domain (`flows`, `mapping`) never depends on this module.
//!
//! docs/ARCHITECTURE.md describes the shape this module assembles.

pub mod backend;
mod clients;
mod ingress;
pub mod lambda;
mod reconcile;
pub mod secrets;
pub mod serve;
mod worker;

pub use backend::{Backend, BackendKind, QueueDepth, Stores};
pub use clients::Clients;
pub use ingress::ingress;
pub use lambda::LambdaEnv;
pub use reconcile::{SweepStores, sweep};
pub use secrets::Secrets;
pub use serve::{ServeEnv, ServeParts};
pub use worker::processor;

#[cfg(test)]
mod tests;
