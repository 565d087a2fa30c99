//! `paybridge serve` as a real process on loopback, with the Stripe and Kentico fakes: the flow
//! end to end, graceful shutdown, and a `kill -9` in the middle of a burst that loses nothing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use integration_tests::fakes::kentico::FakeKentico;
use integration_tests::fakes::stripe::FakeStripe;
use integration_tests::{now_unix, unique_name};
use paybridge::webhook::signature::sign_header;
use serde_json::{Value, json};

pub const STRIPE_KEY: &str = "sk_test_paybridge_serve";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_paybridge_serve";
pub const KENTICO_WEBHOOK_SECRET: &str = "kentico_serve_webhook_secret";

/// A free port below Linux's ephemeral range (32768–60999): the kill -9 test restarts serve on
/// the same port while its senders keep connecting, and an ephemeral port could meanwhile be
/// taken as the local end of one of those connections.
fn restartable_port() -> u16 {
    for _ in 0..1000 {
        let port = fastrand::u16(20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000");
}

pub fn paybridge_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let binary = target.join("paybridge");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p paybridge-cli` (infra/test.sh does)",
        binary.display()
    );
    binary
}

pub struct Serve {
    pub child: Child,
    pub url: String,
}

pub struct Setup {
    pub stripe: FakeStripe,
    pub kentico: FakeKentico,
    pub data_dir: PathBuf,
    port: u16,
}

impl Setup {
    pub async fn new() -> Setup {
        let data_dir = std::env::temp_dir().join(unique_name("paybridge-serve"));
        let port = restartable_port();
        Setup {
            stripe: FakeStripe::start(STRIPE_KEY).await,
            kentico: FakeKentico::start("paybridge", "kentico-pass").await,
            data_dir,
            port,
        }
    }

    pub async fn serve(&self) -> Serve {
        self.serve_with(&[], &[]).await
    }

    /// Starts `paybridge serve` with extra arguments and environment.
    pub async fn serve_with(&self, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open({
                std::fs::create_dir_all(&self.data_dir).unwrap();
                self.data_dir.join("serve.log")
            })
            .unwrap();
        let mut child = Command::new(paybridge_binary())
            .args(["serve", "--port", &self.port.to_string(), "--data-dir"])
            .arg(&self.data_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("STRIPE_WEBHOOK_SECRETS", STRIPE_WEBHOOK_SECRET)
            .env("KENTICO_WEBHOOK_SECRETS", KENTICO_WEBHOOK_SECRET)
            .env("STRIPE_API_BASE", &self.stripe.base_url)
            .env("STRIPE_SECRET_KEY", STRIPE_KEY)
            .env("KENTICO_BASE_URL", &self.kentico.base_url)
            .env("KENTICO_USERNAME", "paybridge")
            .env("KENTICO_PASSWORD", "kentico-pass")
            .env("RETRY_BASE_SECONDS", "1")
            .env("PAYBRIDGE_VISIBILITY_TIMEOUT_SECONDS", "3")
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&self.data_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("paybridge serve starts");
        let url = format!("http://127.0.0.1:{}", self.port);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = client.get(format!("{url}/healthz")).send().await
                && response.status() == 200
            {
                return Serve { child, url };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "paybridge serve did not become healthy; see {}",
            self.data_dir.join("serve.log").display()
        );
    }
}

pub fn kentico_order(id: i64) -> Value {
    json!({"OrderID": id, "OrderGUID": format!("00000000-0000-4000-8000-{id:012}"), "OrderCurrencyCode": "EUR",
        "OrderGrandTotal": "42.00", "OrderStatusName": "New", "OrderIsPaid": false,
        "OrderItems": [{"OrderItemSKUName": "Filter Pack", "SKUNumber": "FP-20", "OrderItemUnitCount": 2, "OrderItemUnitPrice": "21.00"}]})
}

/// POSTs a signed event until it is accepted (202), as Stripe and the Kentico module retry.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    header: &str,
    secret: &str,
    body: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let signature = sign_header(&[secret], now_unix(), body.as_bytes());
        let sent = client
            .post(format!("{url}{path}"))
            .header(header, signature)
            .body(body.to_string())
            .send()
            .await;
        if let Ok(response) = sent
            && response.status() == 202
        {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never accepted the event");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn order_event(order: &Value) -> String {
    json!({"id": format!("evt-order-{}", order["OrderID"]), "type": "ecommerce.order.created", "created": now_unix(),
        "site": "DancingGoat", "data": {"object": order}})
    .to_string()
}

pub async fn wait_for(what: &str, condition: impl Fn() -> bool) {
    wait_for_within(what, Duration::from_secs(120), condition).await
}

/// [`wait_for`] with its own limit (a long run on a shared machine needs more).
pub async fn wait_for_within(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `paybridge serve` with `KENTICO_PLATFORM=xbyk`: an Xperience by Kentico order event in, its
/// PaymentIntent, the success written through the package's signed endpoint.
#[tokio::test]
async fn serve_runs_order_to_cash_on_xperience_by_kentico() {
    use integration_tests::fakes::xbyk::{FakeXbyk, sample_order};
    let setup = Setup::new().await;
    let package = FakeXbyk::start(&[KENTICO_WEBHOOK_SECRET]).await;
    let guid = "00000000-0000-4000-8000-000000000031";
    package.add_order(sample_order(31, guid));
    let serve = setup
        .serve_with(
            &[],
            &[
                ("KENTICO_PLATFORM", "xbyk"),
                ("KENTICO_BASE_URL", package.base_url.as_str()),
                ("KENTICO_USERNAME", ""),
                ("KENTICO_PASSWORD", ""),
                ("KENTICO_CURRENCY", "EUR"),
            ],
        )
        .await;
    let client = reqwest::Client::new();
    let event = json!({"id": "evt-xbyk-order-31", "type": "ecommerce.order.created",
        "created": now_unix(), "site": "DancingGoat", "platform": "xbyk",
        "data": {"object": sample_order(31, guid)}});
    deliver(
        &client,
        &serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &event.to_string(),
    )
    .await;
    wait_for("the PaymentIntent", || {
        setup.stripe.payment_intents().len() == 1
    })
    .await;
    let intent = setup.stripe.payment_intents()[0].clone();
    assert_eq!(
        (intent["amount"].as_i64(), intent["currency"].as_str()),
        (Some(12_990), Some("eur"))
    );

    let intent = setup
        .stripe
        .succeed_payment_intent(intent["id"].as_str().unwrap());
    let paid = FakeStripe::event_body("evt_serve_xbyk_1", "payment_intent.succeeded", &intent);
    deliver(
        &client,
        &serve.url,
        "/webhooks/stripe",
        "stripe-signature",
        STRIPE_WEBHOOK_SECRET,
        &paid,
    )
    .await;
    wait_for("the Paid status at the package", || {
        package.status_changes(guid) == ["Paid"]
    })
    .await;
    assert!(
        setup.kentico.requests().is_empty(),
        "Kentico 13's REST service was not called"
    );
    assert_eq!(package.refused(), 0, "{:?}", package.requests());
}

#[tokio::test]
async fn serve_runs_order_to_cash_end_to_end_and_stops_gracefully() {
    let setup = Setup::new().await;
    let mut serve = setup.serve().await;
    let client = reqwest::Client::new();
    let order = kentico_order(1);
    setup.kentico.add_order(order.clone());

    deliver(
        &client,
        &serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(&order),
    )
    .await;
    wait_for("the PaymentIntent", || {
        setup.stripe.payment_intents().len() == 1
    })
    .await;
    let intent = setup.stripe.payment_intents()[0].clone();
    assert_eq!(intent["amount"], 4200);
    let intent = setup
        .stripe
        .succeed_payment_intent(intent["id"].as_str().unwrap());
    let event = FakeStripe::event_body("evt_serve_1", "payment_intent.succeeded", &intent);
    deliver(
        &client,
        &serve.url,
        "/webhooks/stripe",
        "stripe-signature",
        STRIPE_WEBHOOK_SECRET,
        &event,
    )
    .await;
    wait_for("the Paid status", || {
        setup
            .kentico
            .order(1)
            .is_some_and(|o| o["OrderStatusID"] == 6)
    })
    .await;

    let metrics = client
        .get(format!("{}/metrics", serve.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains(r#"paybridge_webhook_requests_total{source="kentico",outcome="accepted"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"paybridge_worker_messages_total{worker="payment-worker",event_type="payment_intent.succeeded",outcome="done"} 1"#), "{metrics}");
    assert!(
        metrics.contains(r#"paybridge_queue_messages{queue="kentico-events",state="visible"} 0"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"paybridge_connector_call_seconds_count{service="stripe",operation="POST payment_intents",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"service="kentico",operation="PUT ecommerce.order""#),
        "{metrics}"
    );

    // SIGTERM: stop accepting, finish in-flight work, exit 0.
    let pid = serve.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || serve.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn a_kill_9_during_a_burst_of_200_events_loses_nothing_and_duplicates_nothing() {
    let setup = Setup::new().await;
    for id in 1..=200 {
        setup.kentico.add_order(kentico_order(id));
    }
    let mut serve = setup.serve().await;
    let accepted = Arc::new(AtomicUsize::new(0));
    let url = serve.url.clone();
    let senders: Vec<_> = (0..8)
        .map(|lane| {
            let (url, accepted) = (url.clone(), accepted.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for id in (1..=200).filter(|id| id % 8 == lane) {
                    let body = order_event(&kentico_order(id));
                    deliver(
                        &client,
                        &url,
                        "/webhooks/kentico",
                        "x-kentico-signature",
                        KENTICO_WEBHOOK_SECRET,
                        &body,
                    )
                    .await;
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    wait_for("a third of the burst", || {
        accepted.load(Ordering::SeqCst) >= 70
    })
    .await;
    serve.child.kill().expect("SIGKILL");
    serve.child.wait().unwrap();
    let restarted = setup.serve().await;
    for sender in senders {
        sender.await.unwrap();
    }
    wait_for("200 PaymentIntents", || {
        setup.stripe.payment_intents().len() >= 200
    })
    .await;
    wait_for("200 orders written back", || {
        (1..=200).all(|id| {
            setup.kentico.order(id).is_some_and(|o| {
                o["OrderCustomData"]
                    .as_str()
                    .is_some_and(|d| d.contains("StripePaymentIntent"))
            })
        })
    })
    .await;
    // Give any duplicate a chance to show up before counting.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let intents = setup.stripe.payment_intents();
    assert_eq!(intents.len(), 200, "exactly one PaymentIntent per order");
    let mut orders: Vec<String> = intents
        .iter()
        .map(|pi| {
            pi["metadata"]["kentico_order_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    orders.sort();
    orders.dedup();
    assert_eq!(orders.len(), 200, "every order has its own PaymentIntent");
    drop(restarted);
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serve_with_the_aws_backend_polls_sqs_like_the_event_source_mapping_and_reads_secrets_by_arn()
 {
    let sdk = integration_tests::moto::sdk_config().await;
    let sqs_client = aws_sdk_sqs::Client::new(&sdk);
    let (stripe_queue, stripe_dlq) =
        integration_tests::sqs::create_queue_with_dlq(&sqs_client, "serve-stripe", 25, 30).await;
    let (kentico_queue, kentico_dlq) =
        integration_tests::sqs::create_queue_with_dlq(&sqs_client, "serve-kentico", 25, 30).await;
    let dynamodb_client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = integration_tests::dynamodb::create_idempotency_table(&dynamodb_client).await;
    let ledger_table = integration_tests::dynamodb::create_ledger_table(&dynamodb_client).await;
    // The Kentico webhook secret comes from Secrets Manager, as in a deployment: serve resolves
    // it like the Lambdas do (the plain variable is emptied, so only the ARN is left).
    let secret_arn = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(integration_tests::unique_name("serve-kentico-webhook"))
        .secret_string(format!(
            r#"{{"KENTICO_WEBHOOK_SECRETS":"{KENTICO_WEBHOOK_SECRET}"}}"#
        ))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let setup = Setup::new().await;
    let names = integration_tests::moto::AwsNames {
        stripe: (&stripe_queue, &stripe_dlq),
        kentico: (&kentico_queue, &kentico_dlq),
        table: &table,
        ledger_table: &ledger_table,
    }
    .env();
    let mut env = vec![
        ("KENTICO_WEBHOOK_SECRETS", ""),
        ("KENTICO_WEBHOOK_SECRET_ARN", secret_arn.as_str()),
    ];
    env.extend(names.iter().map(|(k, v)| (*k, v.as_str())));
    let serve = setup.serve_with(&["--backend", "aws"], &env).await;
    let order = kentico_order(21);
    setup.kentico.add_order(order.clone());

    deliver(
        &reqwest::Client::new(),
        &serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(&order),
    )
    .await;
    wait_for("the PaymentIntent", || {
        setup.stripe.payment_intents().len() == 1
    })
    .await;

    let health: Value = reqwest::get(format!("{}/healthz", serve.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["backend"], "aws");
    assert_eq!(health["ingress"]["kentico"], "ready");
    assert_eq!(health["workers"]["order-worker"], "running");
    // The PaymentIntent exists before its id is written to the order: wait for the write.
    wait_for("the PaymentIntent on the order", || {
        setup.kentico.order(21).unwrap()["OrderCustomData"]
            .as_str()
            .is_some_and(|data| data.contains("StripePaymentIntent"))
    })
    .await;
}

#[tokio::test]
async fn metrics_beyond_loopback_need_the_token() {
    let client = reqwest::Client::new();
    let status = |serve: &Serve, token: Option<&str>| {
        let mut request = client.get(format!("{}/metrics", serve.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };

    let setup = Setup::new().await;
    let open = setup.serve().await;
    assert_eq!(status(&open, None).await, 200, "bound to loopback: public");
    drop(open);

    let setup = Setup::new().await;
    let guarded = setup
        .serve_with(
            &["--host", "0.0.0.0"],
            &[("PAYBRIDGE_METRICS_TOKEN", "t0ken-123")],
        )
        .await;
    assert_eq!(status(&guarded, None).await, 401);
    assert_eq!(status(&guarded, Some("wrong")).await, 401);
    assert_eq!(status(&guarded, Some("t0ken-123")).await, 200);
    drop(guarded);

    let setup = Setup::new().await;
    let refused = setup.serve_with(&["--host", "0.0.0.0"], &[]).await;
    assert_eq!(
        status(&refused, Some("anything")).await,
        401,
        "no token: refused"
    );
    let health = client
        .get(format!("{}/healthz", refused.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the health check stays open");
}

#[tokio::test]
async fn serve_logs_json_lines_when_not_on_a_terminal_and_text_without_colours_on_request() {
    let log = |setup: &Setup| std::fs::read_to_string(setup.data_dir.join("serve.log")).unwrap();

    let setup = Setup::new().await;
    drop(setup.serve_with(&[], &[("RUST_LOG", "info")]).await);
    let text = log(&setup);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "serve logged nothing");
    for line in &lines {
        let object: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            object["level"].is_string() && object["message"].is_string(),
            "{line}"
        );
    }
    assert!(text.contains("paybridge serve listening"), "{text}");

    let setup = Setup::new().await;
    drop(
        setup
            .serve_with(&["--log-format", "text"], &[("RUST_LOG", "info")])
            .await,
    );
    let text = log(&setup);
    assert!(text.contains("paybridge serve listening"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a file: {text:?}"
    );
}
