//! Customer links in memory, for tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Bound, CustomerBilling, CustomerLink, CustomerLinkStore, Side, StoredBilling};
use crate::links::OrderVersion;
use crate::store::StoreError;

/// The in-memory adapter.
#[derive(Debug, Default)]
pub struct InMemoryCustomerLinkStore {
    links: Mutex<HashMap<i64, CustomerLink>>,
    billing: Mutex<HashMap<String, StoredBilling>>,
}

impl InMemoryCustomerLinkStore {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<i64, CustomerLink>> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl CustomerLinkStore for InMemoryCustomerLinkStore {
    async fn get(&self, kentico_customer_id: i64) -> Result<Option<CustomerLink>, StoreError> {
        Ok(self.links().get(&kentico_customer_id).cloned())
    }

    async fn by_stripe_customer(
        &self,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        Ok(self
            .links()
            .values()
            .find(|l| !l.unlinked && l.stripe_customer_id.as_deref() == Some(stripe_customer_id))
            .cloned())
    }

    async fn bind(
        &self,
        kentico_customer_id: i64,
        customer_guid: Option<&str>,
        site: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Bound, StoreError> {
        let mut links = self.links();
        let link = links
            .entry(kentico_customer_id)
            .or_insert_with(|| CustomerLink {
                kentico_customer_id,
                ..CustomerLink::default()
            });
        match &link.stripe_customer_id {
            Some(other) if !link.unlinked && other != stripe_customer_id => {
                return Ok(Bound::LinkedToAnother(other.clone()));
            }
            _ => {}
        }
        link.stripe_customer_id = Some(stripe_customer_id.to_string());
        link.unlinked = false;
        if let Some(guid) = customer_guid {
            link.customer_guid.get_or_insert_with(|| guid.to_string());
        }
        if let Some(site) = site {
            link.site.get_or_insert_with(|| site.to_string());
        }
        Ok(Bound::Linked(link.clone()))
    }

    async fn record_written(
        &self,
        kentico_customer_id: i64,
        side: Side,
        fingerprint: &str,
        version: Option<&OrderVersion>,
    ) -> Result<bool, StoreError> {
        let mut links = self.links();
        let link = links
            .entry(kentico_customer_id)
            .or_insert_with(|| CustomerLink {
                kentico_customer_id,
                ..CustomerLink::default()
            });
        match side {
            Side::Stripe => {
                if let (Some(version), Some(written)) = (version, &link.kentico_version)
                    && written > version
                {
                    return Ok(false);
                }
                if let Some(version) = version {
                    link.kentico_version = Some(version.clone());
                }
                link.written_to_stripe = Some(fingerprint.to_string());
            }
            Side::Kentico => link.written_to_kentico = Some(fingerprint.to_string()),
        }
        Ok(true)
    }

    async fn unlink(&self, stripe_customer_id: &str) -> Result<Option<CustomerLink>, StoreError> {
        let mut links = self.links();
        let found = links
            .values_mut()
            .find(|l| !l.unlinked && l.stripe_customer_id.as_deref() == Some(stripe_customer_id));
        Ok(found.map(|link| {
            link.unlinked = true;
            link.clone()
        }))
    }

    async fn billing(&self, stripe_customer_id: &str) -> Result<StoredBilling, StoreError> {
        let billing = self
            .billing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(billing.get(stripe_customer_id).cloned().unwrap_or_default())
    }

    async fn put_billing(
        &self,
        stripe_customer_id: &str,
        records: &CustomerBilling,
        version: u64,
    ) -> Result<bool, StoreError> {
        let mut billing = self
            .billing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stored = billing.entry(stripe_customer_id.to_string()).or_default();
        if stored.version != version {
            return Ok(false);
        }
        *stored = StoredBilling {
            billing: records.clone(),
            version: version + 1,
        };
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_customer_link_store_contract() {
        super::super::contract::run_all(&InMemoryCustomerLinkStore::new()).await;
    }
}
