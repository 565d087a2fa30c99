//! Turns connector, mapping and store errors into the worker's transient/permanent outcomes.

use crate::connectors::kentico::KenticoError;
use crate::connectors::stripe::StripeError;
use crate::mapping::MappingError;
use crate::store::StoreError;
use crate::worker::HandlerError;

/// A mapping mismatch: permanent, with the field and the suggested fix as DLQ attributes.
pub fn mapping(error: MappingError) -> HandlerError {
    let mut failure = HandlerError::permanent("mapping_mismatch", error.to_string())
        .with_detail("field", error.field.clone());
    if let Some(suggestion) = &error.suggestion {
        failure = failure.with_detail("suggestion", suggestion.clone());
    }
    failure
}

/// A Stripe error: 429/5xx/connection are retried, other refusals are permanent.
pub fn stripe(error: StripeError) -> HandlerError {
    if error.is_transient() {
        HandlerError::transient(format!("Stripe: {error}"))
    } else {
        HandlerError::permanent("stripe_rejected", format!("Stripe: {error}"))
    }
}

/// A Kentico error: 5xx/timeouts are retried, 4xx and unknown statuses are permanent.
pub fn kentico(error: KenticoError) -> HandlerError {
    if error.is_transient() {
        return HandlerError::transient(format!("Kentico: {error}"));
    }
    let kind = match &error {
        KenticoError::UnknownStatus { .. } => "kentico_status_unknown",
        KenticoError::Unauthorized { .. } | KenticoError::SignatureRefused { .. } => {
            "kentico_unauthorized"
        }
        _ => "kentico_rejected",
    };
    let mut failure = HandlerError::permanent(kind, format!("Kentico: {error}"));
    if let KenticoError::UnknownStatus {
        name, suggestion, ..
    } = &error
    {
        failure = failure.with_detail("field", format!("status '{name}'"));
        if let Some(suggestion) = suggestion {
            failure = failure.with_detail("suggestion", suggestion.clone());
        }
    }
    failure
}

/// A store failure: transient, unless a stored item cannot be read (then a person must look).
pub fn store(error: StoreError) -> HandlerError {
    if error.is_transient() {
        HandlerError::transient(error.to_string())
    } else {
        HandlerError::permanent(error.kind(), error.to_string())
    }
}

/// An event whose JSON lacks what the handler needs: permanent.
pub fn undecodable(what: impl std::fmt::Display) -> HandlerError {
    HandlerError::permanent("undecodable_event", what.to_string())
}
