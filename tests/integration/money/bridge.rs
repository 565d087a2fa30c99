//! One interface over the two ways paybridge runs, so each money scenario is written once: the
//! Lambda path on moto, and a real `paybridge serve` process on its embedded store.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use integration_tests::fakes::kentico::FakeKentico;
use integration_tests::fakes::stripe::FakeStripe;
use integration_tests::now_unix;
use paybridge::metrics::snake_case;
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;
use serde_json::Value;

use crate::order_to_cash::harness::{System, kentico_event_body, uuid_like};
use crate::serve_process::{
    self, KENTICO_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, Setup, paybridge_binary,
};

/// A running paybridge between the Stripe and Kentico fakes.
#[async_trait::async_trait]
pub trait Bridge: Send + Sync {
    fn stripe(&self) -> &FakeStripe;
    fn kentico(&self) -> &FakeKentico;
    /// POSTs a signed Kentico webhook body; the HTTP status.
    async fn post_kentico(&self, body: &str) -> u16;
    /// POSTs a signed Stripe webhook body; the HTTP status.
    async fn post_stripe(&self, body: &str) -> u16;
    /// Returns once both workers have nothing left to do.
    async fn drain(&self);
    /// The attributes of every dead-lettered event, both queues.
    async fn dead_letters(&self) -> Vec<BTreeMap<String, String>>;
    /// A money metric (no dimensions).
    async fn metric(&self, name: &str) -> u64;
    /// Runs an operator command (`paybridge …`) against this system's queues and state.
    fn operator(&self, args: &[&str]) -> Output;
    /// One reconciliation run since `since` (the scheduled Lambda's handler on moto,
    /// `paybridge reconcile` on serve), then the stored report as JSON.
    async fn reconcile(&self, since: &str, heal: bool) -> Value;
}

impl dyn Bridge + '_ {
    /// Kentico reports `order` (as it now is); the event is accepted.
    pub async fn kentico_says(&self, event_type: &str, order: &Value) {
        let body = kentico_event_body(self.kentico(), event_type, order);
        assert_eq!(self.post_kentico(&body).await, 202, "{body}");
    }

    /// Stripe reports `event_type` for `object` in test mode; the event is accepted.
    pub async fn stripe_says(&self, event_type: &str, object: &Value) {
        assert_eq!(
            self.stripe_says_in_mode(event_type, object, false).await,
            202
        );
    }

    /// As [`Self::stripe_says`], with the event's `livemode`; the HTTP status.
    pub async fn stripe_says_in_mode(
        &self,
        event_type: &str,
        object: &Value,
        livemode: bool,
    ) -> u16 {
        let id = format!("evt_{}", uuid_like().replace('-', ""));
        let mut body: Value =
            serde_json::from_str(&FakeStripe::event_body(&id, event_type, object)).expect("JSON");
        body["livemode"] = livemode.into();
        self.post_stripe(&body.to_string()).await
    }

    /// `paybridge trace --order-id <order_id> --json`.
    pub async fn trace(&self, order_id: i64) -> Value {
        json_output(&self.operator(&["trace", "--order-id", &order_id.to_string(), "--json"]))
    }

    /// `paybridge ledger export --format json` for the days `from`..`to`.
    pub async fn ledger(&self, from: &str, to: &str) -> Vec<Value> {
        json_lines(&self.operator(&["ledger", "export", "--from", from, "--to", to]))
    }

    /// `paybridge dlq redrive --all`: every dead letter back on its queue.
    pub async fn redrive_all(&self) {
        let output = self.operator(&["dlq", "redrive", "--all"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The dead letters of `kind`.
    pub async fn dead_of_kind(&self, kind: &str) -> Vec<BTreeMap<String, String>> {
        let all = self.dead_letters().await;
        all.into_iter()
            .filter(|d| d.get("failure_kind").map(String::as_str) == Some(kind))
            .collect()
    }
}

/// The Lambda path: ingress handlers and workers in-process, SQS and DynamoDB on moto.
pub struct Moto(pub System);

impl Moto {
    pub async fn start(env: &[(&str, &str)]) -> Moto {
        Moto(System::start(env).await)
    }
}

#[async_trait::async_trait]
impl Bridge for Moto {
    fn stripe(&self) -> &FakeStripe {
        &self.0.stripe
    }

    fn kentico(&self) -> &FakeKentico {
        &self.0.kentico
    }

    async fn post_kentico(&self, body: &str) -> u16 {
        self.0.post_kentico(body).await
    }

    async fn post_stripe(&self, body: &str) -> u16 {
        self.0.post_stripe(body).await
    }

    async fn drain(&self) {
        self.0.drain().await;
    }

    async fn dead_letters(&self) -> Vec<BTreeMap<String, String>> {
        let mut all = Vec::new();
        for source in [Source::Stripe, Source::Kentico] {
            let dead = self.0.dead_letters(source).await;
            all.extend(dead.into_iter().map(|m| m.attributes.into_iter().collect()));
        }
        all
    }

    async fn metric(&self, name: &str) -> u64 {
        self.0.metrics.count(name, &[])
    }

    /// Against the system's queues and tables on moto.
    fn operator(&self, args: &[&str]) -> Output {
        let mut command = Command::new(paybridge_binary());
        command.args(args).args(["--backend", "aws"]);
        for (k, v) in &self.0.env {
            command.env(k, v);
        }
        command
            .env("AWS_ENDPOINT_URL", integration_tests::moto::endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("paybridge runs")
    }

    async fn reconcile(&self, since: &str, heal: bool) -> Value {
        let event = serde_json::json!({"since": since, "heal": heal});
        let summary = invoke_reconciler(&self.0, &event).await;
        let output = self.operator(&["reconcile", "--report", "last", "--json"]);
        let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
        assert_eq!(
            summary["run_id"], report["run_id"],
            "the stored report is the run's"
        );
        report
    }
}

/// The reconciler Lambda's handler, built from `system`'s environment as the Lambda builds it,
/// invoked with `event`; its summary.
pub async fn invoke_reconciler(system: &System, event: &Value) -> Value {
    let settings = system.env.clone();
    let metrics = system.metrics.clone();
    let sdk = integration_tests::moto::sdk_config().await;
    // The environment closure is not Sync, so the Lambda's work runs on this thread.
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let env = move |name: &str| settings.get(name).cloned();
            let lambda = paybridge::app::LambdaEnv {
                env: &env,
                sdk,
                metrics,
                clock: std::sync::Arc::new(paybridge::clock::SystemClock),
            };
            let (sweep, window) = paybridge::app::lambda::reconciler_with(&lambda)
                .await
                .expect("the reconciler starts");
            let now = time::OffsetDateTime::now_utc();
            paybridge::reconcile::lambda::handle(&sweep, window, event, now)
                .await
                .expect("the sweep finishes")
        })
    })
}

/// A real `paybridge serve` process on its embedded store.
pub struct Serve {
    setup: Setup,
    process: serve_process::Serve,
    http: reqwest::Client,
}

impl Serve {
    pub async fn start(env: &[(&str, &str)]) -> Serve {
        let setup = Setup::new().await;
        // Retry at once: drain waits for quiet queues rather than minutes of backoff.
        let mut env = env.to_vec();
        env.push(("RETRY_BASE_SECONDS", "0"));
        if !env.iter().any(|(k, _)| *k == "CHECKOUT_SUCCESS_URL") {
            env.push((
                "CHECKOUT_SUCCESS_URL",
                "https://shop.example/checkout/thank-you",
            ));
        }
        let process = setup.serve_with(&[], &env).await;
        Serve {
            setup,
            process,
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, header: &str, secret: &str, body: &str) -> u16 {
        let signature = sign_header(&[secret], now_unix(), body.as_bytes());
        self.http
            .post(format!("{}{path}", self.process.url))
            .header(header, signature)
            .body(body.to_string())
            .send()
            .await
            .expect("serve answers")
            .status()
            .as_u16()
    }

    async fn metrics_text(&self) -> String {
        let response = self
            .http
            .get(format!("{}/metrics", self.process.url))
            .send();
        response
            .await
            .expect("/metrics")
            .text()
            .await
            .expect("text")
    }
}

impl Serve {
    /// `paybridge <args>` on the process's data directory, with the fakes as Stripe and Kentico.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(paybridge_binary());
        command
            .args(args)
            .arg("--data-dir")
            .arg(&self.setup.data_dir)
            .env_remove("AWS_ENDPOINT_URL")
            .env("STRIPE_API_BASE", &self.setup.stripe.base_url)
            .env("STRIPE_SECRET_KEY", serve_process::STRIPE_KEY)
            .env("KENTICO_BASE_URL", &self.setup.kentico.base_url)
            .env("KENTICO_USERNAME", "paybridge")
            .env("KENTICO_PASSWORD", "kentico-pass");
        command
    }
}

#[async_trait::async_trait]
impl Bridge for Serve {
    fn stripe(&self) -> &FakeStripe {
        &self.setup.stripe
    }

    fn kentico(&self) -> &FakeKentico {
        &self.setup.kentico
    }

    async fn post_kentico(&self, body: &str) -> u16 {
        let header = "x-kentico-signature";
        self.post("/webhooks/kentico", header, KENTICO_WEBHOOK_SECRET, body)
            .await
    }

    async fn post_stripe(&self, body: &str) -> u16 {
        let header = "stripe-signature";
        self.post("/webhooks/stripe", header, STRIPE_WEBHOOK_SECRET, body)
            .await
    }

    async fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut quiet = 0;
        while quiet < 3 {
            assert!(Instant::now() < deadline, "serve's queues did not drain");
            tokio::time::sleep(Duration::from_millis(150)).await;
            let text = self.metrics_text().await;
            let busy = text
                .lines()
                .filter(|l| l.starts_with("paybridge_queue_messages{"))
                .filter(|l| !l.contains("-dlq\""))
                .any(|l| !l.ends_with(" 0"));
            quiet = if busy { 0 } else { quiet + 1 };
        }
    }

    async fn dead_letters(&self) -> Vec<BTreeMap<String, String>> {
        let output = self.operator(&["dlq", "list", "--json"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line).expect("a JSON line");
                serde_json::from_value(entry["attributes"].clone()).expect("attributes")
            })
            .collect()
    }

    async fn metric(&self, name: &str) -> u64 {
        // Prometheus' text format: a metric without labels has no braces.
        let prefix = format!("paybridge_{}_total ", snake_case(name));
        let text = self.metrics_text().await;
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.trim().parse().expect("a count"))
    }

    /// Against the embedded store in the process's data directory.
    fn operator(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("paybridge runs")
    }

    async fn reconcile(&self, since: &str, heal: bool) -> Value {
        let mut command = self.command(&["reconcile", "--since", since, "--json"]);
        if heal {
            command.arg("--heal");
        }
        let output = command.output().expect("paybridge runs");
        let code = output.status.code();
        assert!(
            matches!(code, Some(0 | 3)),
            "exit {code:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
        let found = report["findings"].as_array().map_or(0, Vec::len);
        assert_eq!(
            code == Some(3),
            found > 0,
            "exit code 3 means discrepancies"
        );
        let last = self.operator(&["reconcile", "--report", "last", "--json"]);
        let stored: Value = serde_json::from_slice(&last.stdout).expect("the stored report");
        assert_eq!(stored, report, "the run's report is stored");
        report
    }
}

/// The JSON lines a successful command printed.
fn json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn json_output(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}
