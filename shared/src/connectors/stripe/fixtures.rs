//! The types read Stripe's own published example objects (tests/fixtures/stripe, unedited).

use super::*;

const PAYMENT_INTENT: &str = include_str!("../../../../tests/fixtures/stripe/payment_intent.json");
const CHARGE: &str = include_str!("../../../../tests/fixtures/stripe/charge.json");
const BALANCE_TRANSACTION: &str =
    include_str!("../../../../tests/fixtures/stripe/balance_transaction.json");
const REFUND: &str = include_str!("../../../../tests/fixtures/stripe/refund.json");
const CHECKOUT_SESSION: &str =
    include_str!("../../../../tests/fixtures/stripe/checkout_session.json");
const CUSTOMER: &str = include_str!("../../../../tests/fixtures/stripe/customer.json");
const EVENT: &str = include_str!("../../../../tests/fixtures/stripe/event.json");
const DISPUTE: &str = include_str!("../../../../tests/fixtures/stripe/dispute.json");
const PAYOUT: &str = include_str!("../../../../tests/fixtures/stripe/payout.json");

#[test]
fn stripes_example_dispute_and_payout_deserialize() {
    let dispute: Dispute = serde_json::from_str(DISPUTE).unwrap();
    assert_eq!(dispute.id, "dp_1Pgc71B7WZ01zgkWMevJiAUx");
    assert_eq!(
        (dispute.amount, dispute.status.as_str()),
        (1000, "warning_needs_response")
    );
    assert!(dispute.balance_transactions.is_empty());
    let payout: Payout = serde_json::from_str(PAYOUT).unwrap();
    assert_eq!(payout.id, "po_1Pgc79B7WZ01zgkWu1KToYf4");
    assert!(payout.automatic);
    assert_eq!(payout.failure_balance_transaction, None);
    assert_eq!(
        payout.balance_transaction,
        Some(Expandable::Id("txn_1PgaxNB7WZ01zgkWEV3TLf40".into()))
    );
}

#[test]
fn stripes_example_payment_intent_deserializes() {
    let intent: PaymentIntent = serde_json::from_str(PAYMENT_INTENT).unwrap();

    assert_eq!(intent.id, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
    assert_eq!(intent.amount, 1099);
    assert_eq!(intent.amount_received, Some(0));
    assert_eq!(intent.currency, "usd");
    assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(intent.capture_method.as_deref(), Some("automatic"));
    assert!(intent.metadata.is_empty());
    assert_eq!(intent.latest_charge, None);
    assert_eq!(intent.customer, None);
    // Stripe's example error carries only a type: everything else must be optional.
    let error = intent.last_payment_error.unwrap();
    assert_eq!(error.error_type, "idempotency_error");
    assert_eq!(error.code, None);
    assert!(!intent.livemode);
}

#[test]
fn stripes_example_charge_deserializes_with_an_unexpanded_balance_transaction() {
    let charge: Charge = serde_json::from_str(CHARGE).unwrap();

    assert_eq!(charge.id, "ch_1PgafuB7WZ01zgkWXYmPNZs8");
    assert_eq!((charge.amount, charge.amount_refunded), (100, 0));
    assert_eq!(charge.status, ChargeStatus::Succeeded);
    assert!(charge.paid && !charge.refunded && !charge.captured);
    assert_eq!(charge.payment_intent, None);
    let txn = charge.balance_transaction.unwrap();
    assert_eq!(txn.id(), "txn_1PgaxNB7WZ01zgkWEV3TLf40");
    assert_eq!(txn.as_object(), None);
}

#[test]
fn a_charge_with_its_balance_transaction_expanded_inlines_the_object() {
    let mut charge: serde_json::Value = serde_json::from_str(CHARGE).unwrap();
    charge["balance_transaction"] = serde_json::from_str(BALANCE_TRANSACTION).unwrap();
    charge["payment_intent"] = "pi_1PgafyB7WZ01zgkWSjxsAJo3".into();

    let charge: Charge = serde_json::from_value(charge).unwrap();

    let txn = charge.balance_transaction.unwrap();
    assert_eq!(txn.id(), "txn_1PgaxNB7WZ01zgkWEV3TLf40");
    assert_eq!(txn.as_object().map(|t| t.net), Some(100));
    assert_eq!(
        charge.payment_intent.map(|p| p.id().to_owned()).as_deref(),
        Some("pi_1PgafyB7WZ01zgkWSjxsAJo3")
    );
}

#[test]
fn stripes_example_balance_transaction_deserializes() {
    let txn: BalanceTransaction = serde_json::from_str(BALANCE_TRANSACTION).unwrap();

    assert_eq!(txn.id, "txn_1PgaxNB7WZ01zgkWEV3TLf40");
    assert_eq!((txn.amount, txn.fee, txn.net), (100, 0, 100));
    assert!(txn.fee_details.is_empty());
    assert_eq!(txn.status, "available");
    assert_eq!(txn.reporting_category, "charge");
    assert_eq!(txn.available_on, 1_234_567_890);
}

#[test]
fn stripes_example_refund_deserializes() {
    let refund: Refund = serde_json::from_str(REFUND).unwrap();

    assert_eq!(refund.id, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
    assert_eq!(refund.amount, 100);
    assert_eq!(refund.status, Some(RefundStatus::Succeeded));
    assert_eq!(
        refund.charge.as_ref().map(Expandable::id),
        Some("ch_1PgafuB7WZ01zgkWXYmPNZs8")
    );
    assert_eq!(refund.balance_transaction, None);
    assert_eq!(refund.payment_intent, None);
}

#[test]
fn stripes_example_checkout_session_deserializes() {
    let session: CheckoutSession = serde_json::from_str(CHECKOUT_SESSION).unwrap();

    assert!(session.id.starts_with("cs_test_"));
    assert!(
        session
            .url
            .unwrap()
            .starts_with("https://checkout.stripe.com/")
    );
    assert_eq!(
        session.payment_intent.as_ref().map(Expandable::id),
        Some("pi_1PgafyB7WZ01zgkWSjxsAJo3")
    );
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status.as_deref(), Some("unpaid"));
    assert_eq!(session.expires_at, Some(1_234_567_890));
}

#[test]
fn stripes_example_customer_deserializes_with_null_contact_fields() {
    let customer: Customer = serde_json::from_str(CUSTOMER).unwrap();

    assert_eq!(customer.id, "cus_QXg1o8vcGmoR32");
    assert_eq!(
        (customer.email, customer.name, customer.phone),
        (None, None, None)
    );
    assert!(customer.metadata.is_empty());
}

#[test]
fn stripes_example_event_deserializes_with_a_null_api_version() {
    let event: Event = serde_json::from_str(EVENT).unwrap();

    assert_eq!(event.id, "evt_1Pgc76B7WZ01zgkWwyRHS12y");
    assert_eq!(event.event_type, "plan.created");
    assert_eq!(event.api_version, None);
    assert_eq!(event.data.object.id(), "price_1PgafmB7WZ01zgkW6dKueIc5");
}

#[test]
fn a_status_newer_than_this_code_reads_as_unknown_and_null_metadata_as_empty() {
    let mut intent: serde_json::Value = serde_json::from_str(PAYMENT_INTENT).unwrap();
    intent["status"] = "requires_a_new_kind_of_step".into();
    intent["metadata"] = serde_json::Value::Null;
    intent["customer"] = serde_json::json!({"id": "cus_1", "object": "customer"});

    let intent: PaymentIntent = serde_json::from_value(intent).unwrap();

    assert_eq!(intent.status, PaymentIntentStatus::Unknown);
    assert!(intent.metadata.is_empty());
    assert_eq!(intent.customer.as_ref().map(Expandable::id), Some("cus_1"));
}
