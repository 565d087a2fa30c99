//! The event type names of each source, written once (docs/CONTRACTS.md#events).

/// Stripe's event types paybridge routes.
pub mod stripe {
    /// A PaymentIntent succeeded: the order is paid.
    pub const PAYMENT_INTENT_SUCCEEDED: &str = "payment_intent.succeeded";
    /// A PaymentIntent is processing (bank debits, some wallets).
    pub const PAYMENT_INTENT_PROCESSING: &str = "payment_intent.processing";
    /// A PaymentIntent needs the customer to authenticate.
    pub const PAYMENT_INTENT_REQUIRES_ACTION: &str = "payment_intent.requires_action";
    /// A PaymentIntent is authorized and waits for a manual capture.
    pub const PAYMENT_INTENT_AMOUNT_CAPTURABLE_UPDATED: &str =
        "payment_intent.amount_capturable_updated";
    /// A payment attempt failed (e.g. card declined).
    pub const PAYMENT_INTENT_PAYMENT_FAILED: &str = "payment_intent.payment_failed";
    /// A PaymentIntent was canceled.
    pub const PAYMENT_INTENT_CANCELED: &str = "payment_intent.canceled";

    /// A Stripe Customer was created.
    pub const CUSTOMER_CREATED: &str = "customer.created";
    /// A Stripe Customer changed (`data.previous_attributes` names what).
    pub const CUSTOMER_UPDATED: &str = "customer.updated";
    /// A Stripe Customer was deleted.
    pub const CUSTOMER_DELETED: &str = "customer.deleted";

    /// The customer events the payment worker handles.
    pub const CUSTOMER_EVENTS: [&str; 3] = [CUSTOMER_CREATED, CUSTOMER_UPDATED, CUSTOMER_DELETED];

    /// An invoice was paid.
    pub const INVOICE_PAID: &str = "invoice.paid";
    /// A payment of an invoice failed.
    pub const INVOICE_PAYMENT_FAILED: &str = "invoice.payment_failed";

    /// The subscription and invoice events the payment worker records on the customer; the two
    /// above also follow the order path when the invoice names a Kentico order.
    pub const BILLING_EVENTS: [&str; 9] = [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        INVOICE_PAID,
        INVOICE_PAYMENT_FAILED,
        "invoice.finalized",
        "invoice.voided",
    ];

    /// The PaymentIntent events the payment worker handles.
    pub const PAYMENT_INTENT_EVENTS: [&str; 6] = [
        PAYMENT_INTENT_SUCCEEDED,
        PAYMENT_INTENT_PROCESSING,
        PAYMENT_INTENT_REQUIRES_ACTION,
        PAYMENT_INTENT_AMOUNT_CAPTURABLE_UPDATED,
        PAYMENT_INTENT_PAYMENT_FAILED,
        PAYMENT_INTENT_CANCELED,
    ];
}

/// Stripe's money-movement events the ledger posts from.
pub mod stripe_ledger {
    /// A charge settled.
    pub const CHARGE_SUCCEEDED: &str = "charge.succeeded";
    /// A refund was created.
    pub const REFUND_CREATED: &str = "refund.created";
    /// A refund changed (e.g. got its balance transaction, succeeded).
    pub const REFUND_UPDATED: &str = "refund.updated";
    /// A refund failed: its money comes back.
    pub const REFUND_FAILED: &str = "refund.failed";
    /// A dispute was opened.
    pub const DISPUTE_CREATED: &str = "charge.dispute.created";
    /// A dispute withdrew the charge's funds.
    pub const DISPUTE_FUNDS_WITHDRAWN: &str = "charge.dispute.funds_withdrawn";
    /// A won dispute reinstated the funds.
    pub const DISPUTE_FUNDS_REINSTATED: &str = "charge.dispute.funds_reinstated";
    /// A dispute closed (won or lost).
    pub const DISPUTE_CLOSED: &str = "charge.dispute.closed";
    /// A payout reached the bank.
    pub const PAYOUT_PAID: &str = "payout.paid";
    /// A payout failed: its money came back to the balance.
    pub const PAYOUT_FAILED: &str = "payout.failed";

    /// The events the payment worker posts ledger entries from.
    pub const LEDGER_EVENTS: [&str; 10] = [
        CHARGE_SUCCEEDED,
        REFUND_CREATED,
        REFUND_UPDATED,
        REFUND_FAILED,
        DISPUTE_CREATED,
        DISPUTE_FUNDS_WITHDRAWN,
        DISPUTE_FUNDS_REINSTATED,
        DISPUTE_CLOSED,
        PAYOUT_PAID,
        PAYOUT_FAILED,
    ];
}

/// The Kentico module's event types.
pub mod kentico {
    /// An order was created.
    pub const ORDER_CREATED: &str = "ecommerce.order.created";
    /// An order was changed (items, totals, status, addresses).
    pub const ORDER_UPDATED: &str = "ecommerce.order.updated";

    /// The order events the order worker handles.
    pub const ORDER_EVENTS: [&str; 2] = [ORDER_CREATED, ORDER_UPDATED];

    /// A customer was created.
    pub const CUSTOMER_CREATED: &str = "ecommerce.customer.created";
    /// A customer was changed.
    pub const CUSTOMER_UPDATED: &str = "ecommerce.customer.updated";

    /// The customer events the order worker handles.
    pub const CUSTOMER_EVENTS: [&str; 2] = [CUSTOMER_CREATED, CUSTOMER_UPDATED];
}
