//! Customers both ways.
//!
//! order-worker, Kentico → Stripe: each Kentico customer has one Stripe Customer, created once
//! (an effect keyed by `CustomerGUID`, shared with the order path so an order and its customer's
//! event make one) and updated only when the fields paybridge keeps in step differ from what it
//! last wrote there (so an event that changes nothing Stripe shows makes no call).
//!
//! payment-worker, Stripe → Kentico: only fields Stripe owns (`CUSTOMER_FIELD_OWNERS`) are
//! written back; an echo of paybridge's own write is counted and dropped; an edit at Stripe of a
//! field Kentico owns is overwritten with Kentico's value.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{FlowContext, failures};
use crate::config::customers::{FieldOwners, Owner};
use crate::connectors::stripe::{CustomerParams, StripeError};
use crate::customers::{Bound, CustomerLinkStore, Side};
use crate::effects::{self, Effect, EffectError, EffectKey};
use crate::links::OrderVersion;
use crate::mapping::{KenticoCustomer, MappingError, MetadataBuilder};
use crate::webhook::event_types::kentico as events;
use crate::worker::{Delivery, EventHandler, Handled, HandlerError, ReceivedEvent};

/// The Kentico events this handler takes.
pub const EVENT_TYPES: [&str; 2] = events::CUSTOMER_EVENTS;

/// Keeps the Stripe Customer of each Kentico customer in step.
pub struct CustomerEventHandler {
    ctx: Arc<FlowContext>,
    customers: Arc<dyn CustomerLinkStore>,
}

impl CustomerEventHandler {
    /// A handler over the flow context and the customer links.
    pub fn new(ctx: Arc<FlowContext>, customers: Arc<dyn CustomerLinkStore>) -> Self {
        Self { ctx, customers }
    }
}

/// The Stripe Customer fields of a Kentico customer: e-mail, name (first and last, else the
/// company), phone, and our references.
pub fn customer_params(
    customer: &KenticoCustomer,
    site: Option<&str>,
    owners: &FieldOwners,
) -> CustomerParams {
    let name = customer.full_name().or_else(|| customer.company.clone());
    let mut metadata = MetadataBuilder::new();
    metadata.insert("kentico_customer_id", customer.id.to_string());
    if let Some(guid) = &customer.guid {
        metadata.insert("kentico_customer_guid", guid);
    }
    if let Some(site) = site {
        metadata.insert("kentico_site", site);
    }
    // A field Stripe owns is Stripe's to change: Kentico's value never overwrites it.
    let kentico = |field: &str| owners.owner(field) == Owner::Kentico;
    CustomerParams {
        email: customer.email.clone().filter(|_| kentico("email")),
        name: name.filter(|_| kentico("name")),
        phone: customer.phone.clone().filter(|_| kentico("phone")),
        address: None,
        metadata: metadata.build(),
    }
}

/// A stable digest of the fields written: equal fields, equal fingerprint.
pub fn fingerprint(params: &CustomerParams) -> String {
    digest(&format!("{params:?}"))
}

/// The first 16 bytes of the text's SHA-256, in hex.
fn digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

#[async_trait::async_trait]
impl EventHandler for CustomerEventHandler {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        let id = event.payload.pointer("/data/object/CustomerID")?;
        let id = id
            .as_i64()
            .map(|n| n.to_string())
            .or_else(|| id.as_str().map(str::to_string))?;
        Some(format!("customer:{id}"))
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let object = event.payload.pointer("/data/object").ok_or_else(|| {
            failures::mapping(MappingError::new(
                "data.object",
                "the event carries no customer object",
            ))
        })?;
        super::order_events::sent_by(&event.payload, self.ctx.settings().kentico_platform)?;
        let customer = KenticoCustomer::from_event_object(object).map_err(failures::mapping)?;
        let site = event.payload["site"].as_str();
        let version = OrderVersion::new(None, event.payload["created"].as_i64().unwrap_or(0));
        let settings = self.ctx.settings();
        let owners = &settings.customer_field_owners;
        let params = customer_params(&customer, site, owners);
        let written = fingerprint(&params);
        let link = (self.customers)
            .get(customer.id)
            .await
            .map_err(failures::store)?;
        let linked = link
            .as_ref()
            .filter(|l| !l.unlinked)
            .and_then(|l| l.stripe_customer_id.clone());
        if let (Some(link), Some(stripe_id)) = (&link, &linked)
            && link.written_to_stripe.as_deref() == Some(written.as_str())
        {
            // Typically Kentico's echo of a write paybridge made there from Stripe.
            self.ctx.count(crate::flows::money_metrics::CUSTOMER_ECHOES);
            return Ok(Handled::Ignored(format!(
                "customer {} is already as Stripe Customer {stripe_id} shows it",
                customer.id
            )));
        }
        let stripe_id = match linked {
            Some(id) => {
                let key = format!("paybridge-customer-{}-{}", customer.id, version.key());
                (self.ctx.stripe)
                    .update_customer(&id, &params, &key)
                    .await
                    .map_err(failures::stripe)?;
                id
            }
            None => {
                create_linked(&self.ctx, &*self.customers, &customer, site, link.as_ref())
                    .await?
                    .0
            }
        };
        let recorded = (self.customers)
            .record_written(customer.id, Side::Stripe, &written, Some(&version))
            .await
            .map_err(failures::store)?;
        Ok(Handled::Done(match recorded {
            true => format!("customer {} is Stripe Customer {stripe_id}", customer.id),
            false => format!(
                "customer {} written to {stripe_id}; a newer version was written before",
                customer.id
            ),
        }))
    }
}

/// The Stripe Customer of a Kentico customer: the linked one, or one created and linked now.
/// The order worker asks this before it creates an order's payable object, so the order and
/// the customer's own event share one Customer whichever comes first.
pub async fn stripe_customer_of(
    ctx: &FlowContext,
    customers: &dyn CustomerLinkStore,
    customer: &KenticoCustomer,
    site: Option<&str>,
) -> Result<String, HandlerError> {
    let link = customers.get(customer.id).await.map_err(failures::store)?;
    if let Some(id) = (link.as_ref())
        .filter(|l| !l.unlinked)
        .and_then(|l| l.stripe_customer_id.clone())
    {
        return Ok(id);
    }
    let (stripe_id, written) = create_linked(ctx, customers, customer, site, link.as_ref()).await?;
    (customers)
        .record_written(customer.id, Side::Stripe, &written, None)
        .await
        .map_err(failures::store)?;
    Ok(stripe_id)
}

/// Creates the Stripe Customer once per Kentico customer (an effect keyed by `CustomerGUID`, a
/// new one only after Stripe deleted the last) and links it; a concurrent creation finds the one
/// recorded first. The Customer's id and the fingerprint of the fields sent.
async fn create_linked(
    ctx: &FlowContext,
    customers: &dyn CustomerLinkStore,
    customer: &KenticoCustomer,
    site: Option<&str>,
    link: Option<&crate::customers::CustomerLink>,
) -> Result<(String, String), HandlerError> {
    let params = customer_params(customer, site, &ctx.settings().customer_field_owners);
    let mut business_key = (customer.guid.clone()).unwrap_or_else(|| format!("id-{}", customer.id));
    if let Some(deleted) = link
        .filter(|l| l.unlinked)
        .and_then(|l| l.stripe_customer_id.as_deref())
    {
        business_key = format!("{business_key}-after-{deleted}");
    }
    let key = EffectKey::new("stripe_customer", business_key);
    let stripe = &ctx.stripe;
    let sent = &params;
    let created = effects::once(
        &*ctx.effects,
        &key,
        |c: &crate::connectors::stripe::Customer| c.id.clone(),
        |idempotency_key| async move { stripe.create_customer(sent, &idempotency_key).await },
    )
    .await;
    let stripe_id = match created {
        Ok(Effect::Performed(c)) => c.id,
        Ok(Effect::Recorded(id)) => id,
        Err(EffectError::Store(error)) => return Err(failures::store(error)),
        // The order and the customer's own event raced with different snapshots of the customer:
        // the first holds the key; once it has recorded the Customer, the next attempt uses it.
        Err(EffectError::Effect(StripeError::Api { error_type, .. }))
            if error_type == "idempotency_error" =>
        {
            return Err(HandlerError::transient(format!(
                "the Stripe Customer of Kentico customer {} is being created by another event",
                customer.id
            )));
        }
        Err(EffectError::Effect(error)) => return Err(failures::stripe(error)),
    };
    let bound = customers
        .bind(customer.id, customer.guid.as_deref(), site, &stripe_id)
        .await
        .map_err(failures::store)?;
    let linked = match bound {
        Bound::Linked(_) => stripe_id,
        Bound::LinkedToAnother(other) => other,
    };
    Ok((linked, fingerprint(&params)))
}

/// The Kentico customer columns a Stripe `customer.updated` should write: only the fields Stripe
/// owns (`CUSTOMER_FIELD_OWNERS`) that `previous_attributes` names as changed. `name` is split at
/// its last space into first and last name.
pub fn kentico_write_back(
    owners: &FieldOwners,
    customer: &serde_json::Value,
    previous_attributes: &serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut columns = serde_json::Map::new();
    let changed = |field: &str| previous_attributes.get(field).is_some();
    for field in crate::config::customers::FIELDS {
        if owners.owner(field) != Owner::Stripe || !changed(field) {
            continue;
        }
        let value = customer.get(field).cloned().unwrap_or(Value::Null);
        let text = value.as_str().unwrap_or_default().trim().to_string();
        match field {
            "email" => {
                columns.insert("CustomerEmail".into(), Value::String(text));
            }
            "phone" => {
                columns.insert("CustomerPhone".into(), Value::String(text));
            }
            _ => {
                let (first, last) = match text.rsplit_once(' ') {
                    Some((first, last)) => (first.trim().to_string(), last.to_string()),
                    None => (text.clone(), String::new()),
                };
                columns.insert("CustomerFirstName".into(), Value::String(first));
                columns.insert("CustomerLastName".into(), Value::String(last));
            }
        }
    }
    columns
}

/// payment-worker, Stripe → Kentico customers: a change of a
/// Stripe-owned field of a linked customer is written to the Kentico customer; an event that
/// only echoes paybridge's own write, or changes nothing Stripe owns, writes nothing.
pub struct StripeCustomerEventHandler {
    ctx: Arc<FlowContext>,
    customers: Arc<dyn CustomerLinkStore>,
}

/// The Stripe events [`StripeCustomerEventHandler`] takes.
pub const STRIPE_EVENT_TYPES: [&str; 3] = crate::webhook::event_types::stripe::CUSTOMER_EVENTS;

impl StripeCustomerEventHandler {
    /// A handler over the flow context and the customer links.
    pub fn new(ctx: Arc<FlowContext>, customers: Arc<dyn CustomerLinkStore>) -> Self {
        Self { ctx, customers }
    }

    /// Kentico 13's REST service; the handler ignores the event before this is asked for
    /// on Xperience by Kentico.
    fn kentico(&self) -> Result<&crate::connectors::shop::KenticoRestOrders, HandlerError> {
        self.ctx.kentico.as_ref().ok_or_else(|| {
            HandlerError::permanent(
                "kentico_rejected",
                "customer write-back needs Kentico 13's REST service (KENTICO_PLATFORM=k13)",
            )
        })
    }
}

impl StripeCustomerEventHandler {
    /// Links a Stripe Customer paybridge has no link for to the Kentico customer its metadata
    /// names (`kentico_customer_id`), if that customer has no Stripe Customer yet.
    async fn adopt(
        &self,
        object: &serde_json::Value,
        stripe_id: &str,
    ) -> Result<Option<crate::customers::CustomerLink>, HandlerError> {
        let metadata = &object["metadata"];
        let Some(kentico_id) = (metadata["kentico_customer_id"].as_str())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|id| *id > 0)
        else {
            return Ok(None);
        };
        let guid = metadata["kentico_customer_guid"].as_str();
        let site = metadata["kentico_site"].as_str();
        let bound = (self.customers)
            .bind(kentico_id, guid, site, stripe_id)
            .await
            .map_err(failures::store)?;
        Ok(match bound {
            Bound::Linked(link) => {
                tracing::info!(stripe_customer = %stripe_id, kentico_customer_id = kentico_id,
                    "linked by the Customer's metadata");
                Some(link)
            }
            Bound::LinkedToAnother(other) => {
                tracing::warn!(stripe_customer = %stripe_id, kentico_customer_id = kentico_id,
                    linked = %other, "the Customer's metadata names a Kentico customer linked to another Stripe Customer");
                None
            }
        })
    }

    /// Writes the Kentico customer's values of the fields Kentico owns to the Stripe Customer
    /// again, unless Stripe shows now what paybridge wrote last (a late event); whether it wrote.
    async fn restore(
        &self,
        link: &crate::customers::CustomerLink,
        stripe_id: &str,
        event_id: &str,
    ) -> Result<bool, HandlerError> {
        let settings = self.ctx.settings();
        let owners = &settings.customer_field_owners;
        let now = (self.ctx.stripe)
            .retrieve_customer(stripe_id)
            .await
            .map_err(failures::stripe)?;
        let now = serde_json::to_value(&now)
            .map_err(|e| failures::undecodable(format!("the Stripe Customer: {e}")))?;
        if link.written_to_stripe.as_deref() == Some(stripe_fingerprint(owners, &now).as_str()) {
            return Ok(false);
        }
        let columns = (self.kentico()?.client)
            .get_customer(link.kentico_customer_id)
            .await
            .map_err(failures::kentico)?;
        let customer = KenticoCustomer::from_event_object(&serde_json::Value::Object(columns))
            .map_err(failures::mapping)?;
        let params = customer_params(&customer, link.site.as_deref(), owners);
        let key = format!(
            "paybridge-customer-{}-restore-{event_id}",
            link.kentico_customer_id
        );
        (self.ctx.stripe)
            .update_customer(stripe_id, &params, &key)
            .await
            .map_err(failures::stripe)?;
        (self.customers)
            .record_written(
                link.kentico_customer_id,
                Side::Stripe,
                &fingerprint(&params),
                None,
            )
            .await
            .map_err(failures::store)?;
        Ok(true)
    }
}

/// The fingerprint of what a Stripe Customer shows of the fields Kentico owns, comparable with
/// [`fingerprint`] of what paybridge wrote there.
fn stripe_fingerprint(owners: &FieldOwners, customer: &serde_json::Value) -> String {
    let text = |field: &str| customer[field].as_str().map(str::to_string);
    let kentico = |field: &str| owners.owner(field) == Owner::Kentico;
    let mut metadata = MetadataBuilder::new();
    for key in [
        "kentico_customer_id",
        "kentico_customer_guid",
        "kentico_site",
    ] {
        if let Some(value) = customer["metadata"][key].as_str() {
            metadata.insert(key, value);
        }
    }
    fingerprint(&CustomerParams {
        email: text("email").filter(|_| kentico("email")),
        name: text("name").filter(|_| kentico("name")),
        phone: text("phone").filter(|_| kentico("phone")),
        address: None,
        metadata: metadata.build(),
    })
}

/// A stable digest of columns written to Kentico.
fn columns_fingerprint(columns: &serde_json::Map<String, serde_json::Value>) -> String {
    digest(&serde_json::Value::Object(columns.clone()).to_string())
}

#[async_trait::async_trait]
impl EventHandler for StripeCustomerEventHandler {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        let id = event.payload.pointer("/data/object/id")?.as_str()?;
        Some(format!("stripe_customer:{id}"))
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        _delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        use crate::flows::money_metrics::{CUSTOMER_ECHOES, UNLINKED_CUSTOMER_EVENTS};
        use crate::webhook::event_types::stripe as stripe_events;
        let object = &event.payload["data"]["object"];
        let id = object["id"]
            .as_str()
            .ok_or_else(|| failures::undecodable("the event's data.object has no id"))?;
        if event.event_type() == stripe_events::CUSTOMER_DELETED {
            let unlinked = (self.customers).unlink(id).await.map_err(failures::store)?;
            return Ok(match unlinked {
                Some(link) => Handled::Done(format!(
                    "Stripe Customer {id} was deleted: Kentico customer {} unlinked (kept in Kentico)",
                    link.kentico_customer_id
                )),
                None => Handled::Ignored(format!("Stripe Customer {id} was not linked")),
            });
        }
        let linked = (self.customers)
            .by_stripe_customer(id)
            .await
            .map_err(failures::store)?;
        let link = match linked {
            Some(link) => link,
            None => match self.adopt(object, id).await? {
                Some(link) => link,
                None => {
                    self.ctx.count(UNLINKED_CUSTOMER_EVENTS);
                    return Ok(Handled::Ignored(format!(
                        "Stripe Customer {id} is not linked to a Kentico customer"
                    )));
                }
            },
        };
        if self.ctx.kentico.is_none() {
            return Ok(Handled::Ignored(format!(
                "Stripe Customer {id} changed; Xperience by Kentico customers are not written \
                 back (the package has no customer endpoint)"
            )));
        }
        let previous = &event.payload["data"]["previous_attributes"];
        let settings = self.ctx.settings();
        let owners = &settings.customer_field_owners;
        let columns = kentico_write_back(owners, object, previous);
        let overruled: Vec<&str> = (crate::config::customers::FIELDS.iter().copied())
            .filter(|f| previous.get(*f).is_some() && owners.owner(f) == Owner::Kentico)
            .collect();
        // What Kentico owns is as paybridge wrote it: the event is the echo of that write.
        let echo =
            link.written_to_stripe.as_deref() == Some(stripe_fingerprint(owners, object).as_str());
        let mut restored = None;
        if !overruled.is_empty() && !echo {
            // A concurrent edit at Stripe of a field Kentico owns: Kentico's value wins.
            tracing::info!(stripe_customer = %id, kentico_customer_id = link.kentico_customer_id,
                fields = %overruled.join(","), "changed at Stripe, but Kentico owns these fields: Kentico's values restored");
            if self.restore(&link, id, event.event_id()).await? {
                restored = Some(format!(
                    "Kentico's {} restored at {id}",
                    overruled.join(", ")
                ));
            }
        }
        if columns.is_empty() {
            if let Some(restored) = restored {
                return Ok(Handled::Done(restored));
            }
            if echo {
                self.ctx.count(CUSTOMER_ECHOES);
                return Ok(Handled::Ignored(format!(
                    "{id} shows what paybridge wrote from Kentico customer {}: an echo",
                    link.kentico_customer_id
                )));
            }
            return Ok(Handled::Ignored(format!(
                "nothing Stripe owns changed on {id} (CUSTOMER_FIELD_OWNERS)"
            )));
        }
        let written = columns_fingerprint(&columns);
        if link.written_to_kentico.as_deref() == Some(written.as_str()) {
            if let Some(restored) = restored {
                return Ok(Handled::Done(restored));
            }
            self.ctx.count(CUSTOMER_ECHOES);
            return Ok(Handled::Ignored(format!(
                "Kentico customer {} already holds these values",
                link.kentico_customer_id
            )));
        }
        (self.kentico()?.client)
            .update_customer(link.kentico_customer_id, &columns)
            .await
            .map_err(failures::kentico)?;
        (self.customers)
            .record_written(link.kentico_customer_id, Side::Kentico, &written, None)
            .await
            .map_err(failures::store)?;
        Ok(Handled::Done(format!(
            "Kentico customer {} updated from {id}: {}",
            link.kentico_customer_id,
            columns.keys().cloned().collect::<Vec<_>>().join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stripe_owned_fields_that_changed_are_written_back() {
        let customer = serde_json::json!({"id": "cus_1", "email": "new@example.com",
            "name": "Zoë Anna Schmidt", "phone": "+49 30 7654321"});
        let previous = serde_json::json!({"email": "old@example.com", "name": "Zoë Müller"});
        let default = crate::config::customers::parse_field_owners("").unwrap();
        assert!(
            kentico_write_back(&default, &customer, &previous).is_empty(),
            "Kentico owns every field by default"
        );
        let owners =
            crate::config::customers::parse_field_owners("name=stripe,phone=stripe").unwrap();
        let columns = kentico_write_back(&owners, &customer, &previous);
        assert_eq!(columns["CustomerFirstName"], "Zoë Anna");
        assert_eq!(columns["CustomerLastName"], "Schmidt");
        assert!(!columns.contains_key("CustomerEmail"), "Kentico owns email");
        assert!(
            !columns.contains_key("CustomerPhone"),
            "the phone did not change"
        );
    }

    fn customer() -> KenticoCustomer {
        KenticoCustomer {
            id: 77,
            guid: Some("0b1c2d3e-0000-4000-8000-000000000077".into()),
            email: Some("zoe@example.com".into()),
            first_name: Some("Zoë".into()),
            last_name: Some("Müller".into()),
            phone: Some("+49 30 1234567".into()),
            company: Some("Müller GmbH".into()),
        }
    }

    #[test]
    fn a_kentico_customer_becomes_the_stripe_customer_fields_with_our_references() {
        let params = customer_params(&customer(), Some("shop"), &FieldOwners::default());
        assert_eq!(params.name.as_deref(), Some("Zoë Müller"));
        assert_eq!(params.email.as_deref(), Some("zoe@example.com"));
        assert_eq!(params.metadata["kentico_customer_id"], "77");
        assert_eq!(params.metadata["kentico_site"], "shop");
        let company_only = KenticoCustomer {
            first_name: None,
            last_name: None,
            ..customer()
        };
        assert_eq!(
            customer_params(&company_only, None, &FieldOwners::default())
                .name
                .as_deref(),
            Some("Müller GmbH")
        );
    }

    #[test]
    fn the_fingerprint_changes_with_the_fields_and_only_with_them() {
        let a = fingerprint(&customer_params(
            &customer(),
            Some("shop"),
            &FieldOwners::default(),
        ));
        assert_eq!(
            a,
            fingerprint(&customer_params(
                &customer(),
                Some("shop"),
                &FieldOwners::default()
            ))
        );
        let renamed = KenticoCustomer {
            last_name: Some("Schmidt".into()),
            ..customer()
        };
        assert_ne!(
            a,
            fingerprint(&customer_params(
                &renamed,
                Some("shop"),
                &FieldOwners::default()
            ))
        );
    }
}
