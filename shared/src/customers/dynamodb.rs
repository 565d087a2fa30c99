//! Customer links in the state table: `customer#<CustomerID>` holds the link, `cus#<Stripe id>`
//! points back at it; both written in one transaction, so one Stripe Customer is linked to one
//! Kentico customer and a Kentico customer to one Stripe Customer.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::{
    Bound, CustomerBilling, CustomerLink, CustomerLinkStore, Side, StoredBilling, billing,
};
use crate::links::OrderVersion;
use crate::store::StoreError;

type Item = HashMap<String, AttributeValue>;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbCustomerLinkStore {
    client: Client,
    table: String,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn link_key(kentico_customer_id: i64) -> AttributeValue {
    s(&format!("customer#{kentico_customer_id}"))
}

fn index_key(stripe_customer_id: &str) -> AttributeValue {
    s(&format!("cus#{stripe_customer_id}"))
}

fn billing_key(stripe_customer_id: &str) -> AttributeValue {
    s(&format!("billing#{stripe_customer_id}"))
}

fn link_from(item: &Item) -> Option<CustomerLink> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some(CustomerLink {
        kentico_customer_id: item.get("kentico_customer_id")?.as_n().ok()?.parse().ok()?,
        customer_guid: text("customer_guid"),
        site: text("site"),
        stripe_customer_id: text("stripe_customer_id"),
        kentico_version: text("kentico_version").and_then(|v| OrderVersion::parse(&v)),
        written_to_stripe: text("written_to_stripe"),
        written_to_kentico: text("written_to_kentico"),
        unlinked: item
            .get("unlinked")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}

impl DynamoDbCustomerLinkStore {
    /// Links in `table` (partition key `pk`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn item(&self, key: AttributeValue) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(output.item)
    }

    /// Whether a conditional write was applied: `false` when its condition failed.
    fn applied<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
    where
        E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        match result {
            Ok(_) => Ok(true),
            Err(error) if Self::is_condition_failure(&error) => Ok(false),
            Err(error) => Err(StoreError::dynamodb(&error)),
        }
    }

    fn is_condition_failure<E, R>(error: &SdkError<E, R>) -> bool
    where
        E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        matches!(
            error.as_service_error().and_then(|e| e.code()),
            Some("ConditionalCheckFailedException" | "TransactionCanceledException")
        )
    }
}

#[async_trait::async_trait]
impl CustomerLinkStore for DynamoDbCustomerLinkStore {
    async fn get(&self, kentico_customer_id: i64) -> Result<Option<CustomerLink>, StoreError> {
        Ok(self
            .item(link_key(kentico_customer_id))
            .await?
            .as_ref()
            .and_then(link_from))
    }

    async fn by_stripe_customer(
        &self,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        let Some(index) = self.item(index_key(stripe_customer_id)).await? else {
            return Ok(None);
        };
        let Some(id) = (index.get("kentico_customer_id"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
        else {
            return Err(StoreError::Malformed(format!(
                "index cus#{stripe_customer_id} names no customer"
            )));
        };
        let link = self.get(id).await?;
        Ok(link
            .filter(|l| !l.unlinked && l.stripe_customer_id.as_deref() == Some(stripe_customer_id)))
    }

    async fn bind(
        &self,
        kentico_customer_id: i64,
        customer_guid: Option<&str>,
        site: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Bound, StoreError> {
        let id = AttributeValue::N(kentico_customer_id.to_string());
        let mut set = vec![
            "kentico_customer_id = :id",
            "stripe_customer_id = :s",
            "unlinked = :f",
        ];
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", link_key(kentico_customer_id))
            .condition_expression(
                "attribute_not_exists(stripe_customer_id) OR unlinked = :t OR stripe_customer_id = :s",
            )
            .expression_attribute_values(":id", id.clone())
            .expression_attribute_values(":s", s(stripe_customer_id))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":t", AttributeValue::Bool(true));
        if let Some(guid) = customer_guid {
            set.push("customer_guid = if_not_exists(customer_guid, :g)");
            update = update.expression_attribute_values(":g", s(guid));
        }
        if let Some(site) = site {
            set.push("site = if_not_exists(site, :site)");
            update = update.expression_attribute_values(":site", s(site));
        }
        let update = update
            .update_expression(format!("SET {}", set.join(", ")))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let index = Put::builder()
            .table_name(&self.table)
            .item("pk", index_key(stripe_customer_id))
            .item("kentico_customer_id", id.clone())
            .condition_expression("attribute_not_exists(pk) OR kentico_customer_id = :id")
            .expression_attribute_values(":id", id)
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().put(index).build())
            .send()
            .await;
        match written {
            Ok(_) => {}
            Err(error) if Self::is_condition_failure(&error) => {}
            Err(error) => return Err(StoreError::dynamodb(&error)),
        }
        let Some(link) = self.get(kentico_customer_id).await? else {
            return Err(StoreError::ConditionFailed(format!(
                "{stripe_customer_id} is linked to another Kentico customer"
            )));
        };
        match &link.stripe_customer_id {
            Some(bound) if !link.unlinked && bound == stripe_customer_id => Ok(Bound::Linked(link)),
            Some(bound) if !link.unlinked => Ok(Bound::LinkedToAnother(bound.clone())),
            _ => Err(StoreError::ConditionFailed(format!(
                "{stripe_customer_id} is linked to another Kentico customer"
            ))),
        }
    }

    async fn record_written(
        &self,
        kentico_customer_id: i64,
        side: Side,
        fingerprint: &str,
        version: Option<&OrderVersion>,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", link_key(kentico_customer_id))
            .expression_attribute_values(":id", AttributeValue::N(kentico_customer_id.to_string()))
            .expression_attribute_values(":fp", s(fingerprint));
        request = match (side, version) {
            (Side::Stripe, Some(version)) => request
                .update_expression(
                    "SET kentico_customer_id = :id, written_to_stripe = :fp, kentico_version = :v",
                )
                .condition_expression(
                    "attribute_not_exists(kentico_version) OR kentico_version <= :v",
                )
                .expression_attribute_values(":v", s(version.as_str())),
            (Side::Stripe, None) => {
                request.update_expression("SET kentico_customer_id = :id, written_to_stripe = :fp")
            }
            (Side::Kentico, _) => {
                request.update_expression("SET kentico_customer_id = :id, written_to_kentico = :fp")
            }
        };
        Self::applied(request.send().await)
    }

    async fn unlink(&self, stripe_customer_id: &str) -> Result<Option<CustomerLink>, StoreError> {
        let Some(link) = self.by_stripe_customer(stripe_customer_id).await? else {
            return Ok(None);
        };
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", link_key(link.kentico_customer_id))
            .update_expression("SET unlinked = :t")
            .condition_expression("stripe_customer_id = :s AND unlinked = :f")
            .expression_attribute_values(":s", s(stripe_customer_id))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let index = Delete::builder()
            .table_name(&self.table)
            .key("pk", index_key(stripe_customer_id))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().delete(index).build())
            .send()
            .await;
        match written {
            Ok(_) => self.get(link.kentico_customer_id).await,
            Err(error) if Self::is_condition_failure(&error) => Ok(None),
            Err(error) => Err(StoreError::dynamodb(&error)),
        }
    }

    async fn billing(&self, stripe_customer_id: &str) -> Result<StoredBilling, StoreError> {
        let Some(item) = self.item(billing_key(stripe_customer_id)).await? else {
            return Ok(StoredBilling::default());
        };
        let records = item.get("records").and_then(|v| v.as_s().ok());
        let version = (item.get("version"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok());
        let (Some(records), Some(version)) = (records, version) else {
            return Err(StoreError::Malformed(format!(
                "billing#{stripe_customer_id} has no records or version"
            )));
        };
        Ok(StoredBilling {
            billing: billing::decode(stripe_customer_id, records)?,
            version,
        })
    }

    async fn put_billing(
        &self,
        stripe_customer_id: &str,
        records: &CustomerBilling,
        version: u64,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", billing_key(stripe_customer_id))
            .item("records", s(&billing::encode(records)?))
            .item("version", AttributeValue::N((version + 1).to_string()));
        request = match version {
            0 => request.condition_expression("attribute_not_exists(pk)"),
            _ => request
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(version.to_string())),
        };
        Self::applied(request.send().await)
    }
}
