//! Mapping rules between Kentico and Stripe (in progress).
