//! The Stripe requests an order makes, under a mapping version: the PaymentIntent (Payment
//! Element mode), the Checkout Session (Checkout mode) and an amount update. One place builds
//! them for the order worker and for the preview of a mapping document, so the preview is the
//! request paybridge sends.
//!
//! paybridge's own metadata keys (`kentico_order_id`, …) always come first; the document's
//! `payment_intent` rules add keys, replace the built-in description and set the statement
//! descriptor suffix. A rule that cannot make its value from the order is a mapping mismatch
//! naming the rule (the order is dead-lettered with it, never charged with half a mapping).

use std::collections::BTreeMap;

use serde_json::Value;

use super::FlowSettings;
use crate::connectors::stripe::{
    AutomaticPaymentMethods, CheckoutLineItem, CreateCheckoutSession, CreatePaymentIntent,
    PaymentIntentData, PriceData, ProductData, Shipping, StripeAddress, UpdatePaymentIntent,
};
use crate::mapping::{self, Address, KenticoOrder, MappingError, MetadataBuilder, describe_items};
use crate::mapping_doc::AppliedMapping;
use crate::mapping_doc::document::{DescriptionRule, PaymentIntentRules};

/// Stripe refuses a `description` longer than this.
const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Stripe's limit on `statement_descriptor_suffix`.
const MAX_SUFFIX_CHARS: usize = 22;
/// Characters Stripe refuses in a statement descriptor.
const SUFFIX_FORBIDDEN: [char; 5] = ['<', '>', '\\', '\'', '"'];

/// The order as the requests read it.
pub struct OrderInput<'a> {
    /// The order, mapped.
    pub order: &'a KenticoOrder,
    /// The event's `data.object` (aliases applied), which the document's rules read.
    pub object: &'a Value,
    /// The Kentico site the event names.
    pub site: Option<&'a str>,
    /// The order customer's Stripe Customer, when linked.
    pub stripe_customer: Option<&'a str>,
}

/// The fields every request of the order carries, under the mapping.
struct Common {
    metadata: BTreeMap<String, String>,
    description: Option<String>,
    statement_descriptor_suffix: Option<String>,
}

fn common(mapping: &AppliedMapping, input: &OrderInput<'_>) -> Result<Common, MappingError> {
    let rules = &mapping.payment_intent;
    Ok(Common {
        metadata: metadata(rules, input)?,
        description: match &rules.description {
            Some(rule) => describe(rule, input.order),
            None => Some(describe_items(&input.order.items)),
        }
        .filter(|d| !d.is_empty()),
        statement_descriptor_suffix: suffix(rules, input.object)?,
    })
}

/// `POST /v1/payment_intents` for the order owing `amount` `currency` (Stripe's minor units,
/// lower-case code).
pub fn intent_params(
    mapping: &AppliedMapping,
    input: &OrderInput<'_>,
    amount: i64,
    currency: &str,
) -> Result<CreatePaymentIntent, MappingError> {
    let settings: &FlowSettings = mapping;
    let common = common(mapping, input)?;
    let order = input.order;
    Ok(CreatePaymentIntent {
        amount,
        currency: currency.to_string(),
        automatic_payment_methods: settings
            .automatic_payment_methods
            .then_some(AutomaticPaymentMethods { enabled: true }),
        capture_method: Some(settings.capture_method.clone()),
        description: common.description,
        metadata: common.metadata,
        shipping: shipping(order),
        receipt_email: order.customer.as_ref().and_then(|c| c.email.clone()),
        customer: input.stripe_customer.map(str::to_string),
        statement_descriptor_suffix: common.statement_descriptor_suffix,
    })
}

/// `POST /v1/checkout/sessions` for the order owing `amount` `currency`.
pub fn session_params(
    mapping: &AppliedMapping,
    input: &OrderInput<'_>,
    amount: i64,
    currency: &str,
) -> Result<CreateCheckoutSession, MappingError> {
    let settings: &FlowSettings = mapping;
    let common = common(mapping, input)?;
    let order = input.order;
    Ok(CreateCheckoutSession {
        mode: "payment".into(),
        line_items: vec![CheckoutLineItem {
            quantity: 1,
            price_data: PriceData {
                currency: currency.to_string(),
                unit_amount: amount,
                product_data: ProductData {
                    name: (common.description.clone())
                        .unwrap_or_else(|| format!("Order {}", order.id)),
                },
            },
        }],
        success_url: settings.checkout_success_url.clone().unwrap_or_default(),
        cancel_url: settings.checkout_cancel_url.clone(),
        client_reference_id: Some(order.id.to_string()),
        // Stripe takes one of the two: the Customer carries its e-mail.
        customer_email: match input.stripe_customer {
            Some(_) => None,
            None => order.customer.as_ref().and_then(|c| c.email.clone()),
        },
        customer: input.stripe_customer.map(str::to_string),
        metadata: common.metadata.clone(),
        payment_intent_data: Some(PaymentIntentData {
            metadata: common.metadata,
            description: common.description,
            statement_descriptor_suffix: common.statement_descriptor_suffix,
        }),
    })
}

/// `POST /v1/payment_intents/{id}` when the order's amount changed.
pub fn update_params(
    mapping: &AppliedMapping,
    input: &OrderInput<'_>,
    amount: i64,
) -> Result<UpdatePaymentIntent, MappingError> {
    let common = common(mapping, input)?;
    Ok(UpdatePaymentIntent {
        amount: Some(amount),
        description: common.description,
        metadata: common.metadata,
    })
}

/// paybridge's own keys, then the document's, within Stripe's limits.
fn metadata(
    rules: &PaymentIntentRules,
    input: &OrderInput<'_>,
) -> Result<BTreeMap<String, String>, MappingError> {
    let order = input.order;
    let skus: Vec<String> = (order.items.iter())
        .filter_map(|i| (i.sku_number.clone()).or_else(|| i.sku_id.map(|id| id.to_string())))
        .collect();
    let mut metadata = MetadataBuilder::new();
    metadata.insert("kentico_order_id", order.id.to_string());
    metadata.insert("kentico_order_guid", order.guid.clone());
    if let Some(customer) = order.customer_id.or(order.customer.as_ref().map(|c| c.id)) {
        metadata.insert("kentico_customer_id", customer.to_string());
    }
    if let Some(site) = input.site {
        metadata.insert("kentico_site", site);
    }
    if !skus.is_empty() {
        metadata.insert("kentico_skus", skus.join(","));
    }
    for (index, rule) in rules.metadata.iter().enumerate() {
        let field_rule = crate::mapping_doc::document::FieldRule {
            from: rule.from.clone(),
            transform: rule.transform.clone(),
        };
        let value = field_rule.evaluate(input.object).map_err(|error| {
            MappingError::new(
                format!("payment_intent.metadata[{index}] ({})", rule.key),
                error.to_string(),
            )
        })?;
        if let Some(value) = value {
            metadata.insert(&rule.key, value);
        }
    }
    Ok(metadata.build())
}

/// The description the document's rule makes, within Stripe's 1000 characters.
fn describe(rule: &DescriptionRule, order: &KenticoOrder) -> Option<String> {
    let items: Vec<String> = (order.items.iter())
        .map(|item| {
            (rule
                .item
                .replace("{quantity}", &item.units.normalize().to_string()))
            .replace("{name}", item.name.trim())
            .replace("{sku}", item.sku_number.as_deref().unwrap_or_default())
        })
        .collect();
    let text = (rule.template.replace("{order_id}", &order.id.to_string()))
        .replace(
            "{order_number}",
            order.number.as_deref().unwrap_or_default(),
        )
        .replace("{items}", &items.join(&rule.separator));
    let text = text.trim();
    if text.chars().count() <= MAX_DESCRIPTION_CHARS {
        return Some(text.to_string());
    }
    let mut cut: String = text.chars().take(MAX_DESCRIPTION_CHARS - 1).collect();
    cut.push('…');
    Some(cut)
}

/// The statement descriptor suffix, checked as Stripe checks it.
fn suffix(rules: &PaymentIntentRules, object: &Value) -> Result<Option<String>, MappingError> {
    const FIELD: &str = "payment_intent.statement_descriptor_suffix";
    let Some(rule) = &rules.statement_descriptor_suffix else {
        return Ok(None);
    };
    let Some(value) =
        (rule.evaluate(object)).map_err(|e| MappingError::new(FIELD, e.to_string()))?
    else {
        return Ok(None);
    };
    let value = value.trim().to_string();
    let problem = if value.chars().count() > MAX_SUFFIX_CHARS {
        Some(format!(
            "'{value}' is longer than Stripe's {MAX_SUFFIX_CHARS} characters"
        ))
    } else if !value.chars().any(char::is_alphabetic) {
        Some(format!(
            "'{value}' has no letter; Stripe needs at least one"
        ))
    } else if value.contains(SUFFIX_FORBIDDEN) {
        Some(format!(
            "'{value}' holds a character Stripe refuses (< > \\ ' \")"
        ))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(MappingError::new(FIELD, problem).with_suggestion(
            "a truncate step of at most 22 characters and a letter in the template",
        )),
        None => Ok(Some(value)),
    }
}

/// Stripe's `shipping` from the order's shipping address, when it has a name and a first line.
fn shipping(order: &KenticoOrder) -> Option<Shipping> {
    let address: &Address = order.shipping_address.as_ref()?;
    let name = (address.name.clone()).or_else(|| {
        order
            .customer
            .as_ref()
            .and_then(mapping::KenticoCustomer::full_name)
    })?;
    address.line1.as_ref()?;
    Some(Shipping {
        name,
        phone: address.phone.clone(),
        address: StripeAddress {
            line1: address.line1.clone(),
            line2: address.line2.clone(),
            city: address.city.clone(),
            state: address.state.clone(),
            postal_code: address.postal_code.clone(),
            country: address.country.as_ref().map(|c| c.to_string()),
        },
    })
}
