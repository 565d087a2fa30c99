//! Customer links: which Stripe Customer a Kentico customer is, and
//! what paybridge last wrote on each side, so an event that only echoes paybridge's own write
//! is recognised and not written back. A port with DynamoDB (the state table), SQLite and
//! in-memory adapters and one contract suite.

pub mod billing;
#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
pub mod dynamodb;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;
pub mod view;

use crate::links::OrderVersion;
use crate::store::StoreError;

pub use billing::{BillingObject, BillingRecord, CustomerBilling, StoredBilling};
pub use dynamodb::DynamoDbCustomerLinkStore;
pub use in_memory::InMemoryCustomerLinkStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteCustomerLinkStore;

/// A Kentico customer and the Stripe Customer paybridge keeps in step with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerLink {
    /// Kentico's `CustomerID`.
    pub kentico_customer_id: i64,
    /// Kentico's `CustomerGUID` (the business key of the Stripe Customer).
    pub customer_guid: Option<String>,
    /// The Kentico site code name.
    pub site: Option<String>,
    /// `cus_…`, once created or found.
    pub stripe_customer_id: Option<String>,
    /// The newest Kentico customer version written to Stripe.
    pub kentico_version: Option<OrderVersion>,
    /// The fingerprint of the fields last written to Stripe.
    pub written_to_stripe: Option<String>,
    /// The fingerprint of the fields last written to Kentico.
    pub written_to_kentico: Option<String>,
    /// Stripe deleted the customer: the link is kept for the record, the Stripe id freed.
    pub unlinked: bool,
}

/// The side a write went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The Stripe Customer.
    Stripe,
    /// The Kentico customer.
    Kentico,
}

/// What [`CustomerLinkStore::bind`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// The Kentico customer is linked to the Stripe Customer asked for (now or before).
    Linked(CustomerLink),
    /// It was linked to another Stripe Customer before; nothing changed.
    LinkedToAnother(String),
}

/// Persistence of customer links.
#[async_trait::async_trait]
pub trait CustomerLinkStore: Send + Sync {
    /// The link of a Kentico customer.
    async fn get(&self, kentico_customer_id: i64) -> Result<Option<CustomerLink>, StoreError>;
    /// The link of a Stripe Customer (an unlinked one is not found).
    async fn by_stripe_customer(
        &self,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError>;
    /// Links the Kentico customer to `stripe_customer_id`, unless it is linked to another one
    /// (an unlinked link may be linked again). One Stripe Customer per Kentico customer.
    async fn bind(
        &self,
        kentico_customer_id: i64,
        customer_guid: Option<&str>,
        site: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Bound, StoreError>;
    /// Records the fingerprint of what was written to `side`; a write to Stripe also records
    /// the Kentico `version` it came from, forward only: `false` (nothing recorded) when a
    /// newer version was written before.
    async fn record_written(
        &self,
        kentico_customer_id: i64,
        side: Side,
        fingerprint: &str,
        version: Option<&OrderVersion>,
    ) -> Result<bool, StoreError>;
    /// Unlinks the Stripe Customer (it was deleted at Stripe); the link it had, if any.
    async fn unlink(&self, stripe_customer_id: &str) -> Result<Option<CustomerLink>, StoreError>;
    /// The subscriptions and invoices kept for a Stripe Customer (version 0 when none).
    async fn billing(&self, stripe_customer_id: &str) -> Result<StoredBilling, StoreError>;
    /// Stores `billing` if the stored version is still `version`; `false` when it changed
    /// meanwhile (nothing written). See [`billing::record`].
    async fn put_billing(
        &self,
        stripe_customer_id: &str,
        billing: &CustomerBilling,
        version: u64,
    ) -> Result<bool, StoreError>;
}
