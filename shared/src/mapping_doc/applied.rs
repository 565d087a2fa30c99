//! A mapping version applied to the environment's flow settings: what the flows run with.
//!
//! A document overrides what it names and leaves the rest as the environment says: a status it
//! does not map keeps `KENTICO_STATUS_MAP`'s name, a ledger role it does not name keeps
//! `LEDGER_ACCOUNTS`' account, an empty `canceled_statuses` keeps `KENTICO_CANCELED_STATUSES`.
//! Version 0 is the environment alone.

use std::ops::Deref;

use super::document::{Aliases, Flows, MappingDocument, PaymentIntentRules};
use crate::config::customers::Owner;
use crate::config::flow::FlowSettings;

/// The flows' settings under one mapping version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMapping {
    /// The version (0: the environment's).
    pub version: u32,
    /// The flow settings, with the document's statuses, canceled statuses, ledger accounts and
    /// customer field owners over the environment's.
    pub settings: FlowSettings,
    /// Which flows run.
    pub flows: Flows,
    /// The PaymentIntent's extra fields.
    pub payment_intent: PaymentIntentRules,
    /// The spellings of countries, states and currencies the order events may carry.
    pub aliases: Aliases,
}

impl Deref for AppliedMapping {
    type Target = FlowSettings;

    fn deref(&self) -> &FlowSettings {
        &self.settings
    }
}

/// A switchable flow of the [`Flows`] a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Kentico orders → PaymentIntents, payments → Kentico statuses.
    OrderToCash,
    /// Refunds and disputes → Kentico statuses.
    AfterPayment,
    /// Customers both ways.
    Customers,
    /// Ledger entries for the ERP.
    Ledger,
}

impl Flow {
    /// Every flow, in the document's order.
    pub const ALL: [Flow; 4] = [
        Flow::OrderToCash,
        Flow::AfterPayment,
        Flow::Customers,
        Flow::Ledger,
    ];

    /// Its key in the document's `flows` (`order_to_cash`, …).
    pub fn key(self) -> &'static str {
        match self {
            Flow::OrderToCash => "order_to_cash",
            Flow::AfterPayment => "after_payment",
            Flow::Customers => "customers",
            Flow::Ledger => "ledger",
        }
    }
}

impl Flows {
    /// Whether `flow` runs.
    pub fn is_on(&self, flow: Flow) -> bool {
        match flow {
            Flow::OrderToCash => self.order_to_cash,
            Flow::AfterPayment => self.after_payment,
            Flow::Customers => self.customers,
            Flow::Ledger => self.ledger,
        }
    }

    /// Switches `flow` on or off.
    pub fn set(&mut self, flow: Flow, on: bool) {
        match flow {
            Flow::OrderToCash => self.order_to_cash = on,
            Flow::AfterPayment => self.after_payment = on,
            Flow::Customers => self.customers = on,
            Flow::Ledger => self.ledger = on,
        }
    }
}

impl AppliedMapping {
    /// Version 0: the environment's settings as they are, every flow on, no extra rules.
    pub fn environment(settings: FlowSettings) -> AppliedMapping {
        AppliedMapping {
            version: 0,
            settings,
            flows: Flows::default(),
            payment_intent: PaymentIntentRules::default(),
            aliases: Aliases::default(),
        }
    }

    /// `document`, published as `version`, over the environment's `base` settings. The
    /// document is a valid one ([`MappingDocument::parse`]): names it could not hold are
    /// refused there, so any left here are skipped.
    pub fn new(version: u32, document: &MappingDocument, base: &FlowSettings) -> AppliedMapping {
        let mut settings = base.clone();
        for (state, name) in &document.statuses {
            settings.status_mapping.set(state, name.trim());
        }
        if !document.canceled_statuses.is_empty() {
            settings.cancel_status_names = document.canceled_statuses.clone();
        }
        for (role, account) in &document.ledger_accounts {
            settings.ledger_accounts.set(role, account.trim());
        }
        for (field, owner) in &document.customer_field_owners {
            let owner = match owner.as_str() {
                "stripe" => Owner::Stripe,
                _ => Owner::Kentico,
            };
            settings.customer_field_owners.set(field, owner);
        }
        AppliedMapping {
            version,
            settings,
            flows: document.flows,
            payment_intent: document.payment_intent.clone(),
            aliases: document.aliases.clone(),
        }
    }

    /// Why an event of `flow` is not handled, when the flow is switched off.
    pub fn switched_off(&self, flow: Flow) -> Option<String> {
        (!self.flows.is_on(flow)).then(|| {
            format!(
                "the {} flow is switched off in mapping version {}",
                flow.key(),
                self.version
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::payment_status::{AfterPayment, PaymentState, StatusMapping};

    fn base() -> FlowSettings {
        FlowSettings {
            status_mapping: StatusMapping::parse("succeeded=Completed,refunded=Money back")
                .unwrap(),
            ..FlowSettings::default()
        }
    }

    #[test]
    fn a_document_overrides_what_it_names_and_keeps_the_rest() {
        let document = MappingDocument::parse(
            r#"{"schema": 1,
                "flows": {"ledger": false},
                "statuses": {"payment_failed": "Declined"},
                "canceled_statuses": ["Storno"],
                "ledger_accounts": {"fees": "6100"},
                "customer_field_owners": {"phone": "stripe"}}"#,
        )
        .unwrap();
        let applied = AppliedMapping::new(7, &document, &base());
        assert_eq!(applied.version, 7);
        assert_eq!(
            applied.status_mapping.name(PaymentState::PaymentFailed),
            "Declined"
        );
        assert_eq!(
            applied.status_mapping.name(PaymentState::Succeeded),
            "Completed",
            "the environment's name stays"
        );
        assert_eq!(
            applied.status_mapping.after_name(AfterPayment::Refunded),
            "Money back"
        );
        assert!(applied.is_cancel_status(Some("storno")));
        assert!(!applied.is_cancel_status(Some("Canceled")));
        assert_eq!(applied.ledger_accounts.fees, "6100");
        assert_eq!(applied.ledger_accounts.revenue, "Income:Sales");
        assert_eq!(applied.customer_field_owners.owner("phone"), Owner::Stripe);
        assert_eq!(applied.customer_field_owners.owner("email"), Owner::Kentico);
        assert_eq!(
            applied.switched_off(Flow::Ledger).as_deref(),
            Some("the ledger flow is switched off in mapping version 7")
        );
        assert_eq!(applied.switched_off(Flow::OrderToCash), None);
    }

    #[test]
    fn version_zero_is_the_environment_with_every_flow_on() {
        let applied = AppliedMapping::environment(base());
        assert_eq!(applied.settings, base());
        assert!(Flow::ALL.iter().all(|f| applied.flows.is_on(*f)));
        let document = MappingDocument::from_settings(&base());
        assert_eq!(
            AppliedMapping::new(0, &document, &FlowSettings::default()).settings,
            base(),
            "version 0's document applied over the defaults is the environment again"
        );
    }
}
