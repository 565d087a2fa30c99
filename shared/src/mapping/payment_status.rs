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

/// What happened to a paid order after the payment, as Stripe says now. Ranked above paid
/// (60): payment events never go below it; only after-payment events move within this band
/// (a failed refund or a won dispute goes back down, to paid or to the refund state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AfterPayment {
    /// Part of the payment was refunded.
    PartiallyRefunded,
    /// All of it was refunded.
    Refunded,
    /// The customer disputed the payment; it is not decided yet.
    Disputed,
    /// The dispute was lost: the money is gone.
    DisputeLost,
}

impl AfterPayment {
    /// Every state.
    pub const ALL: [AfterPayment; 4] = [
        Self::PartiallyRefunded,
        Self::Refunded,
        Self::Disputed,
        Self::DisputeLost,
    ];

    /// The state of a payment of `amount` with `refunded` refunded so far (minor units) and
    /// its dispute's status, if it has one; `None` for plainly paid.
    pub fn of(amount: i64, refunded: i64, dispute_status: Option<&str>) -> Option<Self> {
        match dispute_status {
            Some("lost") => return Some(Self::DisputeLost),
            Some(
                "warning_needs_response"
                | "warning_under_review"
                | "needs_response"
                | "under_review",
            ) => return Some(Self::Disputed),
            _ => {}
        }
        match refunded {
            r if r <= 0 => None,
            r if r < amount => Some(Self::PartiallyRefunded),
            _ => Some(Self::Refunded),
        }
    }

    /// The configuration key (`KENTICO_STATUS_MAP`).
    pub fn key(self) -> &'static str {
        match self {
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Disputed => "disputed",
            Self::DisputeLost => "dispute_lost",
        }
    }

    /// Above paid (60), each its own rank.
    pub fn rank(self) -> u32 {
        match self {
            Self::PartiallyRefunded => 70,
            Self::Refunded => 80,
            Self::Disputed => 90,
            Self::DisputeLost => 100,
        }
    }

    /// The default Kentico status name.
    pub fn default_status_name(self) -> &'static str {
        match self {
            Self::PartiallyRefunded => "Partially refunded",
            Self::Refunded => "Refunded",
            Self::Disputed => "Disputed",
            Self::DisputeLost => "Chargeback",
        }
    }
}

/// Payment state → Kentico status name, defaults overridable by `KENTICO_STATUS_MAP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMapping {
    names: HashMap<PaymentState, String>,
    after: HashMap<AfterPayment, String>,
}

impl Default for StatusMapping {
    fn default() -> Self {
        Self {
            names: PaymentState::ALL
                .iter()
                .map(|s| (*s, s.default_status_name().to_string()))
                .collect(),
            after: AfterPayment::ALL
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
            let payment = PaymentState::ALL.iter().find(|s| s.key() == key);
            let after = AfterPayment::ALL.iter().find(|s| s.key() == key);
            match (payment, after) {
                (Some(_), _) | (_, Some(_)) if name.is_empty() => problems.push(format!(
                    "KENTICO_STATUS_MAP: '{key}' has an empty status name"
                )),
                (Some(state), _) => {
                    mapping.names.insert(*state, name.to_string());
                }
                (None, Some(state)) => {
                    mapping.after.insert(*state, name.to_string());
                }
                (None, None) => problems.push(format!(
                    "KENTICO_STATUS_MAP: unknown state '{key}' (known: {}, {})",
                    PaymentState::ALL.map(PaymentState::key).join(", "),
                    AfterPayment::ALL.map(AfterPayment::key).join(", ")
                )),
            }
        }
        if problems.is_empty() {
            Ok(mapping)
        } else {
            Err(problems)
        }
    }

    /// Sets the name of the state keyed `key` (a [`PaymentState::key`] or
    /// [`AfterPayment::key`]); `false` when no state has that key.
    pub fn set(&mut self, key: &str, name: &str) -> bool {
        if let Some(state) = PaymentState::ALL.iter().find(|s| s.key() == key) {
            self.names.insert(*state, name.to_string());
        } else if let Some(state) = AfterPayment::ALL.iter().find(|s| s.key() == key) {
            self.after.insert(*state, name.to_string());
        } else {
            return false;
        }
        true
    }

    /// The Kentico status name for `state`.
    pub fn name(&self, state: PaymentState) -> &str {
        self.names
            .get(&state)
            .map(String::as_str)
            .unwrap_or_else(|| state.default_status_name())
    }

    /// The Kentico status name for an after-payment `state`.
    pub fn after_name(&self, state: AfterPayment) -> &str {
        self.after
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
    fn after_the_payment_refunds_by_amount_and_an_open_or_lost_dispute_prevail() {
        assert_eq!(AfterPayment::of(10_000, 0, None), None);
        assert_eq!(
            AfterPayment::of(10_000, 4_000, None),
            Some(AfterPayment::PartiallyRefunded)
        );
        assert_eq!(
            AfterPayment::of(10_000, 10_000, None),
            Some(AfterPayment::Refunded)
        );
        assert_eq!(
            AfterPayment::of(10_000, 0, Some("needs_response")),
            Some(AfterPayment::Disputed)
        );
        assert_eq!(
            AfterPayment::of(10_000, 0, Some("lost")),
            Some(AfterPayment::DisputeLost)
        );
        assert_eq!(AfterPayment::of(10_000, 0, Some("won")), None);
        assert!(
            AfterPayment::ALL
                .iter()
                .all(|s| s.rank() > PaymentState::Succeeded.rank())
        );
        let mapping = StatusMapping::parse("refunded=Returned").unwrap();
        assert_eq!(mapping.after_name(AfterPayment::Refunded), "Returned");
        assert_eq!(mapping.after_name(AfterPayment::Disputed), "Disputed");
    }

    #[test]
    fn lists_every_bad_pair() {
        let problems = StatusMapping::parse("paid=Paid,succeeded,processing=").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
