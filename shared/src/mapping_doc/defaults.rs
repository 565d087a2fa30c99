//! Version 0: the document the environment's settings amount to, which a published version
//! replaces and a rollback to 0 restores.

use std::collections::BTreeMap;

use super::document::{Flows, MappingDocument, SCHEMA};
use crate::config::customers::{FIELDS, Owner};
use crate::config::flow::FlowSettings;
use crate::mapping::payment_status::{AfterPayment, PaymentState};

impl MappingDocument {
    /// The environment's mappings (`KENTICO_STATUS_MAP`, `KENTICO_CANCELED_STATUSES`,
    /// `LEDGER_ACCOUNTS`, `CUSTOMER_FIELD_OWNERS`; the built-in description) as a document.
    pub fn from_settings(settings: &FlowSettings) -> MappingDocument {
        let mapping = &settings.status_mapping;
        let statuses = (PaymentState::ALL
            .iter()
            .map(|s| (s.key(), mapping.name(*s))))
        .chain(
            AfterPayment::ALL
                .iter()
                .map(|s| (s.key(), mapping.after_name(*s))),
        )
        .map(|(state, name)| (state.to_string(), name.to_string()))
        .collect();
        let accounts = &settings.ledger_accounts;
        let ledger_accounts: BTreeMap<String, String> = [
            ("clearing", &accounts.clearing),
            ("revenue", &accounts.revenue),
            ("fees", &accounts.fees),
            ("refunds", &accounts.refunds),
            ("disputes", &accounts.disputes),
            ("bank", &accounts.bank),
        ]
        .into_iter()
        .map(|(role, account)| (role.to_string(), account.clone()))
        .collect();
        let customer_field_owners = FIELDS
            .iter()
            .map(|field| {
                let owner = match settings.customer_field_owners.owner(field) {
                    Owner::Kentico => "kentico",
                    Owner::Stripe => "stripe",
                };
                (field.to_string(), owner.to_string())
            })
            .collect();
        MappingDocument {
            schema: SCHEMA,
            flows: Flows::default(),
            statuses,
            canceled_statuses: settings.cancel_status_names.clone(),
            payment_intent: Default::default(),
            aliases: Default::default(),
            ledger_accounts,
            customer_field_owners,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::payment_status::StatusMapping;

    #[test]
    fn version_zero_is_the_environments_settings_and_is_valid() {
        let settings = FlowSettings {
            status_mapping: StatusMapping::parse("succeeded=Completed").unwrap(),
            ..FlowSettings::default()
        };
        let document = MappingDocument::from_settings(&settings);
        assert_eq!(document.statuses["succeeded"], "Completed");
        assert_eq!(document.statuses["payment_failed"], "Payment Failed");
        assert_eq!(document.statuses.len(), 10);
        assert_eq!(document.canceled_statuses, ["Canceled", "Cancelled"]);
        assert_eq!(
            document.ledger_accounts["clearing"],
            "Assets:Stripe:Clearing"
        );
        assert_eq!(document.customer_field_owners["email"], "kentico");
        assert_eq!(document.problems(), Vec::new());
        let text = serde_json::to_string_pretty(&document).unwrap();
        assert_eq!(
            MappingDocument::parse(&text).unwrap(),
            document,
            "it round-trips"
        );
    }
}
