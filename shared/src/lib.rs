//! paybridge: the Stripe ⇄ Kentico order-to-cash library behind every function and `serve`.
//!
//! The path of one event: [`webhook`] (who sent it, is it genuine) → [`ingress`] (answer the
//! sender, put it on the queue) → [`queue`] (the envelope and the queue adapters) → [`worker`]
//! (the batch processor every worker Lambda runs) inside [`idempotency`] (exactly-once).

pub mod app;
pub mod clock;
pub mod config;
pub mod connectors;
pub mod customers;
pub mod dead_letters;
pub mod effects;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod flows;
pub mod idempotency;
pub mod ingress;
pub mod journal;
pub mod ledger;
pub mod links;
pub mod mapping;
pub mod mapping_doc;
pub mod metrics;
pub mod queue;
pub mod reconcile;
pub mod sealing;
pub mod secret;
pub mod store;
pub mod webhook;
pub mod worker;
