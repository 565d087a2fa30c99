//! The whole system on one machine: ingress handlers, queues and table on moto, both workers
//! polled like Lambda's event source mapping, Stripe and Kentico fakes on loopback.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::fakes::kentico::FakeKentico;
use integration_tests::fakes::stripe::FakeStripe;
use integration_tests::fakes::xbyk::FakeXbyk;
use integration_tests::sqs::ReceivedMessage;
use integration_tests::{apigw, dynamodb, moto, now_unix, sqs};
use paybridge::app::LambdaEnv;
use paybridge::clock::SystemClock;
use paybridge::config::worker::WorkerKind;
use paybridge::ingress::IngressHandler;
use paybridge::ingress::lambda::handle;
use paybridge::metrics::InMemoryMetrics;
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;
use paybridge::worker::{BatchProcessor, BatchReport, SqsPoller};
use serde_json::{Value, json};

pub const STRIPE_KEY: &str = "sk_test_paybridge_e2e";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_paybridge_e2e";
pub const KENTICO_WEBHOOK_SECRET: &str = "kentico_e2e_webhook_secret";
pub const KENTICO_USER: &str = "paybridge";
pub const KENTICO_PASSWORD: &str = "kentico-rest-password";
pub const PAID: i64 = 6;
pub const PAYMENT_FAILED: i64 = 7;

/// How the queues and workers are set up.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// The queues' `maxReceiveCount` (and the workers' `MAX_RECEIVE_COUNT`).
    pub max_receive_count: u32,
    /// A shorter invocation than the 60 s default: (its length, the time a message must have
    /// left to start). Calls are cut to what is left (less the settle margin), as in a Lambda,
    /// so a hanging fake costs a few seconds rather than the clients' 15–20 s timeouts.
    pub invocation: Option<(Duration, Duration)>,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            max_receive_count: 25,
            invocation: None,
        }
    }
}

/// The outcomes of every delivery the workers processed, by worker and outcome label.
#[derive(Debug, Default, Clone)]
pub struct Tally(pub BTreeMap<(&'static str, &'static str), u64>);

impl Tally {
    fn add(&mut self, worker: &'static str, report: &BatchReport) {
        for (_, outcome) in &report.outcomes {
            *self.0.entry((worker, outcome.label())).or_default() += 1;
        }
    }

    /// How many deliveries to `worker` ended with `label` (`done`, `duplicate`, `ignored`, …).
    pub fn get(&self, worker: &str, label: &str) -> u64 {
        (self.0.iter())
            .filter(|((w, l), _)| *w == worker && *l == label)
            .map(|(_, n)| n)
            .sum()
    }

    /// Deliveries that ended their message (every outcome but a retry).
    pub fn ended(&self, worker: &str) -> u64 {
        ["done", "duplicate", "ignored", "dead_lettered"]
            .iter()
            .map(|label| self.get(worker, label))
            .sum()
    }

    pub fn merge(&mut self, other: &Tally) {
        for (key, n) in &other.0 {
            *self.0.entry(*key).or_default() += n;
        }
    }
}

pub struct System {
    pub stripe: FakeStripe,
    pub kentico: FakeKentico,
    /// The Xperience by Kentico package's endpoints, when the system runs with
    /// `KENTICO_PLATFORM=xbyk` ([`System::start_xbyk`]); the Kentico 13 fake then gets no call.
    pub xbyk: Option<FakeXbyk>,
    pub metrics: Arc<InMemoryMetrics>,
    sqs: aws_sdk_sqs::Client,
    stripe_queue: String,
    kentico_queue: String,
    stripe_dlq: String,
    kentico_dlq: String,
    stripe_ingress: IngressHandler,
    kentico_ingress: IngressHandler,
    order_worker: SqsPoller,
    payment_worker: SqsPoller,
    pub order_processor: Arc<BatchProcessor>,
    pub payment_processor: Arc<BatchProcessor>,
    /// The environment the workers were built from (queue URLs, table, fakes).
    pub env: HashMap<String, String>,
}

impl System {
    pub async fn start(extra_env: &[(&str, &str)]) -> System {
        System::start_tuned(extra_env, Tuning::default()).await
    }

    /// The system with `KENTICO_PLATFORM=xbyk`: the workers write through the package fake
    /// (signing with the Kentico webhook secret), orders carry no currency (`KENTICO_CURRENCY`
    /// is EUR), and Kentico 13's REST settings are absent.
    pub async fn start_xbyk(extra_env: &[(&str, &str)]) -> System {
        System::start_on(extra_env, Tuning::default(), true).await
    }

    pub async fn start_tuned(extra_env: &[(&str, &str)], tuning: Tuning) -> System {
        System::start_on(extra_env, tuning, false).await
    }

    async fn start_on(extra_env: &[(&str, &str)], tuning: Tuning, xbyk: bool) -> System {
        let sdk = moto::sdk_config().await;
        let sqs_client = aws_sdk_sqs::Client::new(&sdk);
        let receives = tuning.max_receive_count;
        let (stripe_queue, stripe_dlq) =
            sqs::create_queue_with_dlq(&sqs_client, "stripe-events", receives, 30).await;
        let (kentico_queue, kentico_dlq) =
            sqs::create_queue_with_dlq(&sqs_client, "kentico-events", receives, 30).await;
        let receives = receives.to_string();
        let dynamodb_client = aws_sdk_dynamodb::Client::new(&sdk);
        let table = dynamodb::create_idempotency_table(&dynamodb_client).await;
        let ledger_table = dynamodb::create_ledger_table(&dynamodb_client).await;
        // The journal's envelopes sealed under a KMS key, as template.yaml deploys it.
        let journal_key = integration_tests::kms::create_key(&aws_sdk_kms::Client::new(&sdk)).await;
        let stripe = FakeStripe::start(STRIPE_KEY).await;
        let kentico = FakeKentico::start(KENTICO_USER, KENTICO_PASSWORD).await;
        let mut env: HashMap<String, String> = [
            ("STRIPE_EVENTS_QUEUE_URL", stripe_queue.as_str()),
            ("STRIPE_EVENTS_DLQ_URL", stripe_dlq.as_str()),
            ("KENTICO_EVENTS_QUEUE_URL", kentico_queue.as_str()),
            ("KENTICO_EVENTS_DLQ_URL", kentico_dlq.as_str()),
            ("STRIPE_WEBHOOK_SECRETS", STRIPE_WEBHOOK_SECRET),
            ("KENTICO_WEBHOOK_SECRETS", KENTICO_WEBHOOK_SECRET),
            ("IDEMPOTENCY_TABLE_NAME", table.as_str()),
            ("LEDGER_TABLE_NAME", ledger_table.as_str()),
            ("JOURNAL_KMS_KEY_ID", journal_key.as_str()),
            ("STRIPE_API_BASE", stripe.base_url.as_str()),
            ("STRIPE_SECRET_KEY", STRIPE_KEY),
            ("KENTICO_BASE_URL", kentico.base_url.as_str()),
            ("KENTICO_USERNAME", KENTICO_USER),
            ("KENTICO_PASSWORD", KENTICO_PASSWORD),
            (
                "CHECKOUT_SUCCESS_URL",
                "https://shop.example/checkout/thank-you",
            ),
            // Retry at once: the tests drain the queues in a loop instead of waiting minutes.
            ("RETRY_BASE_SECONDS", "0"),
            ("MAX_RECEIVE_COUNT", receives.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let xbyk = match xbyk {
            false => None,
            true => {
                let fake = FakeXbyk::start(&[KENTICO_WEBHOOK_SECRET]).await;
                env.remove("KENTICO_USERNAME");
                env.remove("KENTICO_PASSWORD");
                env.insert("KENTICO_PLATFORM".into(), "xbyk".into());
                env.insert("KENTICO_BASE_URL".into(), fake.base_url.clone());
                env.insert("KENTICO_CURRENCY".into(), "EUR".into());
                Some(fake)
            }
        };
        for (k, v) in extra_env {
            env.insert(k.to_string(), v.to_string());
        }
        let settings = env.clone();
        let env = move |name: &str| env.get(name).cloned();
        let metrics = Arc::new(InMemoryMetrics::new());
        let clock = Arc::new(SystemClock);
        let lambda = LambdaEnv {
            env: &env,
            sdk: sdk.clone(),
            metrics: metrics.clone(),
            clock: clock.clone(),
        };
        let ingress = |source| paybridge::app::lambda::ingress_with(source, &lambda);
        let stripe_ingress = ingress(Source::Stripe)
            .await
            .expect("stripe ingress starts");
        let kentico_ingress = ingress(Source::Kentico)
            .await
            .expect("kentico ingress starts");
        let lambda = &lambda;
        let worker = |kind| async move {
            let processor = paybridge::app::lambda::worker_with(kind, lambda)
                .await
                .expect("the worker starts");
            match tuning.invocation {
                Some((_, reserve)) => Arc::new(processor.with_invocation_deadline(reserve)),
                None => Arc::new(processor),
            }
        };
        let order_processor = worker(WorkerKind::Order).await;
        let payment_processor = worker(WorkerKind::Payment).await;
        let poller = |queue: &str, processor: Arc<BatchProcessor>| {
            let mut poller = SqsPoller::new(sqs_client.clone(), queue, processor);
            poller.wait_seconds = 0;
            if let Some((length, _)) = tuning.invocation {
                poller.invocation_timeout = length;
            }
            poller
        };
        System {
            order_worker: poller(&kentico_queue, order_processor.clone()),
            payment_worker: poller(&stripe_queue, payment_processor.clone()),
            order_processor,
            payment_processor,
            env: settings,
            stripe,
            kentico,
            xbyk,
            metrics,
            sqs: sqs_client,
            stripe_queue,
            kentico_queue,
            stripe_dlq,
            kentico_dlq,
            stripe_ingress,
            kentico_ingress,
        }
    }

    /// POSTs a signed Kentico event for `order` (also stored at the fake Kentico); returns the status.
    pub async fn kentico_order_event(&self, event_type: &str, order: &Value) -> u16 {
        self.post_kentico(&kentico_event_body(&self.kentico, event_type, order))
            .await
    }

    /// POSTs a signed Xperience by Kentico event (`"platform": "xbyk"`) for `order`, stored at
    /// the package fake first as the app holds it; returns the status.
    pub async fn xbyk_order_event(&self, event_type: &str, order: &Value) -> u16 {
        self.post_kentico(&xbyk_event_body(self.package(), event_type, order))
            .await
    }

    /// The package fake of a system started with [`System::start_xbyk`].
    pub fn package(&self) -> &FakeXbyk {
        self.xbyk
            .as_ref()
            .expect("the system runs with KENTICO_PLATFORM=xbyk")
    }

    /// POSTs a signed Stripe event carrying `intent` (as `data.object`); returns the status.
    pub async fn stripe_event(&self, event_type: &str, intent: &Value) -> u16 {
        let id = format!("evt_{}", uuid_like().replace('-', ""));
        self.post_stripe(&FakeStripe::event_body(&id, event_type, intent))
            .await
    }

    /// POSTs `body` to the Kentico webhook, signed; returns the status.
    pub async fn post_kentico(&self, body: &str) -> u16 {
        let (secret, header) = (KENTICO_WEBHOOK_SECRET, "x-kentico-signature");
        post(
            &self.kentico_ingress,
            "/webhooks/kentico",
            header,
            secret,
            body,
        )
        .await
    }

    /// POSTs `body` to the Stripe webhook, signed; returns the status.
    pub async fn post_stripe(&self, body: &str) -> u16 {
        let (secret, header) = (STRIPE_WEBHOOK_SECRET, "stripe-signature");
        post(
            &self.stripe_ingress,
            "/webhooks/stripe",
            header,
            secret,
            body,
        )
        .await
    }

    /// The ingress handler of `source`, as the webhook Lambda runs it.
    pub fn ingress(&self, source: Source) -> &IngressHandler {
        if source == Source::Kentico {
            &self.kentico_ingress
        } else {
            &self.stripe_ingress
        }
    }

    /// The fake's PaymentIntent with `patch` applied (what Stripe would send in an event).
    pub fn intent_with(&self, id: &str, patch: Value) -> Value {
        self.stripe.set_payment_intent(id, patch);
        self.stripe
            .payment_intent(id)
            .expect("the PaymentIntent exists")
    }

    /// Runs both workers until both queues stay empty.
    pub async fn drain(&self) {
        let mut quiet_rounds = 0;
        for _ in 0..200 {
            let orders = self
                .order_worker
                .poll_once()
                .await
                .expect("polls kentico-events");
            let payments = self
                .payment_worker
                .poll_once()
                .await
                .expect("polls stripe-events");
            if orders.outcomes.is_empty() && payments.outcomes.is_empty() {
                quiet_rounds += 1;
                if quiet_rounds == 2 {
                    return;
                }
            } else {
                quiet_rounds = 0;
            }
        }
        panic!("the queues did not drain");
    }

    /// Runs both workers side by side (as two event source mappings would) until both queues
    /// are empty, messages waiting out a backoff included; panics after `limit`. Returns every
    /// delivery's outcome.
    pub async fn drain_within(&self, limit: Duration) -> Tally {
        let end = Instant::now() + limit;
        let mut tally = Tally::default();
        loop {
            let (orders, payments) = tokio::join!(
                self.order_worker.poll_once(),
                self.payment_worker.poll_once()
            );
            let orders = orders.expect("polls kentico-events");
            let payments = payments.expect("polls stripe-events");
            tally.add("order-worker", &orders);
            tally.add("payment-worker", &payments);
            if orders.outcomes.is_empty() && payments.outcomes.is_empty() {
                if self.queued(&self.kentico_queue).await + self.queued(&self.stripe_queue).await
                    == 0
                {
                    return tally;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            assert!(
                Instant::now() < end,
                "the queues did not drain within {limit:?}: {tally:?}"
            );
        }
    }

    /// One poll of the payment worker (one batch of stripe-events, if any).
    pub async fn poll_payments_once(&self) -> Tally {
        let mut tally = Tally::default();
        let report = (self.payment_worker.poll_once().await).expect("polls stripe-events");
        tally.add("payment-worker", &report);
        tally
    }

    /// Messages on the queue: visible, in flight or waiting out a backoff, or delayed.
    async fn queued(&self, queue: &str) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attributes = (self.sqs.get_queue_attributes().queue_url(queue))
            .attribute_names(A::All)
            .send()
            .await
            .expect("moto answers")
            .attributes
            .unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
            A::ApproximateNumberOfMessagesDelayed,
        ]
        .iter()
        .filter_map(|name| attributes.get(name)?.parse::<u64>().ok())
        .sum()
    }

    /// The dead letters of `source`'s queue, left on it.
    pub async fn dead_letters(&self, source: Source) -> Vec<ReceivedMessage> {
        let dlq = if source == Source::Stripe {
            &self.stripe_dlq
        } else {
            &self.kentico_dlq
        };
        sqs::peek_all(&self.sqs, dlq).await
    }

    /// The PaymentIntents created at the fake, in creation order.
    pub fn created_intents(&self) -> Vec<Value> {
        self.stripe.payment_intents()
    }

    pub fn worker_count(&self, worker: &str, event_type: &str, outcome: &str) -> u64 {
        self.metrics.count(
            "WorkerMessages",
            &[
                ("Worker", worker),
                ("EventType", event_type),
                ("Outcome", outcome),
            ],
        )
    }
}

/// `body` signed with `secret` in `header`, through `ingress` as API Gateway delivers it.
async fn post(ingress: &IngressHandler, path: &str, header: &str, secret: &str, body: &str) -> u16 {
    let signature = sign_header(&[secret], now_unix(), body.as_bytes());
    let event = apigw::event(
        "POST",
        path,
        &[(header, &signature)],
        body.as_bytes(),
        false,
    );
    handle(ingress, apigw::request(&event))
        .await
        .status()
        .as_u16()
}

/// A Kentico webhook body for `order` as it now is: what paybridge wrote to it stays (the order
/// is merged into the fake Kentico's copy first, as Kentico sends its current state).
pub fn kentico_event_body(kentico: &FakeKentico, event_type: &str, order: &Value) -> String {
    let stored = order["OrderID"].as_i64().and_then(|id| kentico.order(id));
    let mut current = stored.unwrap_or_else(|| json!({}));
    for (k, v) in order.as_object().into_iter().flatten() {
        current[k] = v.clone();
    }
    kentico.add_order(current);
    json!({
        "id": uuid_like(), "type": event_type, "created": now_unix(), "site": "DancingGoat",
        "data": {"object": order}
    })
    .to_string()
}

/// An Xperience by Kentico webhook body for `order`, which is merged into the package fake's
/// copy first (what paybridge wrote there and `order` does not name stays).
pub fn xbyk_event_body(package: &FakeXbyk, event_type: &str, order: &Value) -> String {
    let guid = order["OrderGUID"].as_str().expect("the order has a GUID");
    let mut current = package.order(guid).unwrap_or_else(|| json!({}));
    for (k, v) in order.as_object().into_iter().flatten() {
        current[k] = v.clone();
    }
    package.add_order(current);
    json!({
        "id": uuid_like(), "type": event_type, "created": now_unix(), "site": "DancingGoat",
        "platform": "xbyk", "data": {"object": order}
    })
    .to_string()
}

pub fn uuid_like() -> String {
    let n = fastrand::u128(..);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A Kentico order like the Dancing Goat sample: two items, shipped to the United Kingdom.
pub fn order(id: i64, currency: &str, unit_prices: (&str, &str), grand_total: &str) -> Value {
    let (grinder, filters) = unit_prices;
    json!({
        "OrderID": id, "OrderGUID": uuid_like(), "OrderCustomerID": 77, "OrderCurrencyCode": currency,
        "OrderGrandTotal": grand_total, "OrderStatusName": "New", "OrderIsPaid": false,
        "OrderItems": [
            {"OrderItemSKUID": 501, "OrderItemSKUName": "Espresso Grinder", "SKUNumber": "EG-100", "OrderItemUnitCount": 2, "OrderItemUnitPrice": grinder},
            {"OrderItemSKUID": 502, "OrderItemSKUName": "Filter Pack", "SKUNumber": "FP-20", "OrderItemUnitCount": 1, "OrderItemUnitPrice": filters}
        ],
        "OrderShippingAddress": {"AddressPersonalName": "Ada Lovelace", "AddressLine1": "12 St James's Square", "AddressLine2": "",
            "AddressCity": "London", "AddressZip": "sw1y 4jh", "AddressState": "", "AddressCountry": "United Kingdom", "AddressPhone": "+44 20 7946 0000"},
        "Customer": {"CustomerID": 77, "CustomerEmail": "ada@example.com", "CustomerFirstName": "Ada", "CustomerLastName": "Lovelace"}
    })
}

/// The Kentico order's `OrderCustomData` as written by paybridge.
pub fn custom_data(kentico: &FakeKentico, order_id: i64) -> String {
    kentico
        .order(order_id)
        .and_then(|o| o["OrderCustomData"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Posts `ecommerce.order.created` for each order id; returns how many ingress accepted.
pub async fn place_orders(system: &System, ids: &[i64]) -> u64 {
    let mut accepted = 0;
    for id in ids {
        let order = order(*id, "USD", ("10.00", "5.00"), "25.00");
        let status = system
            .kentico_order_event("ecommerce.order.created", &order)
            .await;
        assert_eq!(status, 202, "order {id}");
        accepted += 1;
    }
    accepted
}

/// Each order's PaymentIntents at the Stripe fake, by `metadata.kentico_order_id`.
pub fn intents_by_order(system: &System) -> BTreeMap<i64, Vec<Value>> {
    let mut by_order: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for intent in system.created_intents() {
        let id = intent["metadata"]["kentico_order_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or(-1);
        by_order.entry(id).or_default().push(intent);
    }
    by_order
}

/// The one PaymentIntent of `order_id`'s.
pub fn intent_of(system: &System, order_id: i64) -> Value {
    let by_order = intents_by_order(system);
    let intents = by_order.get(&order_id).cloned().unwrap_or_default();
    assert_eq!(intents.len(), 1, "order {order_id}: {intents:?}");
    intents[0].clone()
}

/// Marks each order's PaymentIntent succeeded and posts `payment_intent.succeeded`; returns
/// how many ingress accepted.
pub async fn pay_orders(system: &System, ids: &[i64]) -> u64 {
    let mut accepted = 0;
    for id in ids {
        let intent = intent_of(system, *id);
        let pi = intent["id"].as_str().expect("an id");
        let amount = intent["amount"].clone();
        let succeeded = system.intent_with(
            pi,
            json!({"status": "succeeded", "amount_received": amount}),
        );
        let status = system
            .stripe_event("payment_intent.succeeded", &succeeded)
            .await;
        assert_eq!(status, 202, "order {id}");
        accepted += 1;
    }
    accepted
}

/// The writes of `OrderStatusID` = `status` that reached the Kentico fake, by order id.
pub fn status_writes(system: &System, status: i64) -> BTreeMap<i64, u64> {
    let mut writes = BTreeMap::new();
    for request in system.kentico.requests() {
        let written =
            (request.body.as_ref()).and_then(|b| b["ecommerce.order"]["OrderStatusID"].as_i64());
        let id = request.path.strip_prefix("/rest/ecommerce.order/");
        if let (true, Some(id), Some(written)) = (request.method == "PUT", id, written)
            && written == status
            && let Ok(id) = id.parse::<i64>()
        {
            *writes.entry(id).or_default() += 1;
        }
    }
    writes
}
