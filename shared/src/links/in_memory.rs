//! Order links in memory, with the DynamoDB adapter's semantics, for unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Advance, OrderLink, OrderLinkStore};
use crate::idempotency::StoreError;

/// Links in a map behind a mutex.
#[derive(Debug, Default)]
pub struct InMemoryOrderLinkStore {
    links: Mutex<HashMap<i64, OrderLink>>,
}

impl InMemoryOrderLinkStore {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, OrderLink>> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Fills `into`'s empty fields from `from`: saving never erases what is known.
pub(super) fn merge(into: &mut OrderLink, from: &OrderLink) {
    fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
        if value.is_some() {
            slot.clone_from(value);
        }
    }
    fill(&mut into.order_guid, &from.order_guid);
    fill(&mut into.site, &from.site);
    fill(&mut into.payment_intent_id, &from.payment_intent_id);
    fill(&mut into.checkout_session_id, &from.checkout_session_id);
    fill(&mut into.amount, &from.amount);
    fill(&mut into.currency, &from.currency);
}

#[async_trait::async_trait]
impl OrderLinkStore for InMemoryOrderLinkStore {
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError> {
        let mut links = self.lock();
        let entry = links.entry(link.order_id).or_insert_with(|| OrderLink {
            order_id: link.order_id,
            ..OrderLink::default()
        });
        merge(entry, link);
        Ok(())
    }

    async fn by_order(&self, order_id: i64) -> Result<Option<OrderLink>, StoreError> {
        Ok(self.lock().get(&order_id).cloned())
    }

    async fn by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        Ok(self
            .lock()
            .values()
            .find(|l| l.payment_intent_id.as_deref() == Some(payment_intent_id))
            .cloned())
    }

    async fn advance(
        &self,
        order_id: i64,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError> {
        let mut links = self.lock();
        let link = links.entry(order_id).or_insert_with(|| OrderLink {
            order_id,
            ..OrderLink::default()
        });
        if link.status_rank > rank {
            return Ok(Advance::Refused {
                current_rank: link.status_rank,
                current_status: link.status_name.clone(),
            });
        }
        link.status_rank = rank;
        link.status_name = Some(status_name.to_string());
        Ok(Advance::Moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lower_rank_never_replaces_a_higher_one() {
        let store = InMemoryOrderLinkStore::new();
        assert_eq!(store.advance(1, 60, "Paid").await.unwrap(), Advance::Moved);
        assert_eq!(
            store.advance(1, 30, "Payment pending").await.unwrap(),
            Advance::Refused {
                current_rank: 60,
                current_status: Some("Paid".into())
            }
        );
        assert_eq!(store.advance(1, 60, "Paid").await.unwrap(), Advance::Moved);
    }

    #[tokio::test]
    async fn saving_fills_fields_without_erasing_the_rank() {
        let store = InMemoryOrderLinkStore::new();
        store.advance(7, 20, "Payment Failed").await.unwrap();
        store
            .save(&OrderLink {
                order_id: 7,
                payment_intent_id: Some("pi_1".into()),
                ..OrderLink::default()
            })
            .await
            .unwrap();
        let link = store.by_payment_intent("pi_1").await.unwrap().unwrap();
        assert_eq!((link.order_id, link.status_rank), (7, 20));
    }
}
