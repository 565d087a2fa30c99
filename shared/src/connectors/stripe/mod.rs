//! Stripe API connector (in progress).
