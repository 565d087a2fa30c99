//! Fake Stripe (in progress).
