//! Incoming webhooks: where they come from, how they are signed, what their envelope holds.

pub mod event;
pub mod event_types;
pub mod sample;
pub mod signature;
pub mod strict_json;

pub use event::{EventEnvelope, EventEnvelopeError, Source};
pub use signature::{SignatureError, SignatureVerifier};
