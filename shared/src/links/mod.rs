//! Order links: which Stripe objects belong to which Kentico order, and how far its payment got.
//!
//! The payment status only moves forward: each status has a rank and [`OrderLinkStore::advance`]
//! is a conditional write that refuses a lower rank, so a late `processing` never un-pays an order,
//! even when two workers race.

pub mod dynamodb;
pub mod in_memory;

pub use dynamodb::DynamoDbOrderLinkStore;
pub use in_memory::InMemoryOrderLinkStore;

use crate::idempotency::StoreError;

/// A Kentico order and its Stripe side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderLink {
    /// Kentico's OrderID.
    pub order_id: i64,
    /// Kentico's OrderGUID (the business key of the PaymentIntent).
    pub order_guid: Option<String>,
    /// The Kentico site code name.
    pub site: Option<String>,
    /// The PaymentIntent created for the order (or the latest one seen for it).
    pub payment_intent_id: Option<String>,
    /// The Checkout Session created for the order, in checkout mode.
    pub checkout_session_id: Option<String>,
    /// The amount asked for, in minor units.
    pub amount: Option<i64>,
    /// Lower-case ISO currency.
    pub currency: Option<String>,
    /// The highest payment state reached (see the status ranks).
    pub status_rank: u32,
    /// Its Kentico status name.
    pub status_name: Option<String>,
}

/// What [`OrderLinkStore::advance`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    /// The order moved to (or stayed at, for a retry of the same state) the given rank.
    Moved,
    /// The order is already at a higher rank: nothing to do.
    Refused {
        /// The rank it is at.
        current_rank: u32,
        /// Its status name.
        current_status: Option<String>,
    },
}

/// Persistence of order links.
#[async_trait::async_trait]
pub trait OrderLinkStore: Send + Sync {
    /// Records the Stripe side of an order (creating the link, or filling in fields), keeping
    /// its rank; also indexes the PaymentIntent id.
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError>;
    /// The link of a Kentico order.
    async fn by_order(&self, order_id: i64) -> Result<Option<OrderLink>, StoreError>;
    /// The link of the order a PaymentIntent belongs to.
    async fn by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<OrderLink>, StoreError>;
    /// Moves the order to `rank`/`status_name` unless it is at a higher rank (conditional write;
    /// an equal rank passes so a retried write-back can finish).
    async fn advance(
        &self,
        order_id: i64,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError>;
}
