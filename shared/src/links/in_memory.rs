//! Order links in memory, with the DynamoDB adapter's semantics, for unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{
    Advance, Attempt, FINAL_RANK, OrderLink, OrderLinkStore, OrderTerms, PaymentClaim, TermsApplied,
};
use crate::store::StoreError;

/// Links in a map behind a mutex (leases beside them: holder, until).
#[derive(Debug, Default)]
pub struct InMemoryOrderLinkStore {
    links: Mutex<HashMap<i64, OrderLink>>,
    leases: Mutex<HashMap<i64, (String, i64)>>,
}

impl InMemoryOrderLinkStore {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, order_id: i64, change: impl FnOnce(&mut OrderLink) -> T) -> T {
        let mut links = self
            .links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let link = links.entry(order_id).or_insert_with(|| OrderLink {
            order_id,
            ..OrderLink::default()
        });
        change(link)
    }

    fn find(&self, matches: impl Fn(&OrderLink) -> bool) -> Option<OrderLink> {
        let links = self
            .links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        links.values().find(|l| matches(l)).cloned()
    }
}

/// What [`OrderLinkStore::save`] writes: fills, adds, never erases.
fn merge(into: &mut OrderLink, from: &OrderLink) {
    fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
        if value.is_some() {
            slot.clone_from(value);
        }
    }
    fill(&mut into.order_guid, &from.order_guid);
    fill(&mut into.site, &from.site);
    fill(&mut into.published, &from.published);
    into.payment_intents
        .extend(from.payment_intents.iter().cloned());
    into.checkout_sessions
        .extend(from.checkout_sessions.iter().cloned());
    into.canceled |= from.canceled;
}

#[async_trait::async_trait]
impl OrderLinkStore for InMemoryOrderLinkStore {
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError> {
        self.with(link.order_id, |entry| merge(entry, link));
        Ok(())
    }

    async fn by_order(&self, order_id: i64) -> Result<Option<OrderLink>, StoreError> {
        Ok(self.find(|l| l.order_id == order_id))
    }

    async fn by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        Ok(self.find(|l| l.payment_intents.contains(payment_intent_id)))
    }

    async fn by_checkout_session(
        &self,
        checkout_session_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        Ok(self.find(|l| l.checkout_sessions.contains(checkout_session_id)))
    }

    async fn apply_terms(
        &self,
        order_id: i64,
        terms: &OrderTerms,
    ) -> Result<TermsApplied, StoreError> {
        Ok(self.with(order_id, |link| match &link.version {
            Some(current) if *current > terms.version => TermsApplied::Stale {
                current: current.clone(),
            },
            _ => {
                link.version = Some(terms.version.clone());
                link.amount = Some(terms.amount);
                link.currency = Some(terms.currency.clone());
                TermsApplied::Applied
            }
        }))
    }

    async fn lease(
        &self,
        order_id: i64,
        holder: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut leases = self
            .leases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match leases.get(&order_id) {
            Some((other, until)) if other != holder && *until >= now_ms => Ok(false),
            _ => {
                leases.insert(order_id, (holder.to_string(), until_ms));
                Ok(true)
            }
        }
    }

    async fn release(&self, order_id: i64, holder: &str) -> Result<(), StoreError> {
        let mut leases = self
            .leases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if leases.get(&order_id).is_some_and(|(h, _)| h == holder) {
            leases.remove(&order_id);
        }
        Ok(())
    }

    async fn activate(
        &self,
        order_id: i64,
        terms: &OrderTerms,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        Ok(self.with(order_id, |link| {
            let stale = link.version.as_ref().is_some_and(|v| *v > terms.version);
            if stale || link.paid_by.is_some() || link.canceled {
                return false;
            }
            link.version = Some(terms.version.clone());
            link.amount = Some(terms.amount);
            link.currency = Some(terms.currency.clone());
            match attempt {
                Attempt::PaymentIntent(id) => {
                    link.payment_intent_id = Some(id.clone());
                    link.checkout_session_id = None;
                }
                Attempt::CheckoutSession(id) => {
                    link.checkout_session_id = Some(id.clone());
                    link.payment_intent_id = None;
                }
            }
            true
        }))
    }

    async fn bind_session_payment(
        &self,
        order_id: i64,
        checkout_session_id: &str,
        payment_intent_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.with(order_id, |link| {
            if link.checkout_session_id.as_deref() != Some(checkout_session_id) {
                return false;
            }
            link.payment_intent_id = Some(payment_intent_id.to_string());
            true
        }))
    }

    async fn claim_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
    ) -> Result<PaymentClaim, StoreError> {
        Ok(self.with(order_id, |link| match &link.paid_by {
            Some(paid_by) if paid_by == payment_intent_id => PaymentClaim::Claimed,
            Some(paid_by) => PaymentClaim::PaidBy(paid_by.clone()),
            None if link.canceled => PaymentClaim::Canceled,
            None => {
                link.paid_by = Some(payment_intent_id.to_string());
                PaymentClaim::Claimed
            }
        }))
    }

    async fn after_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.with(order_id, |link| {
            let paid_by_it = link.paid_by.as_deref() == Some(payment_intent_id);
            if !paid_by_it || link.status_rank < FINAL_RANK || rank < FINAL_RANK {
                return false;
            }
            link.status_rank = rank;
            link.status_name = Some(status_name.to_string());
            link.status_payment_intent = Some(payment_intent_id.to_string());
            true
        }))
    }

    async fn advance(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError> {
        Ok(self.with(order_id, |link| {
            let same = link.status_payment_intent.as_deref() == Some(payment_intent_id);
            let allowed = link.status_rank <= rank || (!same && link.status_rank < FINAL_RANK);
            if !allowed {
                return Advance::Refused {
                    current_rank: link.status_rank,
                    current_status: link.status_name.clone(),
                };
            }
            link.status_rank = rank;
            link.status_name = Some(status_name.to_string());
            link.status_payment_intent = Some(payment_intent_id.to_string());
            Advance::Moved
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_link_store_contract() {
        super::super::contract::run_all(&InMemoryOrderLinkStore::new()).await;
    }
}
