//! Reading and checking a mapping document: every problem at once, each with the JSON path it
//! is at, before a version can be published.

use std::collections::BTreeSet;

use super::document::{FieldRule, MappingDocument, SCHEMA, Transform};
use super::rules::parse_path;
use crate::config::customers::FIELDS;
use crate::mapping::payment_status::{AfterPayment, PaymentState};

/// Stripe's limits on `metadata`: keys, characters per key.
const STRIPE_METADATA_KEYS: usize = 50;
const STRIPE_METADATA_KEY_CHARS: usize = 40;
/// The keys paybridge sets itself (a document may not redefine them).
pub const RESERVED_METADATA_KEYS: [&str; 6] = [
    "kentico_order_id",
    "kentico_order_guid",
    "kentico_customer_id",
    "kentico_site",
    "kentico_skus",
    "paybridge_truncated",
];
/// The ledger roles of `ledger_accounts`.
pub const LEDGER_ROLES: [&str; 6] = ["clearing", "revenue", "fees", "refunds", "disputes", "bank"];
/// A status name longer than this is a mistake (Kentico's code names are at most 200).
const MAX_STATUS_CHARS: usize = 200;

/// One thing wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where: a JSON path such as `payment_intent.metadata[2].key` (empty: the whole text).
    pub path: String,
    /// What.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl MappingDocument {
    /// Reads and checks `text`; every problem, each with its path.
    pub fn parse(text: &str) -> Result<MappingDocument, Vec<Problem>> {
        let document: MappingDocument = serde_json::from_str(text).map_err(|e| {
            vec![Problem {
                path: String::new(),
                message: format!("not a mapping document: {e}"),
            }]
        })?;
        let problems = document.problems();
        if problems.is_empty() {
            Ok(document)
        } else {
            Err(problems)
        }
    }

    /// Everything wrong with the document (empty when it can be published).
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Problems::default();
        if self.schema != SCHEMA {
            out.add(
                "schema",
                format!(
                    "{} is not {SCHEMA}, the schema this version reads",
                    self.schema
                ),
            );
        }
        let states: Vec<&str> = (PaymentState::ALL.iter().map(|s| s.key()))
            .chain(AfterPayment::ALL.iter().map(|s| s.key()))
            .collect();
        for (state, name) in &self.statuses {
            let path = format!("statuses.{state}");
            if !states.contains(&state.as_str()) {
                out.add(
                    &path,
                    format!("unknown state (known: {})", states.join(", ")),
                );
            }
            check_name(&mut out, &path, name);
        }
        for (index, name) in self.canceled_statuses.iter().enumerate() {
            check_name(&mut out, &format!("canceled_statuses[{index}]"), name);
        }
        self.check_metadata(&mut out);
        if let Some(rule) = &self.payment_intent.description {
            let path = "payment_intent.description";
            check_placeholders(
                &mut out,
                &format!("{path}.template"),
                &rule.template,
                &["items", "order_id", "order_number"],
            );
            check_placeholders(
                &mut out,
                &format!("{path}.item"),
                &rule.item,
                &["quantity", "name", "sku"],
            );
            if rule.separator.chars().count() > 10 {
                out.add(&format!("{path}.separator"), "at most 10 characters");
            }
        }
        if let Some(rule) = &self.payment_intent.statement_descriptor_suffix {
            check_rule(&mut out, "payment_intent.statement_descriptor_suffix", rule);
        }
        for (spelling, code) in &self.aliases.countries {
            let path = format!("aliases.countries.{spelling}");
            if spelling.trim().is_empty() {
                out.add(&path, "an empty spelling");
            }
            if rust_iso3166::from_alpha2(code).is_none() {
                out.add(&path, format!("'{code}' is not an ISO 3166 alpha-2 code"));
            }
        }
        for (country, spellings) in &self.aliases.states {
            if rust_iso3166::from_alpha2(country).is_none() {
                out.add(
                    &format!("aliases.states.{country}"),
                    "not an ISO 3166 alpha-2 code",
                );
            }
            for (spelling, code) in spellings {
                let shape = (1..=3).contains(&code.len())
                    && code.chars().all(|c| c.is_ascii_alphanumeric());
                if spelling.trim().is_empty() || !shape {
                    out.add(
                        &format!("aliases.states.{country}.{spelling}"),
                        format!("'{code}' is not a state code (1–3 letters or digits)"),
                    );
                }
            }
        }
        for (spelling, code) in &self.aliases.currencies {
            let path = format!("aliases.currencies.{spelling}");
            if spelling.trim().is_empty() {
                out.add(&path, "an empty spelling");
            }
            if let Err(error) = crate::mapping::money::Currency::parse(&path, code) {
                out.add(&path, error.problem);
            }
        }
        for (role, account) in &self.ledger_accounts {
            let path = format!("ledger_accounts.{role}");
            if !LEDGER_ROLES.contains(&role.as_str()) {
                out.add(
                    &path,
                    format!("unknown role (known: {})", LEDGER_ROLES.join(", ")),
                );
            }
            if account.trim().is_empty() {
                out.add(&path, "an empty account");
            }
        }
        for (field, owner) in &self.customer_field_owners {
            let path = format!("customer_field_owners.{field}");
            if !FIELDS.contains(&field.as_str()) {
                out.add(
                    &path,
                    format!("unknown field (known: {})", FIELDS.join(", ")),
                );
            }
            if !matches!(owner.as_str(), "kentico" | "stripe") {
                out.add(&path, format!("'{owner}' is not kentico or stripe"));
            }
        }
        out.0
    }

    fn check_metadata(&self, out: &mut Problems) {
        let rules = &self.payment_intent.metadata;
        let room = STRIPE_METADATA_KEYS - RESERVED_METADATA_KEYS.len();
        if rules.len() > room {
            out.add(
                "payment_intent.metadata",
                format!(
                    "{} keys; Stripe takes 50, and paybridge's own use {}: at most {room}",
                    rules.len(),
                    RESERVED_METADATA_KEYS.len()
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for (index, rule) in rules.iter().enumerate() {
            let path = format!("payment_intent.metadata[{index}]");
            let key = rule.key.as_str();
            if key.is_empty()
                || key.chars().count() > STRIPE_METADATA_KEY_CHARS
                || key.contains(['[', ']'])
            {
                out.add(&format!("{path}.key"), format!("'{key}' must be 1–{STRIPE_METADATA_KEY_CHARS} characters without [ or ] (Stripe's limit)"));
            }
            if RESERVED_METADATA_KEYS.contains(&key) || key.starts_with("paybridge_") {
                out.add(
                    &format!("{path}.key"),
                    format!("'{key}' is paybridge's own key"),
                );
            }
            if !seen.insert(key.to_string()) {
                out.add(&format!("{path}.key"), format!("'{key}' is mapped twice"));
            }
            check_rule(
                out,
                &path,
                &FieldRule {
                    from: rule.from.clone(),
                    transform: rule.transform.clone(),
                },
            );
        }
    }
}

/// Checks a rule's fields and steps (what [`FieldRule::evaluate`] needs to run).
fn check_rule(out: &mut Problems, path: &str, rule: &FieldRule) {
    if rule.from.is_empty() {
        out.add(&format!("{path}.from"), "names no field");
    }
    for (index, field) in rule.from.iter().enumerate() {
        if parse_path(field).is_none() {
            out.add(&format!("{path}.from[{index}]"), format!("'{field}' is not a field path (Customer.CustomerEmail, OrderItems[0].OrderItemSKU)"));
        }
    }
    let joins = matches!(
        rule.transform.first(),
        Some(Transform::Concat { .. } | Transform::Template { .. })
    );
    if rule.from.len() > 1 && !joins {
        out.add(
            &format!("{path}.transform"),
            "several fields need a concat or template step first",
        );
    }
    for (index, step) in rule.transform.iter().enumerate() {
        let at = format!("{path}.transform[{index}]");
        match step {
            Transform::Concat { .. } | Transform::Template { .. } if index > 0 => {
                out.add(&at, "concat and template only come first");
            }
            Transform::Template { template } => {
                let allowed: Vec<String> = (0..rule.from.len()).map(|n| n.to_string()).collect();
                let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
                check_placeholders(out, &format!("{at}.template"), template, &allowed);
            }
            Transform::Truncate { length } if !(1..=500).contains(length) => {
                out.add(&at, "length must be 1–500 (a metadata value takes 500)");
            }
            Transform::Lookup { table, .. } if table.is_empty() => out.add(&at, "an empty table"),
            Transform::MinorUnits { currency_from } if parse_path(currency_from).is_none() => {
                out.add(&at, format!("'{currency_from}' is not a field path"));
            }
            _ => {}
        }
    }
}

/// Every `{name}` of `text` must be one of `allowed`.
fn check_placeholders(out: &mut Problems, path: &str, text: &str, allowed: &[&str]) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            out.add(path, "an unclosed {");
            return;
        };
        let name = &rest[open + 1..open + close];
        if !allowed.contains(&name) {
            out.add(
                path,
                format!(
                    "unknown placeholder {{{name}}} (known: {})",
                    allowed
                        .iter()
                        .map(|a| format!("{{{a}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        rest = &rest[open + close + 1..];
    }
}

fn check_name(out: &mut Problems, path: &str, name: &str) {
    if name.trim().is_empty() || name.chars().count() > MAX_STATUS_CHARS {
        out.add(
            path,
            format!("a status name must be 1–{MAX_STATUS_CHARS} characters"),
        );
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(document: serde_json::Value) -> Vec<String> {
        match MappingDocument::parse(&document.to_string()) {
            Ok(_) => Vec::new(),
            Err(found) => found.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_complete_document_is_accepted() {
        let document = json!({
            "schema": 1,
            "flows": {"customers": false},
            "statuses": {"succeeded": "Completed", "refunded": "Money back"},
            "canceled_statuses": ["Canceled"],
            "payment_intent": {
                "metadata": [
                    {"key": "order_number", "from": ["OrderNumber"], "transform": [{"op": "trim"}]},
                    {"key": "buyer", "from": ["Customer.CustomerFirstName", "Customer.CustomerLastName"],
                     "transform": [{"op": "concat", "separator": " "}, {"op": "truncate", "length": 100}]}
                ],
                "description": {"template": "Order {order_number}: {items}", "item": "{quantity}× {name}", "separator": ", "},
                "statement_descriptor_suffix": {"from": ["OrderID"], "transform": [{"op": "template", "template": "ORDER {0}"}]}
            },
            "aliases": {"countries": {"Great Britain": "GB"}, "states": {"US": {"Calif.": "CA"}}, "currencies": {"US Dollar": "usd"}},
            "ledger_accounts": {"revenue": "4000"},
            "customer_field_owners": {"name": "stripe"}
        });
        assert_eq!(problems(document.clone()), Vec::<String>::new());
        let parsed = MappingDocument::parse(&document.to_string()).unwrap();
        assert!(
            !parsed.flows.customers && parsed.flows.order_to_cash,
            "flows default on"
        );
    }

    #[test]
    fn every_problem_is_named_with_its_path() {
        let found = problems(json!({
            "schema": 2,
            "statuses": {"paid": "Paid", "succeeded": " "},
            "payment_intent": {
                "metadata": [
                    {"key": "kentico_order_id", "from": ["OrderID"]},
                    {"key": "a_key_that_is_far_too_long_for_stripe_metadata", "from": ["a..b"]},
                    {"key": "twice", "from": ["A", "B"]},
                    {"key": "twice", "from": ["A"], "transform": [{"op": "upper"}, {"op": "concat", "separator": ""}]},
                    {"key": "short", "from": ["A"], "transform": [{"op": "truncate", "length": 501}, {"op": "template", "template": "{1}"}]}
                ],
                "description": {"template": "{total}", "item": "{name}", "separator": ", "}
            },
            "aliases": {"countries": {"Neverland": "NL1"}, "states": {"XX": {"Calif.": "CA"}}, "currencies": {"Gold": "XAU", "Bitcoin": "BTC"}},
            "ledger_accounts": {"cash": "1000", "fees": ""},
            "customer_field_owners": {"email": "erp", "address": "kentico"}
        }));
        let expected = [
            "schema: 2 is not 1, the schema this version reads",
            "statuses.paid: unknown state",
            "statuses.succeeded: a status name must be 1–200 characters",
            "payment_intent.metadata[0].key: 'kentico_order_id' is paybridge's own key",
            "payment_intent.metadata[1].key: 'a_key_that_is_far_too_long_for_stripe_metadata' must be 1–40 characters",
            "payment_intent.metadata[1].from[0]: 'a..b' is not a field path",
            "payment_intent.metadata[2].transform: several fields need a concat or template step first",
            "payment_intent.metadata[3].key: 'twice' is mapped twice",
            "payment_intent.metadata[3].transform[1]: concat and template only come first",
            "payment_intent.metadata[4].transform[0]: length must be 1–500",
            "payment_intent.metadata[4].transform[1]: concat and template only come first",
            "payment_intent.description.template: unknown placeholder {total}",
            "aliases.countries.Neverland: 'NL1' is not an ISO 3166 alpha-2 code",
            "aliases.states.XX: not an ISO 3166 alpha-2 code",
            "aliases.currencies.Bitcoin: currency 'BTC' is not an ISO 4217 code",
            "aliases.currencies.Gold: currency 'XAU' is an ISO 4217 special code (Gold (one troy ounce)), not money a shop can charge",
            "ledger_accounts.cash: unknown role",
            "ledger_accounts.fees: an empty account",
            "customer_field_owners.address: unknown field",
            "customer_field_owners.email: 'erp' is not kentico or stripe",
        ];
        for wanted in expected {
            assert!(
                found.iter().any(|f| f.starts_with(wanted)),
                "missing {wanted}:\n{}",
                found.join("\n")
            );
        }
        assert_eq!(found.len(), expected.len(), "{}", found.join("\n"));
    }

    #[test]
    fn unknown_fields_and_ops_are_refused_not_ignored() {
        for typo in [
            json!({"schema": 1, "statusses": {}}),
            json!({"schema": 1, "payment_intent": {"metadata": [{"key": "k", "from": ["A"], "transform": [{"op": "reverse"}]}]}}),
            json!({"schema": 1, "flows": {"refunds": false}}),
        ] {
            let found = problems(typo.clone());
            assert_eq!(found.len(), 1, "{typo}: {found:?}");
            assert!(found[0].starts_with("not a mapping document"), "{found:?}");
        }
    }

    #[test]
    fn stripe_metadata_room_is_counted_with_paybridges_own_keys() {
        let rules: Vec<_> = (0..45)
            .map(|n| json!({"key": format!("k{n}"), "from": ["A"]}))
            .collect();
        let found = problems(json!({"schema": 1, "payment_intent": {"metadata": rules}}));
        assert_eq!(
            found,
            [
                "payment_intent.metadata: 45 keys; Stripe takes 50, and paybridge's own use 6: at most 44"
            ]
        );
    }
}
