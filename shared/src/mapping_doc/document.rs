//! The mapping document's shape (docs/CONTRACTS.md#mapping-document): what a version holds.
//! Unknown fields are refused, so a typo cannot silently do nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The schema this code reads and writes.
pub const SCHEMA: u32 = 1;

/// Every configurable mapping of the flows, as one versioned document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingDocument {
    /// The document's schema ([`SCHEMA`]).
    pub schema: u32,
    /// Which flows run.
    #[serde(default)]
    pub flows: Flows,
    /// Payment state (`succeeded`, `payment_failed`, …, `refunded`, …) → Kentico status name.
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// Kentico status names that cancel an order's payments.
    #[serde(default)]
    pub canceled_statuses: Vec<String>,
    /// Kentico order fields → PaymentIntent fields.
    #[serde(default)]
    pub payment_intent: PaymentIntentRules,
    /// Country and state spellings Kentico sends, and the codes they stand for.
    #[serde(default)]
    pub aliases: Aliases,
    /// Ledger role (`clearing`, `revenue`, `fees`, `refunds`, `disputes`, `bank`) → account.
    #[serde(default)]
    pub ledger_accounts: BTreeMap<String, String>,
    /// Customer field (`email`, `name`, `phone`) → owner (`kentico` or `stripe`).
    #[serde(default)]
    pub customer_field_owners: BTreeMap<String, String>,
}

/// The flows a document switches on or off (all on unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flows {
    /// Kentico orders → PaymentIntents, payments → Kentico statuses.
    #[serde(default = "on")]
    pub order_to_cash: bool,
    /// Refunds and disputes → Kentico statuses.
    #[serde(default = "on")]
    pub after_payment: bool,
    /// Customers both ways.
    #[serde(default = "on")]
    pub customers: bool,
    /// Ledger entries for the ERP.
    #[serde(default = "on")]
    pub ledger: bool,
}

fn on() -> bool {
    true
}

impl Default for Flows {
    fn default() -> Self {
        Self {
            order_to_cash: true,
            after_payment: true,
            customers: true,
            ledger: true,
        }
    }
}

/// How a PaymentIntent's fields are filled from the Kentico order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentIntentRules {
    /// Extra `metadata` keys (paybridge's own `kentico_*` keys are always set).
    #[serde(default)]
    pub metadata: Vec<MetadataRule>,
    /// The `description`; absent: the built-in `2× Espresso Grinder, 1× Filter Pack`.
    #[serde(default)]
    pub description: Option<DescriptionRule>,
    /// The `statement_descriptor_suffix` (at most 22 characters, at least one letter).
    #[serde(default)]
    pub statement_descriptor_suffix: Option<FieldRule>,
}

/// One `metadata` key and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataRule {
    /// The metadata key (1–40 characters, no `[` or `]`, not one of paybridge's own).
    pub key: String,
    /// The order fields it is made of.
    pub from: Vec<String>,
    /// What is done to them, in order.
    #[serde(default)]
    pub transform: Vec<Transform>,
}

/// A value made of order fields: `from` are paths into the event's `data.object`
/// (`OrderNumber`, `Customer.CustomerEmail`, `OrderItems[0].OrderItemSKU`), `transform` the
/// steps applied in order. Several fields must be joined first (`concat` or `template`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// The order fields.
    pub from: Vec<String>,
    /// What is done to them, in order.
    #[serde(default)]
    pub transform: Vec<Transform>,
}

/// One step of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// The present fields joined with `separator`.
    Concat {
        /// Between two values.
        separator: String,
    },
    /// `template` with `{0}`, `{1}`, … replaced by the fields (a missing one by nothing).
    Template {
        /// E.g. `Order {0} ({1})`.
        template: String,
    },
    /// The value looked up in `table` (exactly, then ignoring case); no match: `default`, or
    /// the value unchanged.
    Lookup {
        /// Value → replacement.
        table: BTreeMap<String, String>,
        /// The replacement of any other value.
        #[serde(default)]
        default: Option<String>,
    },
    /// Upper case.
    Upper,
    /// Lower case.
    Lower,
    /// Without leading and trailing whitespace.
    Trim,
    /// At most `length` characters.
    Truncate {
        /// 1–500.
        length: usize,
    },
    /// A decimal amount as Stripe's minor units of the currency at `currency_from`.
    MinorUnits {
        /// The path of the currency code (`OrderCurrencyCode`).
        currency_from: String,
    },
}

/// The PaymentIntent's `description`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptionRule {
    /// With `{items}` (the lines, rendered with `item`), `{order_id}`, `{order_number}`.
    pub template: String,
    /// One line, with `{quantity}`, `{name}`, `{sku}`.
    pub item: String,
    /// Between two lines.
    pub separator: String,
}

/// Spellings of countries, states and currencies, beside the built-in ISO names and aliases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aliases {
    /// Spelling → ISO 3166 alpha-2 code (`"Great Britain": "GB"`).
    #[serde(default)]
    pub countries: BTreeMap<String, String>,
    /// Country code → spelling → state code (`"US": {"Calif.": "CA"}`).
    #[serde(default)]
    pub states: BTreeMap<String, BTreeMap<String, String>>,
    /// Spelling → ISO 4217 code (`"US Dollar": "USD"`), for the order's currency.
    #[serde(default)]
    pub currencies: BTreeMap<String, String>,
}
