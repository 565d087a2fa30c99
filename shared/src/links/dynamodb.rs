//! Order links in the DynamoDB table shared with idempotency records (`pk` = `order#<OrderID>`,
//! plus `pi#<PaymentIntent id>` index items pointing back at the order).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{Advance, OrderLink, OrderLinkStore};
use crate::idempotency::StoreError;

const KEY: &str = "pk";

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbOrderLinkStore {
    client: Client,
    table: String,
}

impl DynamoDbOrderLinkStore {
    /// A store on `table` (partition key `pk`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: String) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(DisplayErrorContext(&e).to_string()))?;
        Ok(output.item)
    }
}

fn order_key(order_id: i64) -> String {
    format!("order#{order_id}")
}

fn payment_intent_key(id: &str) -> String {
    format!("pi#{id}")
}

fn link_from(item: &HashMap<String, AttributeValue>) -> Option<OrderLink> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    Some(OrderLink {
        order_id: number("order_id")?,
        order_guid: text("order_guid"),
        site: text("site"),
        payment_intent_id: text("payment_intent_id"),
        checkout_session_id: text("checkout_session_id"),
        amount: number("amount"),
        currency: text("currency"),
        status_rank: number("status_rank")
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(0),
        status_name: text("status_name"),
    })
}

#[async_trait::async_trait]
impl OrderLinkStore for DynamoDbOrderLinkStore {
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError> {
        let mut sets = vec!["order_id = :order_id".to_string()];
        let mut values = HashMap::from([(
            ":order_id".to_string(),
            AttributeValue::N(link.order_id.to_string()),
        )]);
        let texts = [
            ("order_guid", &link.order_guid),
            ("site", &link.site),
            ("payment_intent_id", &link.payment_intent_id),
            ("checkout_session_id", &link.checkout_session_id),
            ("currency", &link.currency),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                sets.push(format!("{name} = :{name}"));
                values.insert(format!(":{name}"), AttributeValue::S(value.clone()));
            }
        }
        if let Some(amount) = link.amount {
            sets.push("amount = :amount".into());
            values.insert(":amount".into(), AttributeValue::N(amount.to_string()));
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(order_key(link.order_id)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| StoreError(DisplayErrorContext(&e).to_string()))?;
        if let Some(payment_intent) = &link.payment_intent_id {
            self.client
                .put_item()
                .table_name(&self.table)
                .item(KEY, AttributeValue::S(payment_intent_key(payment_intent)))
                .item("order_id", AttributeValue::N(link.order_id.to_string()))
                .send()
                .await
                .map_err(|e| StoreError(DisplayErrorContext(&e).to_string()))?;
        }
        Ok(())
    }

    async fn by_order(&self, order_id: i64) -> Result<Option<OrderLink>, StoreError> {
        Ok(self
            .get(order_key(order_id))
            .await?
            .as_ref()
            .and_then(link_from))
    }

    async fn by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        let Some(index) = self.get(payment_intent_key(payment_intent_id)).await? else {
            return Ok(None);
        };
        let Some(order_id) = index
            .get("order_id")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
        else {
            return Ok(None);
        };
        self.by_order(order_id).await
    }

    async fn advance(
        &self,
        order_id: i64,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(order_key(order_id)))
            .update_expression("SET status_rank = :rank, status_name = :name, order_id = :order_id")
            .condition_expression("attribute_not_exists(status_rank) OR status_rank <= :rank")
            .expression_attribute_values(":rank", AttributeValue::N(rank.to_string()))
            .expression_attribute_values(":name", AttributeValue::S(status_name.to_string()))
            .expression_attribute_values(":order_id", AttributeValue::N(order_id.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Advance::Moved),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                let current = match service.err() {
                    UpdateItemError::ConditionalCheckFailedException(e) => {
                        e.item().and_then(link_from)
                    }
                    _ => None,
                };
                let current = match current {
                    Some(link) => Some(link),
                    None => self.by_order(order_id).await?,
                };
                Ok(Advance::Refused {
                    current_rank: current.as_ref().map_or(0, |l| l.status_rank),
                    current_status: current.and_then(|l| l.status_name),
                })
            }
            Err(e) => Err(StoreError(DisplayErrorContext(&e).to_string())),
        }
    }
}
