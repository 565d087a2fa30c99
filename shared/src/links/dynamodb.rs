//! Order links in the DynamoDB table shared with idempotency records (`pk` = `order#<OrderID>`),
//! plus `pi#<PaymentIntent id>` and `cs#<Checkout Session id>` index items pointing back at the
//! order, written in the same transaction as the link.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::{
    Advance, Attempt, FINAL_RANK, OrderLink, OrderLinkStore, OrderTerms, OrderVersion,
    PaymentClaim, TermsApplied,
};
use crate::store::StoreError;

const KEY: &str = "pk";
type Item = HashMap<String, AttributeValue>;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbOrderLinkStore {
    client: Client,
    table: String,
}

fn order_key(order_id: i64) -> AttributeValue {
    AttributeValue::S(format!("order#{order_id}"))
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn link_from(item: &Item) -> Option<OrderLink> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    let strings = |name: &str| -> BTreeSet<String> {
        item.get(name)
            .and_then(|v| v.as_ss().ok())
            .map(|ss| ss.iter().cloned().collect())
            .unwrap_or_default()
    };
    Some(OrderLink {
        order_id: number("order_id")?,
        order_guid: text("order_guid"),
        site: text("site"),
        payment_intent_id: text("payment_intent_id"),
        checkout_session_id: text("checkout_session_id"),
        amount: number("amount"),
        currency: text("currency"),
        version: text("order_version").and_then(|v| OrderVersion::parse(&v)),
        payment_intents: strings("payment_intents"),
        checkout_sessions: strings("checkout_sessions"),
        published: text("published"),
        paid_by: text("paid_by"),
        canceled: item
            .get("canceled")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        status_rank: number("status_rank")
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(0),
        status_name: text("status_name"),
        status_payment_intent: text("status_payment_intent"),
    })
}

/// One conditional `UpdateItem` on an order's link.
struct Conditional {
    update: String,
    condition: String,
    values: Item,
}

impl DynamoDbOrderLinkStore {
    /// A store on `table` (partition key `pk`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: AttributeValue) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, pk)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(output.item)
    }

    async fn by_index(&self, pk: String) -> Result<Option<OrderLink>, StoreError> {
        let Some(index) = self.get(AttributeValue::S(pk)).await? else {
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

    /// Runs `write`; `Ok(Err(old))` when its condition failed, with the item as it was.
    async fn conditional(
        &self,
        order_id: i64,
        write: Conditional,
    ) -> Result<Result<UpdateItemOutput, Option<OrderLink>>, StoreError> {
        let mut values = write.values;
        values.insert(":order_id".into(), n(order_id));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, order_key(order_id))
            .update_expression(write.update)
            .condition_expression(write.condition)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Ok(output)),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                let old = match service.err() {
                    UpdateItemError::ConditionalCheckFailedException(e) => {
                        e.item().and_then(link_from)
                    }
                    _ => None,
                };
                Ok(Err(old))
            }
            Err(e) => Err(StoreError::dynamodb(&e)),
        }
    }

    /// The link as it was when a condition failed: from the failure, else read again.
    async fn current(
        &self,
        order_id: i64,
        old: Option<OrderLink>,
    ) -> Result<Option<OrderLink>, StoreError> {
        match old {
            Some(link) => Ok(Some(link)),
            None => self.by_order(order_id).await,
        }
    }
}

#[async_trait::async_trait]
impl OrderLinkStore for DynamoDbOrderLinkStore {
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError> {
        let mut sets = vec!["order_id = :order_id".to_string()];
        let mut adds = Vec::new();
        let mut values: Item = HashMap::from([(":order_id".to_string(), n(link.order_id))]);
        let texts = [
            ("order_guid", &link.order_guid),
            ("site", &link.site),
            ("published", &link.published),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                sets.push(format!("{name} = :{name}"));
                values.insert(format!(":{name}"), s(value));
            }
        }
        if link.canceled {
            sets.push("canceled = :canceled".into());
            values.insert(":canceled".into(), AttributeValue::Bool(true));
        }
        let sets_of = [
            ("payment_intents", &link.payment_intents),
            ("checkout_sessions", &link.checkout_sessions),
        ];
        for (name, ids) in sets_of {
            if !ids.is_empty() {
                adds.push(format!("{name} :{name}"));
                values.insert(
                    format!(":{name}"),
                    AttributeValue::Ss(ids.iter().cloned().collect()),
                );
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !adds.is_empty() {
            expression.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .key(KEY, order_key(link.order_id))
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let index = (link.payment_intents.iter().map(|id| format!("pi#{id}")))
            .chain(link.checkout_sessions.iter().map(|id| format!("cs#{id}")));
        for pk in index {
            let put = Put::builder()
                .table_name(&self.table)
                .item(KEY, AttributeValue::S(pk))
                .item("order_id", n(link.order_id))
                .build()
                .map_err(|e| StoreError::Malformed(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        // The link and its index items together: a PaymentIntent is either ours or not,
        // never half-recorded.
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
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
        self.by_index(format!("pi#{payment_intent_id}")).await
    }

    async fn by_checkout_session(
        &self,
        checkout_session_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        self.by_index(format!("cs#{checkout_session_id}")).await
    }

    async fn apply_terms(
        &self,
        order_id: i64,
        terms: &OrderTerms,
    ) -> Result<TermsApplied, StoreError> {
        let write = Conditional {
            update: "SET order_id = :order_id, order_version = :v, amount = :amount, currency = :currency"
                .into(),
            condition: "attribute_not_exists(order_version) OR order_version <= :v".into(),
            values: HashMap::from([
                (":v".to_string(), s(terms.version.as_str())),
                (":amount".to_string(), n(terms.amount)),
                (":currency".to_string(), s(&terms.currency)),
            ]),
        };
        match self.conditional(order_id, write).await? {
            Ok(_) => Ok(TermsApplied::Applied),
            Err(old) => {
                let current = self.current(order_id, old).await?;
                Ok(TermsApplied::Stale {
                    current: current
                        .and_then(|l| l.version)
                        .unwrap_or_else(|| terms.version.clone()),
                })
            }
        }
    }

    async fn lease(
        &self,
        order_id: i64,
        holder: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let write = Conditional {
            update: "SET order_id = :order_id, lease_holder = :holder, lease_until = :until".into(),
            condition:
                "attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :holder"
                    .into(),
            values: HashMap::from([
                (":holder".to_string(), s(holder)),
                (":until".to_string(), n(until_ms)),
                (":now".to_string(), n(now_ms)),
            ]),
        };
        Ok(self.conditional(order_id, write).await?.is_ok())
    }

    async fn release(&self, order_id: i64, holder: &str) -> Result<(), StoreError> {
        let write = Conditional {
            update: "SET order_id = :order_id REMOVE lease_holder, lease_until".into(),
            condition: "lease_holder = :holder".into(),
            values: HashMap::from([(":holder".to_string(), s(holder))]),
        };
        // Refused means the lease ran out and someone else holds it now: nothing to give back.
        let _released = self.conditional(order_id, write).await?;
        Ok(())
    }

    async fn activate(
        &self,
        order_id: i64,
        terms: &OrderTerms,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let update = match attempt {
            Attempt::PaymentIntent(_) => {
                "SET order_id = :order_id, order_version = :v, amount = :amount, \
                 currency = :currency, payment_intent_id = :id REMOVE checkout_session_id"
            }
            Attempt::CheckoutSession(_) => {
                "SET order_id = :order_id, order_version = :v, amount = :amount, \
                 currency = :currency, checkout_session_id = :id REMOVE payment_intent_id"
            }
        };
        let write = Conditional {
            update: update.into(),
            condition: "(attribute_not_exists(order_version) OR order_version <= :v) \
                        AND attribute_not_exists(paid_by) \
                        AND (attribute_not_exists(canceled) OR canceled = :false)"
                .into(),
            values: HashMap::from([
                (":v".to_string(), s(terms.version.as_str())),
                (":amount".to_string(), n(terms.amount)),
                (":currency".to_string(), s(&terms.currency)),
                (":id".to_string(), s(attempt.id())),
                (":false".to_string(), AttributeValue::Bool(false)),
            ]),
        };
        Ok(self.conditional(order_id, write).await?.is_ok())
    }

    async fn bind_session_payment(
        &self,
        order_id: i64,
        checkout_session_id: &str,
        payment_intent_id: &str,
    ) -> Result<bool, StoreError> {
        let write = Conditional {
            update: "SET order_id = :order_id, payment_intent_id = :pi".into(),
            condition: "checkout_session_id = :cs".into(),
            values: HashMap::from([
                (":cs".to_string(), s(checkout_session_id)),
                (":pi".to_string(), s(payment_intent_id)),
            ]),
        };
        Ok(self.conditional(order_id, write).await?.is_ok())
    }

    async fn claim_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
    ) -> Result<PaymentClaim, StoreError> {
        let write = Conditional {
            update: "SET order_id = :order_id, paid_by = :pi".into(),
            condition: "paid_by = :pi OR (attribute_not_exists(paid_by) \
                        AND (attribute_not_exists(canceled) OR canceled = :false))"
                .into(),
            values: HashMap::from([
                (":pi".to_string(), s(payment_intent_id)),
                (":false".to_string(), AttributeValue::Bool(false)),
            ]),
        };
        match self.conditional(order_id, write).await? {
            Ok(_) => Ok(PaymentClaim::Claimed),
            Err(old) => Ok(
                match self.current(order_id, old).await?.and_then(|l| l.paid_by) {
                    Some(other) => PaymentClaim::PaidBy(other),
                    None => PaymentClaim::Canceled,
                },
            ),
        }
    }

    async fn after_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<bool, StoreError> {
        if rank < FINAL_RANK {
            return Ok(false);
        }
        let write = Conditional {
            update: "SET order_id = :order_id, status_rank = :rank, status_name = :name, \
                     status_payment_intent = :pi"
                .into(),
            condition: "paid_by = :pi AND status_rank >= :final".into(),
            values: HashMap::from([
                (":rank".to_string(), n(rank)),
                (":name".to_string(), s(status_name)),
                (":pi".to_string(), s(payment_intent_id)),
                (":final".to_string(), n(FINAL_RANK)),
            ]),
        };
        Ok(self.conditional(order_id, write).await?.is_ok())
    }

    async fn advance(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError> {
        let write = Conditional {
            update: "SET order_id = :order_id, status_rank = :rank, status_name = :name, \
                     status_payment_intent = :pi"
                .into(),
            condition: "attribute_not_exists(status_rank) OR status_rank <= :rank \
                        OR ((attribute_not_exists(status_payment_intent) OR status_payment_intent <> :pi) \
                            AND status_rank < :final)"
                .into(),
            values: HashMap::from([
                (":rank".to_string(), n(rank)),
                (":name".to_string(), s(status_name)),
                (":pi".to_string(), s(payment_intent_id)),
                (":final".to_string(), n(FINAL_RANK)),
            ]),
        };
        match self.conditional(order_id, write).await? {
            Ok(_) => Ok(Advance::Moved),
            Err(old) => {
                let current = self.current(order_id, old).await?;
                Ok(Advance::Refused {
                    current_rank: current.as_ref().map_or(0, |l| l.status_rank),
                    current_status: current.and_then(|l| l.status_name),
                })
            }
        }
    }
}
