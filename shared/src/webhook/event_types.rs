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

/// The Kentico module's event types.
pub mod kentico {
    /// An order was created.
    pub const ORDER_CREATED: &str = "ecommerce.order.created";
    /// An order was changed (items, totals, status, addresses).
    pub const ORDER_UPDATED: &str = "ecommerce.order.updated";

    /// The order events the order worker handles.
    pub const ORDER_EVENTS: [&str; 2] = [ORDER_CREATED, ORDER_UPDATED];
}
