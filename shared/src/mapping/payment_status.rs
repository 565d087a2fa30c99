//! Stripe payment states, their ranks, and the Kentico status names they map to.

use std::collections::HashMap;

use crate::webhook::event_types::stripe;

/// A payment state the integration mirrors onto the Kentico order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// The customer must authenticate (3-D Secure).
    RequiresAction,
    /// The attempt failed (e.g. card declined); the customer may retry.
    PaymentFailed,
    /// The payment is on its way (bank debits, some wallets).
    Processing,
    /// Authorized, waiting for a manual capture.
    RequiresCapture,
    /// The PaymentIntent was canceled.
    Canceled,
    /// Paid.
    Succeeded,
}

impl PaymentState {
    /// Every state, lowest rank first.
    pub const ALL: [PaymentState; 6] = [
        Self::RequiresAction,
        Self::PaymentFailed,
        Self::Processing,
        Self::RequiresCapture,
        Self::Canceled,
        Self::Succeeded,
    ];

    /// The state a Stripe event type reports, for the events the payment worker handles.
    pub fn from_event_type(event_type: &str) -> Option<Self> {
        Some(match event_type {
            stripe::PAYMENT_INTENT_REQUIRES_ACTION => Self::RequiresAction,
            stripe::PAYMENT_INTENT_PAYMENT_FAILED => Self::PaymentFailed,
            stripe::PAYMENT_INTENT_PROCESSING => Self::Processing,
            stripe::PAYMENT_INTENT_AMOUNT_CAPTURABLE_UPDATED => Self::RequiresCapture,
            stripe::PAYMENT_INTENT_CANCELED => Self::Canceled,
            stripe::PAYMENT_INTENT_SUCCEEDED => Self::Succeeded,
            _ => return None,
        })
    }

    /// The configuration key (`KENTICO_STATUS_MAP`) and the value written to custom data.
    pub fn key(self) -> &'static str {
        match self {
            Self::RequiresAction => "requires_action",
            Self::PaymentFailed => "payment_failed",
            Self::Processing => "processing",
            Self::RequiresCapture => "requires_capture",
            Self::Canceled => "canceled",
            Self::Succeeded => "succeeded",
        }
    }

    /// The order only ever moves to a higher rank. A failure ranks above "needs action" (the
    /// authentication failed) but below everything that means money is moving; a retry that
    /// reaches `processing` or `succeeded` therefore wins over an earlier failure, and nothing
    /// un-pays a paid order. Canceled ranks below succeeded: a new attempt after a canceled
    /// PaymentIntent (the retry link) may still pay the order.
    pub fn rank(self) -> u32 {
        match self {
            Self::RequiresAction => 10,
            Self::PaymentFailed => 20,
            Self::Processing => 30,
            Self::RequiresCapture => 40,
            Self::Canceled => 50,
            Self::Succeeded => 60,
        }
    }

    /// The default Kentico status name.
    pub fn default_status_name(self) -> &'static str {
        match self {
            Self::RequiresAction => "Pending Payment",
            Self::PaymentFailed => "Payment Failed",
            Self::Processing => "Payment pending",
            Self::RequiresCapture => "Payment authorized",
            Self::Canceled => "Canceled",
            Self::Succeeded => "Paid",
        }
    }
}

/// Payment state → Kentico status name, defaults overridable by `KENTICO_STATUS_MAP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMapping {
    names: HashMap<PaymentState, String>,
}

impl Default for StatusMapping {
    fn default() -> Self {
        Self {
            names: PaymentState::ALL
                .iter()
                .map(|s| (*s, s.default_status_name().to_string()))
                .collect(),
        }
    }
}

impl StatusMapping {
    /// Parses `state=Status name` pairs, comma-separated (e.g. `succeeded=Completed`), over the
    /// defaults; lists every bad pair.
    pub fn parse(raw: &str) -> Result<Self, Vec<String>> {
        let mut mapping = Self::default();
        let mut problems = Vec::new();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, name)) = pair.split_once('=') else {
                problems.push(format!(
                    "KENTICO_STATUS_MAP: '{pair}' is not state=Status name"
                ));
                continue;
            };
            let (key, name) = (key.trim(), name.trim());
            match PaymentState::ALL.iter().find(|s| s.key() == key) {
                Some(_) if name.is_empty() => problems.push(format!(
                    "KENTICO_STATUS_MAP: '{key}' has an empty status name"
                )),
                Some(state) => {
                    mapping.names.insert(*state, name.to_string());
                }
                None => problems.push(format!(
                    "KENTICO_STATUS_MAP: unknown state '{key}' (known: {})",
                    PaymentState::ALL.map(PaymentState::key).join(", ")
                )),
            }
        }
        if problems.is_empty() {
            Ok(mapping)
        } else {
            Err(problems)
        }
    }

    /// The Kentico status name for `state`.
    pub fn name(&self, state: PaymentState) -> &str {
        self.names
            .get(&state)
            .map(String::as_str)
            .unwrap_or_else(|| state.default_status_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_the_states_so_payment_always_wins() {
        let ranks: Vec<u32> = PaymentState::ALL.iter().map(|s| s.rank()).collect();
        let mut sorted = ranks.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ranks, sorted, "ALL is in strictly increasing rank");
        assert!(PaymentState::Succeeded.rank() > PaymentState::Processing.rank());
        assert!(PaymentState::Succeeded.rank() > PaymentState::PaymentFailed.rank());
        assert!(PaymentState::Processing.rank() > PaymentState::PaymentFailed.rank());
    }

    #[test]
    fn maps_the_six_payment_intent_events() {
        assert_eq!(
            PaymentState::from_event_type("payment_intent.amount_capturable_updated"),
            Some(PaymentState::RequiresCapture)
        );
        assert_eq!(PaymentState::from_event_type("charge.succeeded"), None);
        for state in PaymentState::ALL {
            let event = format!("payment_intent.{}", state.key());
            if state != PaymentState::RequiresCapture {
                assert_eq!(PaymentState::from_event_type(&event), Some(state));
            }
        }
    }

    #[test]
    fn the_defaults_are_the_documented_names_and_can_be_overridden() {
        let mapping = StatusMapping::parse("succeeded=Completed, canceled = Cancelled").unwrap();
        assert_eq!(mapping.name(PaymentState::Succeeded), "Completed");
        assert_eq!(mapping.name(PaymentState::Canceled), "Cancelled");
        assert_eq!(mapping.name(PaymentState::Processing), "Payment pending");
        assert_eq!(
            StatusMapping::default().name(PaymentState::RequiresAction),
            "Pending Payment"
        );
    }

    #[test]
    fn lists_every_bad_pair() {
        let problems = StatusMapping::parse("paid=Paid,succeeded,processing=").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
