//! Order links: which Stripe objects belong to which Kentico order, what the order owes, and how
//! far its payment got.
//!
//! Everything that decides whether money counts for an order is a conditional write here, so two
//! workers racing cannot both win:
//! - [`OrderLinkStore::lease`] lets one worker at a time change an order's payable objects;
//! - [`OrderLinkStore::apply_terms`] moves the order to a newer Kentico version (amount, currency)
//!   and refuses an older one;
//! - [`OrderLinkStore::activate`] makes one payable object the order's active one together with
//!   the terms it was made for, unless newer terms were applied or the order is paid or canceled;
//! - [`OrderLinkStore::claim_payment`] lets exactly one PaymentIntent pay the order;
//! - [`OrderLinkStore::advance`] moves the displayed status forward only (per active payment).

pub mod dynamodb;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;
mod version;

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

use std::collections::BTreeSet;

pub use dynamodb::DynamoDbOrderLinkStore;
pub use in_memory::InMemoryOrderLinkStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteOrderLinkStore;
pub use version::OrderVersion;

use crate::store::StoreError;

/// A Kentico order and its Stripe side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderLink {
    /// Kentico's OrderID.
    pub order_id: i64,
    /// Kentico's OrderGUID (the business key of the PaymentIntent).
    pub order_guid: Option<String>,
    /// The Kentico site code name.
    pub site: Option<String>,
    /// The active PaymentIntent: the one payable now (Payment Element), or the one the active
    /// Checkout Session made once the customer started paying.
    pub payment_intent_id: Option<String>,
    /// The active Checkout Session (Checkout mode).
    pub checkout_session_id: Option<String>,
    /// What the order owes, in minor units, as of `version`.
    pub amount: Option<i64>,
    /// Lower-case ISO currency, as of `version`.
    pub currency: Option<String>,
    /// The newest Kentico order version applied.
    pub version: Option<OrderVersion>,
    /// Every PaymentIntent created for the order (or by its Checkout Sessions), active or not.
    pub payment_intents: BTreeSet<String>,
    /// Every Checkout Session created for the order.
    pub checkout_sessions: BTreeSet<String>,
    /// The attempt whose ids and link were last written to the Kentico order.
    pub published: Option<String>,
    /// The PaymentIntent that paid the order (set once, by [`OrderLinkStore::claim_payment`]).
    pub paid_by: Option<String>,
    /// Canceled in Kentico: no payment may mark it paid any more.
    pub canceled: bool,
    /// The highest payment state reached by `status_payment_intent` (see the status ranks).
    pub status_rank: u32,
    /// Its Kentico status name.
    pub status_name: Option<String>,
    /// The PaymentIntent the status belongs to.
    pub status_payment_intent: Option<String>,
}

impl OrderLink {
    /// The active payable object, if any.
    pub fn active(&self) -> Option<Attempt> {
        match (&self.checkout_session_id, &self.payment_intent_id) {
            (Some(session), _) => Some(Attempt::CheckoutSession(session.clone())),
            (None, Some(intent)) => Some(Attempt::PaymentIntent(intent.clone())),
            (None, None) => None,
        }
    }
}

/// A payable object the integration created for an order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attempt {
    /// A PaymentIntent (`pi_…`), confirmed by a Payment Element.
    PaymentIntent(String),
    /// A hosted Checkout Session (`cs_…`); it makes its PaymentIntent when the customer pays.
    CheckoutSession(String),
}

impl Attempt {
    /// The Stripe id.
    pub fn id(&self) -> &str {
        match self {
            Self::PaymentIntent(id) | Self::CheckoutSession(id) => id,
        }
    }
}

/// What the order owes at one Kentico version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerms {
    /// The Kentico version these terms come from.
    pub version: OrderVersion,
    /// Minor units.
    pub amount: i64,
    /// Lower-case ISO currency.
    pub currency: String,
}

/// What [`OrderLinkStore::apply_terms`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermsApplied {
    /// The terms are the order's now (a newer or the same version).
    Applied,
    /// A newer version was applied before: these terms are stale.
    Stale {
        /// The version the order is at.
        current: OrderVersion,
    },
}

/// What [`OrderLinkStore::claim_payment`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentClaim {
    /// This PaymentIntent pays the order (now, or it did before).
    Claimed,
    /// Another PaymentIntent paid the order: this one is a double payment.
    PaidBy(String),
    /// The order was canceled in Kentico before this payment.
    Canceled,
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

/// The rank no other PaymentIntent's state may replace (paid).
pub const FINAL_RANK: u32 = 60;

/// Persistence of order links.
#[async_trait::async_trait]
pub trait OrderLinkStore: Send + Sync {
    /// Fills in `order_guid`, `site` and `published`, adds `payment_intents` and
    /// `checkout_sessions` (each indexed for [`Self::by_payment_intent`] and
    /// [`Self::by_checkout_session`]), and sets `canceled` when it is true. Never erases; the
    /// other fields are written only by the conditional methods below.
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError>;
    /// The link of a Kentico order.
    async fn by_order(&self, order_id: i64) -> Result<Option<OrderLink>, StoreError>;
    /// The link of the order a PaymentIntent was created for.
    async fn by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<OrderLink>, StoreError>;
    /// The link of the order a Checkout Session was created for.
    async fn by_checkout_session(
        &self,
        checkout_session_id: &str,
    ) -> Result<Option<OrderLink>, StoreError>;
    /// Takes the order's lease for `holder` until `until_ms` (unix ms) unless another holder's
    /// lease runs past `now_ms` (conditional write; the same holder renews); `false` when held.
    async fn lease(
        &self,
        order_id: i64,
        holder: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Gives the lease back if `holder` still has it.
    async fn release(&self, order_id: i64, holder: &str) -> Result<(), StoreError>;
    /// Records `terms` unless a newer version was recorded (conditional write: the same
    /// version passes, so a retried event can finish).
    async fn apply_terms(
        &self,
        order_id: i64,
        terms: &OrderTerms,
    ) -> Result<TermsApplied, StoreError>;
    /// Records `terms` and makes `attempt` the order's active payable object in one conditional
    /// write, unless newer terms were applied or the order is paid or canceled; `false` when
    /// refused. A Checkout Session clears the active PaymentIntent (its own is not known yet).
    async fn activate(
        &self,
        order_id: i64,
        terms: &OrderTerms,
        attempt: &Attempt,
    ) -> Result<bool, StoreError>;
    /// Records `payment_intent_id` as the active PaymentIntent if `checkout_session_id` is still
    /// the active session (conditional write); `false` when refused.
    async fn bind_session_payment(
        &self,
        order_id: i64,
        checkout_session_id: &str,
        payment_intent_id: &str,
    ) -> Result<bool, StoreError>;
    /// Lets `payment_intent_id` pay the order unless another one did or the order was canceled
    /// (conditional write; the same PaymentIntent passes again).
    async fn claim_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
    ) -> Result<PaymentClaim, StoreError>;
    /// Sets the displayed status of a paid order after the payment (refunds, disputes, or back
    /// to paid when they are undone) to `rank` ≥ [`FINAL_RANK`] and `status_name`, if
    /// `payment_intent_id` paid it (conditional write); `false` when refused. Payment events
    /// never go below what this sets (see [`Self::advance`]).
    async fn after_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<bool, StoreError>;
    /// Moves the displayed status to `rank`/`status_name` for `payment_intent_id` unless that
    /// PaymentIntent is at a higher rank, or another one reached [`FINAL_RANK`] (conditional
    /// write; an equal rank passes so a retried write-back can finish).
    async fn advance(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError>;
}
