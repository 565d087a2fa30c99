//! `StripeClient` against the loopback fake Stripe: the wire format, retries and error mapping.

use std::collections::BTreeMap;
use std::time::Duration;

use integration_tests::fakes::stripe::FakeStripe;
use integration_tests::repo_root;
use paybridge::connectors::stripe::{
    AutomaticPaymentMethods, CheckoutLineItem, CreateCheckoutSession, CreatePaymentIntent,
    DEFAULT_API_VERSION, PaymentIntent, PaymentIntentData, PaymentIntentStatus, PriceData,
    ProductData, Shipping, StripeAddress, StripeClient, StripeConfig, StripeError,
    UpdatePaymentIntent,
};
use paybridge::secret::SecretString;
use serde_json::json;

const KEY: &str = "sk_test_fake_paybridge";

fn client_for(base_url: &str, key: &str) -> StripeClient {
    let mut config = StripeConfig::new(SecretString::new(key));
    config.api_base = base_url.to_owned();
    config.timeout = Duration::from_secs(5);
    // Real backoff shape, test-sized delays.
    config.retry_base = Duration::from_millis(5);
    StripeClient::new(config).unwrap()
}

fn order_1042() -> CreatePaymentIntent {
    CreatePaymentIntent {
        amount: 12_550,
        currency: "eur".into(),
        automatic_payment_methods: Some(AutomaticPaymentMethods { enabled: true }),
        description: Some("Kentico order 1042".into()),
        metadata: BTreeMap::from([("kentico_order_id".to_owned(), "1042".to_owned())]),
        shipping: Some(Shipping {
            name: "Zoë Müller".into(),
            phone: None,
            address: StripeAddress {
                line1: Some("Hauptstraße 1".into()),
                city: Some("Berlin".into()),
                country: Some("DE".into()),
                ..StripeAddress::default()
            },
        }),
        ..CreatePaymentIntent::default()
    }
}

fn card_declined() -> serde_json::Value {
    json!({"error": {"type": "card_error", "code": "card_declined",
        "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}})
}

#[tokio::test]
async fn creating_a_payment_intent_sends_stripes_form_and_headers() {
    let fake = FakeStripe::start(KEY).await;
    let stripe = client_for(&fake.base_url, KEY);

    let intent = stripe
        .create_payment_intent(&order_1042(), "order-1042-create")
        .await
        .unwrap();

    assert_eq!(intent.id, "pi_fake_1");
    assert_eq!(
        intent.client_secret.as_deref(),
        Some("pi_fake_1_secret_fake")
    );
    assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(intent.metadata["kentico_order_id"], "1042");
    let [request] = fake.requests().try_into().unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/payment_intents")
    );
    assert_eq!(request.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(request.headers["stripe-version"], DEFAULT_API_VERSION);
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(request.headers["user-agent"].starts_with("paybridge/"));
    assert_eq!(
        request.idempotency_key.as_deref(),
        Some("order-1042-create")
    );
    assert_eq!(request.form_value("amount"), Some("12550"));
    assert_eq!(
        request.form_value("metadata[kentico_order_id]"),
        Some("1042")
    );
    assert_eq!(
        request.form_value("automatic_payment_methods[enabled]"),
        Some("true")
    );
    assert_eq!(
        request.form_value("description"),
        Some("Kentico order 1042")
    );
    assert_eq!(
        request.form_value("shipping[address][line1]"),
        Some("Hauptstraße 1")
    );
    assert_eq!(request.form_value("capture_method"), None);
    let stored = fake.payment_intent("pi_fake_1").unwrap();
    assert_eq!(stored["shipping"]["name"], "Zoë Müller");
    assert_eq!(stored["shipping"]["address"]["country"], "DE");
}

#[tokio::test]
async fn two_rate_limits_then_success_create_one_intent_under_one_idempotency_key() {
    let fake = FakeStripe::start(KEY).await;
    let rate_limited = json!({"error": {"type": "invalid_request_error", "code": "rate_limit",
        "message": "Too many requests"}});
    fake.fail_next(2, 429, rate_limited, None);

    let intent = client_for(&fake.base_url, KEY)
        .create_payment_intent(&order_1042(), "order-1042-create")
        .await
        .unwrap();

    assert_eq!(intent.id, "pi_fake_1");
    assert_eq!(fake.payment_intents().len(), 1);
    let keys: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(keys, vec![Some("order-1042-create".to_owned()); 3]);
}

#[tokio::test]
async fn a_500_that_stripe_says_not_to_retry_is_returned_at_once() {
    let fake = FakeStripe::start(KEY).await;
    let body = json!({"error": {"type": "api_error", "message": "Something went wrong"}});
    fake.fail_next(3, 500, body, Some(false));

    let error = client_for(&fake.base_url, KEY)
        .create_payment_intent(&order_1042(), "order-1042-create")
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(500));
    assert!(!error.is_transient());
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_card_decline_is_a_permanent_api_error_with_its_codes() {
    let fake = FakeStripe::start(KEY).await;
    fake.fail_next(1, 402, card_declined(), None);

    let error = client_for(&fake.base_url, KEY)
        .create_payment_intent(&order_1042(), "order-1042-create")
        .await
        .unwrap_err();

    let StripeError::Api {
        status,
        error_type,
        code,
        decline_code,
        request_id,
        ..
    } = &error
    else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!((*status, error_type.as_str()), (402, "card_error"));
    assert_eq!(code.as_deref(), Some("card_declined"));
    assert_eq!(decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(request_id.as_deref(), Some("req_fake_1"));
    assert!(!error.is_transient());
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn an_unreachable_stripe_is_a_transient_transport_error() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();

    let error = client_for(&format!("http://127.0.0.1:{closed_port}"), KEY)
        .retrieve_balance()
        .await
        .unwrap_err();

    assert!(matches!(error, StripeError::Transport(_)), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_the_error_never_shows_it() {
    let fake = FakeStripe::start(KEY).await;
    let wrong_key = "sk_test_wrong_key_123";

    let error = client_for(&fake.base_url, wrong_key)
        .retrieve_balance()
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(401));
    assert!(!error.is_transient());
    assert!(!error.to_string().contains(wrong_key));
}

#[tokio::test]
async fn a_repeated_idempotency_key_replays_the_first_answer_and_refuses_other_parameters() {
    let fake = FakeStripe::start(KEY).await;
    let stripe = client_for(&fake.base_url, KEY);

    let first = stripe
        .create_payment_intent(&order_1042(), "k-1")
        .await
        .unwrap();
    let replay = stripe
        .create_payment_intent(&order_1042(), "k-1")
        .await
        .unwrap();
    let changed = CreatePaymentIntent {
        amount: 1,
        ..order_1042()
    };
    let misuse = stripe
        .create_payment_intent(&changed, "k-1")
        .await
        .unwrap_err();

    assert_eq!(first, replay);
    assert_eq!(fake.payment_intents().len(), 1);
    assert_eq!(misuse.status(), Some(400));
    assert!(
        matches!(&misuse, StripeError::Api { error_type, .. } if error_type == "idempotency_error")
    );
}

#[tokio::test]
async fn an_intent_is_updated_retrieved_and_canceled() {
    let fake = FakeStripe::start(KEY).await;
    let stripe = client_for(&fake.base_url, KEY);
    let created = stripe
        .create_payment_intent(&order_1042(), "c-1")
        .await
        .unwrap();
    let update = UpdatePaymentIntent {
        amount: Some(13_000),
        description: None,
        metadata: BTreeMap::from([("kentico_order_guid".to_owned(), "9f1c".to_owned())]),
    };

    stripe
        .update_payment_intent(&created.id, &update, "u-1")
        .await
        .unwrap();
    let fetched = stripe.retrieve_payment_intent(&created.id).await.unwrap();
    let canceled = stripe
        .cancel_payment_intent(&created.id, Some("abandoned"), "x-1")
        .await
        .unwrap();
    let missing = stripe.retrieve_payment_intent("pi_nope").await.unwrap_err();

    assert_eq!(fetched.amount, 13_000);
    assert_eq!(fetched.metadata.len(), 2);
    assert_eq!(canceled.status, PaymentIntentStatus::Canceled);
    assert_eq!(canceled.cancellation_reason.as_deref(), Some("abandoned"));
    assert!(
        matches!(&missing, StripeError::Api { status: 404, code: Some(c), .. } if c == "resource_missing")
    );
}

#[tokio::test]
async fn a_succeeded_intent_cannot_be_canceled() {
    let fake = FakeStripe::start(KEY).await;
    let stripe = client_for(&fake.base_url, KEY);
    let created = stripe
        .create_payment_intent(&order_1042(), "c-1")
        .await
        .unwrap();
    fake.set_payment_intent(
        &created.id,
        json!({"status": "succeeded", "amount_received": 12_550}),
    );

    let error = stripe
        .cancel_payment_intent(&created.id, None, "x-1")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StripeError::Api { status: 400, code: Some(c), .. } if c == "payment_intent_unexpected_state")
    );
    assert_eq!(
        fake.payment_intent(&created.id).unwrap()["status"],
        "succeeded"
    );
}

#[tokio::test]
async fn a_checkout_session_is_created_with_indexed_line_items() {
    let fake = FakeStripe::start(KEY).await;
    let metadata = BTreeMap::from([("kentico_order_id".to_owned(), "1042".to_owned())]);
    let params = CreateCheckoutSession {
        mode: "payment".into(),
        line_items: vec![CheckoutLineItem {
            quantity: 2,
            price_data: PriceData {
                currency: "eur".into(),
                unit_amount: 900,
                product_data: ProductData { name: "Mug".into() },
            },
        }],
        success_url: "https://shop.example/ok".into(),
        client_reference_id: Some("1042".into()),
        metadata: metadata.clone(),
        payment_intent_data: Some(PaymentIntentData {
            metadata,
            ..PaymentIntentData::default()
        }),
        ..CreateCheckoutSession::default()
    };

    let session = client_for(&fake.base_url, KEY)
        .create_checkout_session(&params, "order-1042-checkout")
        .await
        .unwrap();

    assert_eq!(session.id, "cs_fake_1");
    assert_eq!(
        session.url.as_deref(),
        Some("https://checkout.stripe.com/c/pay/cs_fake_1")
    );
    assert_eq!(session.client_reference_id.as_deref(), Some("1042"));
    let stored = &fake.checkout_sessions()[0];
    assert_eq!(
        stored["line_items"],
        json!([{"quantity": 2, "price_data": {"currency": "eur",
        "unit_amount": 900, "product_data": {"name": "Mug"}}}])
    );
    let [request] = fake.requests().try_into().unwrap();
    assert_eq!(
        request.form_value("payment_intent_data[metadata][kentico_order_id]"),
        Some("1042")
    );
}

#[tokio::test]
async fn a_charge_comes_with_its_balance_transaction_only_when_expanded() {
    let fake = FakeStripe::start(KEY).await;
    let fixture = |name: &str| -> serde_json::Value {
        let path = repo_root().join(format!("tests/fixtures/stripe/{name}.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    fake.add_charge(fixture("charge"));
    fake.add_balance_transaction(fixture("balance_transaction"));
    let stripe = client_for(&fake.base_url, KEY);

    let expanded = stripe
        .retrieve_charge("ch_1PgafuB7WZ01zgkWXYmPNZs8", true)
        .await
        .unwrap();
    let plain = stripe
        .retrieve_charge("ch_1PgafuB7WZ01zgkWXYmPNZs8", false)
        .await
        .unwrap();
    let balance = stripe.retrieve_balance().await.unwrap();

    let txn = expanded.balance_transaction.unwrap();
    assert_eq!(txn.as_object().map(|t| (t.fee, t.net)), Some((0, 100)));
    assert_eq!(plain.balance_transaction.unwrap().as_object(), None);
    assert_eq!(fake.requests()[0].query, "expand[]=balance_transaction");
    assert_eq!(balance["object"], "balance");
}

fn balance_transaction(id: &str, category: &str, amount: i64, fee: i64) -> serde_json::Value {
    json!({"id": id, "object": "balance_transaction", "amount": amount, "fee": fee,
    "net": amount - fee, "currency": "usd", "created": 1_764_417_600,
    "available_on": 1_764_590_400, "status": "available", "reporting_category": category,
    "type": category, "source": format!("src_{id}"), "exchange_rate": null,
    "fee_details": if fee == 0 { json!([]) } else {
        json!([{"amount": fee, "currency": "usd", "description": "Stripe processing fees", "type": "stripe_fee"}])
    }})
}

#[tokio::test]
async fn a_payouts_transactions_are_read_page_after_page_in_stripes_published_shapes() {
    let stripe = FakeStripe::start(KEY).await;
    let mut paid_out = Vec::new();
    for n in 0..150 {
        let id = format!("txn_charge_{n:03}");
        stripe.add_balance_transaction(balance_transaction(&id, "charge", 1_000, 59));
        paid_out.push(id);
    }
    stripe.add_balance_transaction(balance_transaction("txn_payout", "payout", -141_150, 0));
    paid_out.push("txn_payout".into());
    let ids: Vec<&str> = paid_out.iter().map(String::as_str).collect();
    stripe.add_payout(
        json!({"id": "po_1", "object": "payout", "amount": 141_150, "currency": "usd",
            "status": "paid", "automatic": true, "balance_transaction": "txn_payout",
            "failure_balance_transaction": null, "created": 1_764_590_400}),
        &ids,
    );
    let client = client_for(&stripe.base_url, KEY);

    let transactions = client.payout_balance_transactions("po_1").await.unwrap();
    let payout = client.retrieve_payout("po_1").await.unwrap();

    assert_eq!(transactions.len(), 151, "both pages, nothing twice");
    let mut seen: Vec<&str> = transactions.iter().map(|t| t.id.as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 151);
    let net: i64 = transactions
        .iter()
        .filter(|t| t.kind != "payout")
        .map(|t| t.net)
        .sum();
    assert_eq!(net, payout.amount);
    let own = payout.balance_transaction.unwrap();
    assert!(
        matches!(&own, paybridge::connectors::stripe::Expandable::Object(txn) if txn.amount == -141_150)
    );
    let lists = stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/balance_transactions")
        .count();
    assert_eq!(lists, 2);
}

#[tokio::test]
async fn a_refund_comes_with_its_balance_transactions_and_a_dispute_with_its_own() {
    let stripe = FakeStripe::start(KEY).await;
    stripe.add_balance_transaction(balance_transaction("txn_re", "refund", -4_000, 0));
    stripe.add_balance_transaction(balance_transaction("txn_rf", "refund_failure", 4_000, 0));
    stripe.put_refund(
        json!({"id": "re_1", "object": "refund", "amount": 4_000, "currency": "usd",
        "charge": "ch_1", "payment_intent": "pi_1", "status": "failed",
        "balance_transaction": "txn_re", "failure_balance_transaction": "txn_rf",
        "metadata": {}, "created": 1_764_417_600}),
    );
    stripe.add_dispute(json!({"id": "dp_1", "object": "dispute", "amount": 10_000,
        "currency": "usd", "charge": "ch_1", "payment_intent": "pi_1", "status": "lost",
        "balance_transactions": [balance_transaction("txn_dp", "dispute", -10_000, 1_500)],
        "created": 1_764_417_600}));
    let client = client_for(&stripe.base_url, KEY);

    let refund = client.retrieve_refund("re_1").await.unwrap();
    let dispute = client.retrieve_dispute("dp_1").await.unwrap();
    let txn = client.retrieve_balance_transaction("txn_re").await.unwrap();

    use paybridge::connectors::stripe::Expandable;
    assert!(matches!(refund.balance_transaction, Some(Expandable::Object(t)) if t.id == "txn_re"));
    assert!(
        matches!(refund.failure_balance_transaction, Some(Expandable::Object(t)) if t.amount == 4_000)
    );
    assert_eq!(dispute.balance_transactions[0].fee, 1_500);
    assert_eq!(txn.reporting_category, "refund");
    assert!(client.retrieve_dispute("dp_missing").await.is_err());
}

#[tokio::test]
async fn the_payment_intents_of_a_window_are_read_page_after_page() {
    let stripe = FakeStripe::start(KEY).await;
    let client = client_for(&stripe.base_url, KEY);
    for n in 0..105 {
        let mut params = order_1042();
        params
            .metadata
            .insert("kentico_order_id".into(), n.to_string());
        client
            .create_payment_intent(&params, &format!("paybridge-window-{n}"))
            .await
            .unwrap();
    }

    let all = client
        .payment_intents_since::<PaymentIntent>(0)
        .await
        .unwrap();
    let none = (client.payment_intents_since::<PaymentIntent>(i64::MAX / 2))
        .await
        .unwrap();

    assert_eq!(all.len(), 105);
    let mut ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 105, "nothing twice");
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_customer_is_created_once_per_key_updated_field_by_field_and_found_by_email() {
    use paybridge::connectors::stripe::CustomerParams;

    let fake = FakeStripe::start(KEY).await;
    let stripe = client_for(&fake.base_url, KEY);
    let params = CustomerParams {
        email: Some("zoe+shop@example.com".into()),
        name: Some("Zoë Müller".into()),
        phone: Some("+49 30 1234567".into()),
        address: Some(StripeAddress {
            line1: Some("Hauptstraße 1".into()),
            city: Some("Berlin".into()),
            postal_code: Some("10115".into()),
            country: Some("DE".into()),
            ..StripeAddress::default()
        }),
        metadata: [
            ("kentico_customer_id", "77"),
            ("kentico_customer_guid", "0b1c…"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    };

    let created = stripe.create_customer(&params, "cust-77-v1").await.unwrap();
    let replay = stripe.create_customer(&params, "cust-77-v1").await.unwrap();
    assert_eq!(created, replay, "one customer per key");
    assert_eq!(created.name.as_deref(), Some("Zoë Müller"));
    assert_eq!(created.address.as_ref().unwrap()["city"], "Berlin");
    assert_eq!(
        created
            .metadata
            .get("kentico_customer_id")
            .map(String::as_str),
        Some("77")
    );

    let rename = CustomerParams {
        name: Some("Zoë Schmidt".into()),
        metadata: [("kentico_site".to_string(), "shop".to_string())].into(),
        ..CustomerParams::default()
    };
    let updated = stripe
        .update_customer(&created.id, &rename, "cust-77-v2")
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Zoë Schmidt"));
    assert_eq!(
        updated.email, created.email,
        "a field not sent is left as it is"
    );
    assert_eq!(updated.metadata.len(), 3, "metadata keys merge");
    assert_eq!(
        stripe.retrieve_customer(&created.id).await.unwrap(),
        updated
    );

    let found = stripe
        .customers_by_email("zoe+shop@example.com")
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()]
    );
    assert!(
        stripe
            .customers_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    let gone = stripe.retrieve_customer("cus_missing").await.unwrap_err();
    assert_eq!(gone.status(), Some(404));
}

#[tokio::test]
async fn webhook_endpoints_are_listed_page_after_page_created_with_a_secret_once_and_updated() {
    use paybridge::connectors::stripe::{CreateWebhookEndpoint, UpdateWebhookEndpoint};
    let stripe = FakeStripe::start(KEY).await;
    for n in 0..120 {
        stripe.add_webhook_endpoint(json!({"url": format!("https://shop{n}.example/hook")}));
    }
    let client = client_for(&stripe.base_url, KEY);
    let params = CreateWebhookEndpoint {
        url: "https://pay.example/webhooks/stripe".into(),
        enabled_events: vec!["payout.paid".into(), "refund.created".into()],
        api_version: Some(client.api_version().to_string()),
        description: Some("paybridge".into()),
        metadata: BTreeMap::from([("paybridge".into(), "payment-worker".into())]),
    };

    let created = client
        .create_webhook_endpoint(&params, "we-create-1")
        .await
        .unwrap();
    let again = client
        .create_webhook_endpoint(&params, "we-create-1")
        .await
        .unwrap();
    let listed = client.webhook_endpoints().await.unwrap();
    let updated = client
        .update_webhook_endpoint(
            &created.id,
            &UpdateWebhookEndpoint {
                enabled_events: vec!["payout.failed".into()],
                disabled: Some(true),
            },
            "we-update-1",
        )
        .await
        .unwrap();
    let retrieved = client.retrieve_webhook_endpoint(&created.id).await.unwrap();

    let secret = created.secret.as_ref().expect("a secret on creation");
    assert!(secret.expose().starts_with("whsec_"));
    assert_eq!(
        again.secret, created.secret,
        "the same key replays the answer"
    );
    assert_eq!(listed.len(), 121, "both pages, the replay created nothing");
    assert!(listed.iter().all(|e| e.secret.is_none()));
    assert_eq!(created.api_version.as_deref(), Some(DEFAULT_API_VERSION));
    assert_eq!(updated.enabled_events, ["payout.failed"]);
    assert!(!retrieved.is_enabled() && retrieved.secret.is_none());
    let pages = (stripe.requests().into_iter())
        .filter(|r| r.method == "GET" && r.path == "/v1/webhook_endpoints")
        .count();
    assert_eq!(pages, 2);
}

/// Inside a worker's deadline, a hanging Stripe gets what is left of the invocation, not the
/// client's timeout times its attempts; with too little left, nothing is sent.
#[tokio::test]
async fn a_call_inside_a_deadline_ends_by_it_and_none_is_made_without_time_left() {
    let base = integration_tests::silent_server().await;
    let mut config = StripeConfig::new(SecretString::new(KEY));
    config.api_base = base;
    config.timeout = Duration::from_secs(20);
    config.max_retries = 2;
    let client = StripeClient::new(config).unwrap();

    let started = std::time::Instant::now();
    let end_by = started + Duration::from_millis(1_500);
    let error = paybridge::clock::with_deadline(end_by, client.retrieve_balance())
        .await
        .unwrap_err();
    assert!(matches!(error, StripeError::Transport(_)), "{error}");
    assert!(error.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let error =
        paybridge::clock::with_deadline(std::time::Instant::now(), client.retrieve_balance())
            .await
            .unwrap_err();
    assert!(error.to_string().contains("not sent"), "{error}");
}

/// Stripe (or a proxy in front of it) may say how long to wait: a `Retry-After` no longer than
/// the client's backoff cap (5 s) is waited for instead of the backoff; a longer one, or one the
/// invocation's deadline has no room for, is not: the call fails transiently at once and the
/// message is retried by the queue.
#[tokio::test]
async fn a_429s_retry_after_is_waited_for_and_one_longer_than_the_backoff_cap_is_left_to_the_queue()
{
    use integration_tests::fakes::faults::{FaultKind, FaultPlan};
    let fake = FakeStripe::start(KEY).await;
    let client = client_for(&fake.base_url, KEY);
    let rate_limited = |seconds| {
        FaultPlan::new(Some(1))
            .on(
                "POST",
                "/v1/payment_intents",
                &[(FaultKind::RateLimited(seconds), 1.0)],
            )
            .at_most(1)
    };

    fake.faults.install("stripe", rate_limited(1));
    let started = std::time::Instant::now();
    let intent = client
        .create_payment_intent(&order_1042(), "order-1042-create")
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(intent.id, "pi_fake_1");
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was waited for, not the 5 ms backoff: {waited:?}"
    );
    assert_eq!((fake.faults.requests(), fake.faults.total()), (2, 1));

    fake.faults.install("stripe", rate_limited(30));
    let started = std::time::Instant::now();
    let error = client
        .create_payment_intent(&order_1042(), "order-1043-create")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(429), "{error}");
    assert!(error.is_transient(), "left to the queue: {error}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "no 30 s wait: {took:?}");
    assert_eq!(
        (fake.faults.requests(), fake.faults.total()),
        (3, 2),
        "no second attempt"
    );

    // Within the cap but past the invocation's deadline: not waited for either.
    fake.faults.install("stripe", rate_limited(3));
    let started = std::time::Instant::now();
    let end_by = started + Duration::from_secs(2);
    let error = paybridge::clock::with_deadline(
        end_by,
        client.create_payment_intent(&order_1042(), "order-1044-create"),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status(), Some(429), "{error}");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2_500), "no 3 s wait: {took:?}");
    assert_eq!(fake.faults.requests(), 4, "no second attempt");
    assert_eq!(fake.payment_intents().len(), 1);
}
