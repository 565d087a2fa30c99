//! One view of a customer (`paybridge customer show`): both sides' records read live, the link,
//! the customer's orders with their payments, refunds and ledger entries, subscriptions and
//! invoices, and the last events that touched any of them.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{BillingRecord, CustomerLinkStore};
use crate::connectors::kentico::{KenticoClient, as_i64};
use crate::connectors::stripe::{Customer, StripeClient};
use crate::journal::{EventJournal, JournalEntry};
use crate::ledger::LedgerStore;
use crate::links::OrderLinkStore;
use crate::store::StoreError;

/// How many of the newest events the view keeps.
pub const EVENTS_SHOWN: usize = 20;
/// How far back (days) the view reads ledger entries for an order whose date it does not know.
const LEDGER_DAYS: i64 = 90;

/// Which customer to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Every customer with this e-mail, at Stripe or in Kentico.
    Email(String),
    /// Kentico's `CustomerID`.
    KenticoId(i64),
    /// A Stripe Customer id.
    StripeId(String),
}

/// Where the view reads from.
pub struct Sources<'a> {
    /// Stripe, read live.
    pub stripe: &'a StripeClient,
    /// Kentico 13's REST service, read live; `None` on Xperience by Kentico, whose package
    /// has no customer endpoint (the view then shows what paybridge and Stripe hold).
    pub kentico: Option<&'a KenticoClient>,
    /// Customer links and billing.
    pub customers: &'a dyn CustomerLinkStore,
    /// Order links.
    pub links: &'a dyn OrderLinkStore,
    /// The event journal.
    pub journal: &'a dyn EventJournal,
    /// Posted ledger entries.
    pub ledger: &'a dyn LedgerStore,
}

/// Why a view could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// Nothing matches the lookup.
    #[error("no customer matches {0}")]
    NotFound(String),
    /// The lookup is not usable.
    #[error("{0}")]
    Invalid(String),
    /// A store could not be read.
    #[error("the store could not be read: {0}")]
    Store(#[from] StoreError),
}

/// A payment of an order, as Stripe shows it now.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    /// `pi_…`.
    pub id: String,
    /// Stripe's status.
    pub status: String,
    /// Smallest unit.
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// Refunded of its latest charge, smallest unit.
    pub amount_refunded: i64,
}

/// One order of the customer.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    /// Kentico's `OrderID`.
    pub order_id: i64,
    /// Kentico's `OrderStatusID` now.
    pub kentico_status: Option<Value>,
    /// Kentico's `OrderIsPaid` now.
    pub is_paid: Option<Value>,
    /// Kentico's `OrderGrandTotal`.
    pub grand_total: Option<Value>,
    /// The status paybridge wrote last.
    pub status_written: Option<String>,
    /// The payment that paid it.
    pub paid_by: Option<String>,
    /// Canceled in Kentico.
    pub canceled: bool,
    /// Its PaymentIntents, as Stripe shows them now.
    pub payments: Vec<PaymentView>,
    /// Its ledger entries (id, kind, occurred).
    pub ledger_entries: Vec<Value>,
}

/// One customer, both sides.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    /// Kentico's `CustomerID`, if known.
    pub kentico_customer_id: Option<i64>,
    /// The Stripe Customer, if known.
    pub stripe_customer_id: Option<String>,
    /// The Kentico customer, live.
    pub kentico: Option<Map<String, Value>>,
    /// The Stripe Customer, live.
    pub stripe: Option<Customer>,
    /// The link: fingerprints, version, unlinked.
    pub link: Option<Value>,
    /// The Kentico orders of the customer.
    pub orders: Vec<OrderView>,
    /// Subscriptions, then invoices, newest first.
    pub billing: Vec<BillingRecord>,
    /// The newest events touching the customer or its orders, newest first.
    pub events: Vec<JournalEntry>,
    /// What could not be read (the view shows the rest).
    pub problems: Vec<String>,
}

/// The customers `lookup` names, each with both sides.
pub async fn show(sources: &Sources<'_>, lookup: &Lookup) -> Result<Vec<CustomerView>, ViewError> {
    let mut problems = Vec::new();
    let identities = identities(sources, lookup, &mut problems).await?;
    if identities.is_empty() {
        return Err(ViewError::NotFound(match lookup {
            Lookup::Email(e) => format!("e-mail {e}"),
            Lookup::KenticoId(id) => format!("Kentico customer {id}"),
            Lookup::StripeId(id) => format!("Stripe Customer {id}"),
        }));
    }
    let mut views = Vec::new();
    for (kentico_id, stripe_id) in identities {
        views.push(view(sources, kentico_id, stripe_id, problems.clone()).await?);
    }
    Ok(views)
}

/// The (Kentico, Stripe) pairs the lookup names, each once.
async fn identities(
    sources: &Sources<'_>,
    lookup: &Lookup,
    problems: &mut Vec<String>,
) -> Result<BTreeSet<(Option<i64>, Option<String>)>, ViewError> {
    let mut found = BTreeSet::new();
    let mut kentico_ids = Vec::new();
    let mut stripe_ids = Vec::new();
    match lookup {
        Lookup::KenticoId(id) if *id <= 0 => {
            return Err(ViewError::Invalid(format!(
                "{id} is not a Kentico CustomerID"
            )));
        }
        Lookup::KenticoId(id) => kentico_ids.push(*id),
        Lookup::StripeId(id) if !id.starts_with("cus_") => {
            return Err(ViewError::Invalid(format!(
                "{id} is not a Stripe Customer id (cus_…)"
            )));
        }
        Lookup::StripeId(id) => stripe_ids.push(id.clone()),
        Lookup::Email(email) => {
            match sources.stripe.customers_by_email(email.trim()).await {
                Ok(customers) => stripe_ids.extend(customers.into_iter().map(|c| c.id)),
                Err(e) => problems.push(format!("Stripe's customers by e-mail: {e}")),
            }
            if let Some(kentico) = sources.kentico {
                match kentico.customers_by_email(email).await {
                    Ok(customers) => kentico_ids.extend(customers.iter().filter_map(customer_id)),
                    Err(e) => problems.push(format!("Kentico's customers by e-mail: {e}")),
                }
            }
        }
    }
    for id in stripe_ids {
        let linked = sources.customers.by_stripe_customer(&id).await?;
        let kentico = match linked {
            Some(link) => Some(link.kentico_customer_id),
            // Not linked: the Customer's own reference, if it has one.
            None => match sources.stripe.retrieve_customer(&id).await {
                Ok(c) => c
                    .metadata
                    .get("kentico_customer_id")
                    .and_then(|v| v.parse().ok()),
                Err(_) => None,
            },
        };
        if let Some(kentico) = kentico {
            kentico_ids.retain(|k| *k != kentico);
        }
        found.insert((kentico, Some(id)));
    }
    for id in kentico_ids {
        let link = sources.customers.get(id).await?;
        let stripe = link
            .filter(|l| !l.unlinked)
            .and_then(|l| l.stripe_customer_id);
        let known = found.iter().any(|(k, _)| *k == Some(id));
        let exists = stripe.is_some() || matches!(lookup, Lookup::Email(_));
        let in_kentico = match sources.kentico {
            Some(kentico) => kentico.get_customer(id).await.is_ok(),
            // Nothing to ask: show what paybridge holds for the id.
            None => true,
        };
        if !known && (exists || in_kentico) {
            found.insert((Some(id), stripe));
        }
    }
    Ok(found)
}

/// A Kentico row's `CustomerID`, read as the connector reads Kentico's integers.
fn customer_id(customer: &Map<String, Value>) -> Option<i64> {
    customer.get("CustomerID").and_then(as_i64)
}

async fn view(
    sources: &Sources<'_>,
    kentico_id: Option<i64>,
    stripe_id: Option<String>,
    mut problems: Vec<String>,
) -> Result<CustomerView, ViewError> {
    let mut note = |what: String, e: &dyn std::fmt::Display| problems.push(format!("{what}: {e}"));
    let mut kentico = None;
    let mut link = None;
    let mut orders = Vec::new();
    let mut keys = Vec::new();
    if let Some(id) = kentico_id {
        keys.push(format!("customer:{id}"));
        link = sources.customers.get(id).await?;
        if let Some(client) = sources.kentico {
            match client.get_customer(id).await {
                Ok(c) => kentico = Some(c),
                Err(e) => note(format!("Kentico customer {id}"), &e),
            }
            match client.orders_of_customer(id).await {
                Ok(found) => orders = found,
                Err(e) => note(format!("Kentico orders of customer {id}"), &e),
            }
        } else {
            note(
                format!("Kentico customer {id}"),
                &"not read: Xperience by Kentico's package has no customer endpoint",
            );
        }
    }
    let stripe = match &stripe_id {
        Some(id) => {
            keys.push(format!("stripe_customer:{id}"));
            match sources.stripe.retrieve_customer(id).await {
                Ok(c) => Some(c),
                Err(e) => {
                    note(format!("Stripe Customer {id}"), &e);
                    None
                }
            }
        }
        None => None,
    };
    let billing = match &stripe_id {
        Some(id) => sources.customers.billing(id).await?.billing,
        None => Default::default(),
    };
    let mut order_views = Vec::new();
    for order in &orders {
        let Some(order_id) = order.get("OrderID").and_then(as_i64) else {
            continue;
        };
        keys.push(format!("order:{order_id}"));
        order_views.push(order_view(sources, order_id, order, &mut problems).await?);
    }
    let mut events = Vec::new();
    for key in &keys {
        events.extend(sources.journal.entries(key).await?);
    }
    events.sort_by(|a, b| b.at.cmp(&a.at));
    events.dedup_by(|a, b| a.event_id == b.event_id && a.at == b.at);
    events.truncate(EVENTS_SHOWN);
    Ok(CustomerView {
        kentico_customer_id: kentico_id,
        stripe_customer_id: stripe_id,
        kentico,
        stripe,
        link: link.map(|l| {
            serde_json::json!({"customer_guid": l.customer_guid, "site": l.site,
                "stripe_customer_id": l.stripe_customer_id, "unlinked": l.unlinked,
                "kentico_version": l.kentico_version.as_ref().map(ToString::to_string),
                "written_to_stripe": l.written_to_stripe, "written_to_kentico": l.written_to_kentico})
        }),
        orders: order_views,
        billing: billing.sorted().into_iter().cloned().collect(),
        events,
        problems,
    })
}

async fn order_view(
    sources: &Sources<'_>,
    order_id: i64,
    order: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> Result<OrderView, ViewError> {
    let link = sources.links.by_order(order_id).await?;
    let mut payments = Vec::new();
    for id in link.iter().flat_map(|l| &l.payment_intents) {
        match sources
            .stripe
            .retrieve_payment_intent_with_charge::<Value>(id)
            .await
        {
            Ok(pi) => payments.push(PaymentView {
                id: id.clone(),
                status: pi["status"].as_str().unwrap_or_default().to_string(),
                amount: pi["amount"].as_i64().unwrap_or_default(),
                currency: pi["currency"].as_str().unwrap_or_default().to_string(),
                amount_refunded: pi["latest_charge"]["amount_refunded"]
                    .as_i64()
                    .unwrap_or_default(),
            }),
            Err(e) => problems.push(format!("PaymentIntent {id}: {e}")),
        }
    }
    let placed = (order.get("OrderDate").and_then(Value::as_str))
        .and_then(|d| time::Date::parse(d.get(..10)?, DAY).ok());
    let ledger_entries = match link.as_ref().and_then(|l| l.paid_by.as_ref()) {
        Some(_) => ledger_entries(sources, order_id, placed).await?,
        None => Vec::new(),
    };
    Ok(OrderView {
        order_id,
        kentico_status: order.get("OrderStatusID").cloned(),
        is_paid: order.get("OrderIsPaid").cloned(),
        grand_total: order.get("OrderGrandTotal").cloned(),
        status_written: link.as_ref().and_then(|l| l.status_name.clone()),
        paid_by: link.as_ref().and_then(|l| l.paid_by.clone()),
        canceled: link.as_ref().is_some_and(|l| l.canceled),
        payments,
        ledger_entries,
    })
}

const DAY: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// The order's ledger entries since it was placed (`OrderDate`), or of the last
/// [`LEDGER_DAYS`] days.
async fn ledger_entries(
    sources: &Sources<'_>,
    order_id: i64,
    placed: Option<time::Date>,
) -> Result<Vec<Value>, ViewError> {
    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| d.format(DAY).unwrap_or_default();
    let oldest = today - time::Duration::days(LEDGER_DAYS);
    let from = day(placed.filter(|p| *p > oldest).unwrap_or(oldest));
    let order = order_id.to_string();
    let entries = sources.ledger.between(&from, &day(today)).await?;
    Ok(entries
        .into_iter()
        .filter(|e| e.references.kentico_order_id.as_deref() == Some(order.as_str()))
        .map(|e| {
            serde_json::json!({"id": e.id, "kind": e.kind, "occurred_at": e.occurred_at,
                "currency": e.currency, "debits": e.total_debits().to_string()})
        })
        .collect())
}
