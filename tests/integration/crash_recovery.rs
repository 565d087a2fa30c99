//! Crash recovery under fire: `paybridge serve` killed with SIGKILL at random moments while
//! order and payment events pour in, restarted each time. Nothing may be lost and nothing done
//! twice: one PaymentIntent per order at the Stripe fake, every order marked Paid once at the
//! Kentico fake.
//!
//! The same for the worker Lambdas: the real order-worker and payment-worker binaries under a
//! loopback Lambda Runtime API on moto, fed by an emulated SQS event source mapping, killed
//! mid-batch and cold-started again.
//!
//! CI runs 500 orders (1,000 events) and 10 kills; `PAYBRIDGE_LONG_SCENARIOS=1` runs 1,000
//! orders (2,000 events) and 30 kills (figures in docs/RELIABILITY.md).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use integration_tests::fakes::stripe::FakeStripe;
use integration_tests::runtime_api::{Invocation, RuntimeApi};
use tokio::sync::Mutex;

use crate::order_to_cash::harness::System;
use crate::serve_process::{
    KENTICO_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, Serve, Setup, deliver, kentico_order,
    order_event, paybridge_binary, wait_for_within,
};

const PAID: i64 = 6;

fn long() -> bool {
    std::env::var("PAYBRIDGE_LONG_SCENARIOS").is_ok_and(|v| v == "1")
}

/// Kills `serve` with SIGKILL after a random pause and starts it again, `kills` times, until
/// `done`; returns how many kills it made.
async fn killer(
    setup: Arc<Setup>,
    serve: Arc<Mutex<Serve>>,
    done: Arc<AtomicBool>,
    kills: usize,
    seed: u64,
) -> usize {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut made = 0;
    while made < kills {
        tokio::time::sleep(Duration::from_millis(rng.u64(100..500))).await;
        if done.load(Ordering::SeqCst) {
            break;
        }
        let mut running = serve.lock().await;
        running.child.kill().expect("SIGKILL");
        running.child.wait().expect("reaped");
        *running = setup.serve().await;
        made += 1;
    }
    made
}

/// One phase of the run: what to send where, and when it is over.
struct Phase<'a> {
    path: &'static str,
    header: &'static str,
    secret: &'static str,
    bodies: Vec<String>,
    finished: &'a (dyn Fn() -> bool + Sync),
}

/// Sends every body over 8 lanes (retrying each until accepted, as the senders do) and waits
/// until the phase is finished, with up to `kills` SIGKILLs of serve at random moments in
/// between (while events arrive and while the workers work them off); returns the kills made.
async fn under_fire(
    setup: &Arc<Setup>,
    serve: &Arc<Mutex<Serve>>,
    phase: Phase<'_>,
    kills: usize,
    seed: u64,
) -> usize {
    let url = serve.lock().await.url.clone();
    let bodies = Arc::new(phase.bodies);
    let done = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let killer = tokio::spawn(killer(
        setup.clone(),
        serve.clone(),
        done.clone(),
        kills,
        seed,
    ));
    let (path, header, secret) = (phase.path, phase.header, phase.secret);
    let lanes: Vec<_> = (0..8)
        .map(|lane| {
            let (url, bodies, accepted) = (url.clone(), bodies.clone(), accepted.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for body in bodies.iter().skip(lane).step_by(8) {
                    deliver(&client, &url, path, header, secret, body).await;
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), bodies.len());
    // 500 orders with a restart every few seconds: minutes on a busy 2-core machine.
    wait_for_within(path, Duration::from_secs(480), phase.finished).await;
    done.store(true, Ordering::SeqCst);
    killer.await.unwrap()
}

#[tokio::test]
async fn serve_killed_at_random_moments_during_a_run_loses_nothing_and_does_nothing_twice() {
    let (orders, kills_per_phase) = if long() { (1_000, 15) } else { (500, 5) };
    let setup = Arc::new(Setup::new().await);
    for id in 1..=orders {
        setup.kentico.add_order(kentico_order(id));
    }
    let serve = Arc::new(Mutex::new(setup.serve().await));

    // Phase 1: the orders' events, serve killed now and then.
    let all_intents = || setup.stripe.payment_intents().len() >= orders as usize;
    let phase = Phase {
        path: "/webhooks/kentico",
        header: "x-kentico-signature",
        secret: KENTICO_WEBHOOK_SECRET,
        bodies: (1..=orders)
            .map(|id| order_event(&kentico_order(id)))
            .collect(),
        finished: &all_intents,
    };
    let mut kills = under_fire(&setup, &serve, phase, kills_per_phase, 13).await;

    // Phase 2: the customers pay; the payment events, serve killed again.
    let all_paid = || {
        (1..=orders).all(|id| (setup.kentico.order(id)).is_some_and(|o| o["OrderStatusID"] == PAID))
    };
    let phase = Phase {
        path: "/webhooks/stripe",
        header: "stripe-signature",
        secret: STRIPE_WEBHOOK_SECRET,
        bodies: (setup.stripe.payment_intents().iter())
            .map(|intent| {
                let id = intent["id"].as_str().unwrap();
                let paid = setup.stripe.succeed_payment_intent(id);
                FakeStripe::event_body(
                    &format!("evt_crash_{id}"),
                    "payment_intent.succeeded",
                    &paid,
                )
            })
            .collect(),
        finished: &all_paid,
    };
    kills += under_fire(&setup, &serve, phase, kills_per_phase, 31).await;
    // Give a duplicate the chance to show up (past serve's 3 s visibility timeout).
    tokio::time::sleep(Duration::from_secs(5)).await;

    let intents = setup.stripe.payment_intents();
    let mut per_order: BTreeMap<String, usize> = BTreeMap::new();
    for intent in &intents {
        let order = intent["metadata"]["kentico_order_id"].as_str().unwrap();
        *per_order.entry(order.to_string()).or_default() += 1;
    }
    let mut paid_writes: BTreeMap<String, usize> = BTreeMap::new();
    for request in setup.kentico.requests() {
        let sets_paid = request.method == "PUT"
            && request.path.starts_with("/rest/ecommerce.order/")
            && (request.body.as_ref())
                .is_some_and(|b| b["ecommerce.order"]["OrderStatusID"] == PAID);
        if sets_paid {
            *paid_writes.entry(request.path.clone()).or_default() += 1;
        }
    }
    let twice: Vec<_> = per_order.iter().filter(|(_, n)| **n > 1).collect();
    let written_twice: Vec<_> = paid_writes.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "| orders | events | SIGKILLs | PaymentIntents | orders with one | Paid writes | orders written Paid twice |\n\
         | {orders} | {} | {kills} | {} | {} | {} | {} |",
        orders * 2,
        intents.len(),
        per_order.values().filter(|n| **n == 1).count(),
        paid_writes.values().sum::<usize>(),
        written_twice.len(),
    );
    assert!(
        kills >= 2 * kills_per_phase - 2,
        "only {kills} kills were made"
    );
    assert_eq!(
        per_order.len(),
        orders as usize,
        "every order has a PaymentIntent"
    );
    assert!(
        twice.is_empty(),
        "orders with two PaymentIntents: {twice:?}"
    );
    assert_eq!(
        paid_writes.len(),
        orders as usize,
        "every order written Paid"
    );
    assert!(
        written_twice.is_empty(),
        "orders written Paid twice: {written_twice:?}"
    );
}

/// The connectors' timeouts the functions run with here (`STRIPE_TIMEOUT_SECONDS`,
/// `KENTICO_TIMEOUT_SECONDS`): lowered, as a deployment with a shorter Lambda timeout would, so
/// the start reserve is 5 + 5 + 2 = 12 s (worker::budget::TimeBudget).
const CONNECTOR_TIMEOUT_SECONDS: &str = "5";
/// The Lambda function's timeout in this test: a little more than the start reserve.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(15);
/// The event source mapping's visibility timeout: past the timeout, as template.yaml's is, so a
/// batch whose process was killed comes back once its idempotency leases have lapsed.
const MAPPING_VISIBILITY_SECONDS: i32 = 17;
/// How long a worker's queue may take to drain: each kill strands a batch for the visibility
/// timeout; the rest is slack for a loaded machine.
const DRAIN_DEADLINE: Duration = Duration::from_secs(600);

/// A worker function's process under the loopback Runtime API.
struct Function {
    binary: &'static str,
    env: Vec<(String, String)>,
    api: Arc<RuntimeApi>,
    child: std::process::Child,
}

impl Function {
    async fn start(binary: &'static str, system: &System) -> Function {
        let mut env: Vec<(String, String)> = system.env.clone().into_iter().collect();
        for (k, v) in [
            ("AWS_ENDPOINT_URL", integration_tests::moto::endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            (
                "AWS_LAMBDA_FUNCTION_NAME",
                format!("paybridge-test-{binary}"),
            ),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{binary}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test".into()),
            ("RUST_LOG", "warn".into()),
            ("STRIPE_TIMEOUT_SECONDS", CONNECTOR_TIMEOUT_SECONDS.into()),
            ("KENTICO_TIMEOUT_SECONDS", CONNECTOR_TIMEOUT_SECONDS.into()),
        ] {
            env.push((k.to_string(), v));
        }
        let api = Arc::new(RuntimeApi::start().await);
        let child = Self::spawn(binary, &env, &api);
        Function {
            binary,
            env,
            api,
            child,
        }
    }

    fn spawn(binary: &str, env: &[(String, String)], api: &RuntimeApi) -> std::process::Child {
        let path = paybridge_binary().with_file_name(binary);
        assert!(
            path.exists(),
            "{} is missing: run `cargo build -p {binary}` (infra/test.sh does)",
            path.display()
        );
        std::process::Command::new(path)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the function starts")
    }

    /// SIGKILL mid-whatever, then a cold start on a fresh Runtime API: what Lambda does when a
    /// sandbox dies (the invocation in flight ends without an answer).
    async fn kill_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        self.api.fail_pending();
        self.api = Arc::new(RuntimeApi::start().await);
        self.child = Self::spawn(self.binary, &self.env, &self.api);
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One receive of the event source mapping as the SQS event Lambda would pass.
fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> serde_json::Value {
    use aws_sdk_sqs::types::MessageSystemAttributeName;
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let count = (m.attributes())
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .cloned()
                .unwrap_or_else(|| "1".into());
            let attributes: serde_json::Map<String, serde_json::Value> = (m.message_attributes())
                .into_iter()
                .flatten()
                .filter_map(|(name, value)| {
                    let text = value.string_value()?;
                    Some((
                        name.clone(),
                        serde_json::json!({"stringValue": text, "dataType": "String",
                            "stringListValues": [], "binaryListValues": []}),
                    ))
                })
                .collect();
            serde_json::json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "md5OfBody": m.md5_of_body(),
                "attributes": {"ApproximateReceiveCount": count, "SentTimestamp": "0",
                    "SenderId": "test", "ApproximateFirstReceiveTimestamp": "0"},
                "messageAttributes": attributes, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test", "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// Lambda's SQS event source mapping, one poller: receives up to 10 messages, invokes the
/// function, deletes what it did not report as failed; a batch without an answer (the process
/// died) is left to come back after the visibility timeout. Runs until `finished`, killing the
/// function `kills` times at random moments; returns (invocations, unanswered, kills).
async fn map_queue_to_function(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    function: Function,
    kills: usize,
    seed: u64,
    finished: &(dyn Fn() -> bool + Sync),
) -> (usize, usize, usize) {
    use aws_sdk_sqs::types::MessageSystemAttributeName;
    let function = Arc::new(Mutex::new(function));
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let (function, done) = (function.clone(), done.clone());
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut made = 0;
            while made < kills && !done.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(rng.u64(200..1_200))).await;
                function.lock().await.kill_and_restart().await;
                made += 1;
            }
            made
        })
    };
    let (mut invocations, mut unanswered) = (0, 0);
    let deadline = std::time::Instant::now() + DRAIN_DEADLINE;
    while !finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "the queue never drained"
        );
        let messages = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(MAPPING_VISIBILITY_SECONDS)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .expect("moto receives")
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let api = function.lock().await.api.clone();
        invocations += 1;
        let failed: Vec<String> = match api.invoke(sqs_event(&messages), LAMBDA_TIMEOUT).await {
            Invocation::Response(answer) => (answer["batchItemFailures"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                .collect(),
            Invocation::Error(_) | Invocation::NoAnswer => {
                unanswered += 1;
                continue;
            }
        };
        for message in &messages {
            if !failed
                .iter()
                .any(|id| Some(id.as_str()) == message.message_id())
            {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("moto deletes");
            }
        }
    }
    done.store(true, Ordering::SeqCst);
    let kills = killer.await.unwrap();
    (invocations, unanswered, kills)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_lambdas_killed_mid_batch_lose_nothing_and_do_nothing_twice() {
    let (orders, kills) = if long() { (200, 5) } else { (60, 2) };
    let system = System::start(&[]).await;
    let sqs = aws_sdk_sqs::Client::new(&integration_tests::moto::sdk_config().await);
    for id in 1..=orders {
        let order = crate::order_to_cash::harness::order(id, "EUR", ("10.00", "5.00"), "25.00");
        assert_eq!(
            system
                .kentico_order_event("ecommerce.order.created", &order)
                .await,
            202
        );
    }

    let order_worker = Function::start("order-worker", &system).await;
    let all_intents = || system.created_intents().len() >= orders as usize;
    let (order_invocations, order_unanswered, order_kills) = map_queue_to_function(
        &sqs,
        &system.env["KENTICO_EVENTS_QUEUE_URL"],
        order_worker,
        kills,
        7,
        &all_intents,
    )
    .await;

    for intent in system.created_intents() {
        let id = intent["id"].as_str().unwrap();
        let paid = system.intent_with(id, serde_json::json!({"status": "succeeded"}));
        assert_eq!(
            system.stripe_event("payment_intent.succeeded", &paid).await,
            202
        );
    }
    let payment_worker = Function::start("payment-worker", &system).await;
    let all_paid = || {
        (1..=orders)
            .all(|id| (system.kentico.order(id)).is_some_and(|o| o["OrderStatusID"] == PAID))
    };
    let (payment_invocations, payment_unanswered, payment_kills) = map_queue_to_function(
        &sqs,
        &system.env["STRIPE_EVENTS_QUEUE_URL"],
        payment_worker,
        kills,
        11,
        &all_paid,
    )
    .await;

    let mut per_order: BTreeMap<String, usize> = BTreeMap::new();
    for intent in system.created_intents() {
        let order = intent["metadata"]["kentico_order_id"].as_str().unwrap();
        *per_order.entry(order.to_string()).or_default() += 1;
    }
    let mut paid_writes: BTreeMap<String, usize> = BTreeMap::new();
    for request in system.kentico.requests() {
        let sets_paid = request.method == "PUT"
            && (request.body.as_ref())
                .is_some_and(|b| b["ecommerce.order"]["OrderStatusID"] == PAID);
        if sets_paid {
            *paid_writes.entry(request.path.clone()).or_default() += 1;
        }
    }
    eprintln!(
        "| worker | invocations | unanswered (killed) | SIGKILLs |\n\
         | order-worker | {order_invocations} | {order_unanswered} | {order_kills} |\n\
         | payment-worker | {payment_invocations} | {payment_unanswered} | {payment_kills} |\n\
         orders {orders}: PaymentIntents {}, orders with one {}, Paid writes {}",
        per_order.values().sum::<usize>(),
        per_order.values().filter(|n| **n == 1).count(),
        paid_writes.values().sum::<usize>(),
    );
    assert_eq!(
        order_kills + payment_kills,
        2 * kills,
        "every kill was made"
    );
    assert_eq!(per_order.len(), orders as usize);
    assert!(per_order.values().all(|n| *n == 1), "{per_order:?}");
    assert_eq!(paid_writes.len(), orders as usize);
    assert!(paid_writes.values().all(|n| *n == 1), "{paid_writes:?}");
}
