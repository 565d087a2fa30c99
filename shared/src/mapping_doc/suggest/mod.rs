//! Suggestions (issue 15; docs/CONTRACTS.md#suggestions): deterministic, explainable help for
//! writing a mapping document — which unmapped order fields could fill which PaymentIntent
//! fields ([`suggest_fields`]), and which alias would let a dead-lettered mapping mismatch
//! through ([`suggest_correction`]). Every suggestion has an integer confidence (0–100), the
//! sentences it rests on, and the change a console can apply in one action.

mod corrections;
mod evidence;
mod fields;
mod keys;
#[cfg(test)]
mod proptests;
mod shapes;
mod synonyms;
#[cfg(test)]
mod tests_corrections;
#[cfg(test)]
mod tests_fields;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use corrections::{
    Correction, CorrectionChange, MIN_CORRECTION_CONFIDENCE, suggest_correction,
};
pub use fields::{FieldSuggestion, SuggestedRule, suggest_fields};
pub use shapes::{Shape, shape_of};

use super::MappingDocument;

/// A PaymentIntent field a mapping document can fill from an order field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// `metadata.<key>`.
    Metadata {
        /// The metadata key.
        key: String,
    },
    /// `statement_descriptor_suffix`.
    StatementDescriptorSuffix,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Metadata { key } => write!(f, "metadata.{key}"),
            Target::StatementDescriptorSuffix => f.write_str("statement_descriptor_suffix"),
        }
    }
}

/// An order field an operator mapped to a target before (in an earlier version): the
/// strongest signal a suggestion has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedMapping {
    /// The field path (`Customer.CustomerLoyaltyTier`).
    pub path: String,
    /// What it filled.
    pub target: Target,
    /// The version that held the rule.
    pub version: u32,
}

impl AcceptedMapping {
    /// The single-field rules of `document`, published as `version`, as acceptances.
    pub fn from_document(version: u32, document: &MappingDocument) -> Vec<AcceptedMapping> {
        let rules = &document.payment_intent;
        let metadata = rules
            .metadata
            .iter()
            .filter_map(|rule| match rule.from.as_slice() {
                [path] => Some(AcceptedMapping {
                    path: path.clone(),
                    target: Target::Metadata {
                        key: rule.key.clone(),
                    },
                    version,
                }),
                _ => None,
            });
        let suffix = (rules.statement_descriptor_suffix.iter()).filter_map(|rule| {
            match rule.from.as_slice() {
                [path] => Some(AcceptedMapping {
                    path: path.clone(),
                    target: Target::StatementDescriptorSuffix,
                    version,
                }),
                _ => None,
            }
        });
        metadata.chain(suffix).collect()
    }
}

/// The order object in `value`: a queued message's `payload.data.object`, an event's
/// `data.object`, or `value` itself (already the order).
pub(crate) fn order_object(value: &Value) -> &Value {
    (value.pointer("/payload/data/object"))
        .or_else(|| value.pointer("/data/object"))
        .unwrap_or(value)
}

/// `OrderItems[3].OrderItemSKU` → `OrderItems[0].OrderItemSKU`: paths compared the way the
/// suggestions read arrays, by their first element.
pub(crate) fn first_element_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[0");
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_order_is_found_in_a_queued_message_an_event_or_as_given() {
        let order = json!({"OrderID": 1});
        let event = json!({"data": {"object": order}});
        let message = json!({"source": "kentico", "payload": event});
        assert_eq!(order_object(&message), &order);
        assert_eq!(order_object(&event), &order);
        assert_eq!(order_object(&order), &order);
    }

    #[test]
    fn array_indices_compare_as_the_first_element() {
        assert_eq!(
            first_element_path("OrderItems[3].OrderItemSKU"),
            "OrderItems[0].OrderItemSKU"
        );
        assert_eq!(first_element_path("A[12][4]"), "A[0][0]");
        assert_eq!(first_element_path("OrderID"), "OrderID");
    }

    #[test]
    fn an_earlier_versions_single_field_rules_are_acceptances() {
        let document: MappingDocument = serde_json::from_value(json!({"schema": 1,
            "payment_intent": {"metadata": [
                {"key": "tier", "from": ["Customer.CustomerTier"]},
                {"key": "buyer", "from": ["A", "B"], "transform": [{"op": "concat", "separator": " "}]}],
              "statement_descriptor_suffix": {"from": ["OrderInvoiceNumber"]}}}))
        .unwrap();
        assert_eq!(
            AcceptedMapping::from_document(3, &document),
            [
                AcceptedMapping {
                    path: "Customer.CustomerTier".into(),
                    target: Target::Metadata { key: "tier".into() },
                    version: 3
                },
                AcceptedMapping {
                    path: "OrderInvoiceNumber".into(),
                    target: Target::StatementDescriptorSuffix,
                    version: 3
                }
            ]
        );
    }
}
