//! Builds ingress handlers the way the Lambdas do, pointed at moto and a fresh queue.

use std::collections::HashMap;
use std::sync::Arc;

use integration_tests::{moto, sqs};
use paybridge::app::LambdaEnv;
use paybridge::clock::{Clock, SystemClock};
use paybridge::ingress::IngressHandler;
use paybridge::metrics::InMemoryMetrics;
use paybridge::webhook::Source;

pub const STRIPE_SECRET: &str = "whsec_paybridge_local_dev_only";
pub const KENTICO_SECRET: &str = "kentico_local_dev_only_secret";

/// One ingress under test with its queue, its SQS client and its counters.
pub struct Ingress {
    pub handler: IngressHandler,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub metrics: Arc<InMemoryMetrics>,
}

/// The ingress for `source` as the Lambda builds it (`app::lambda::ingress_with`) from environment
/// variables, on a new queue.
pub async fn ingress(source: Source, extra_env: &[(&str, &str)], clock: Arc<dyn Clock>) -> Ingress {
    let sdk = moto::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs::create_queue(&sqs, source.as_str()).await;
    let mut env: HashMap<String, String> = HashMap::new();
    match source {
        Source::Kentico => {
            env.insert("KENTICO_EVENTS_QUEUE_URL".into(), queue_url.clone());
            env.insert("KENTICO_WEBHOOK_SECRETS".into(), KENTICO_SECRET.into());
        }
        _ => {
            env.insert("STRIPE_EVENTS_QUEUE_URL".into(), queue_url.clone());
            env.insert("STRIPE_WEBHOOK_SECRETS".into(), STRIPE_SECRET.into());
        }
    }
    for (k, v) in extra_env {
        env.insert(k.to_string(), v.to_string());
    }
    let metrics = Arc::new(InMemoryMetrics::new());
    let handler = paybridge::app::lambda::ingress_with(
        source,
        &LambdaEnv {
            env: &|k| env.get(k).cloned(),
            sdk: sdk.clone(),
            metrics: metrics.clone(),
            clock,
        },
    )
    .await
    .expect("the ingress starts");
    Ingress {
        handler,
        sqs,
        queue_url,
        metrics,
    }
}

/// The same with the system clock.
pub async fn live_ingress(source: Source, extra_env: &[(&str, &str)]) -> Ingress {
    ingress(source, extra_env, Arc::new(SystemClock)).await
}

impl Ingress {
    /// Everything on the queue now.
    pub async fn queued(&self) -> Vec<sqs::ReceivedMessage> {
        sqs::receive_all(&self.sqs, &self.queue_url).await
    }

    /// How many requests ended with `outcome`.
    pub fn count(&self, outcome: &str) -> u64 {
        self.metrics.count(
            paybridge::ingress::METRIC_WEBHOOK_REQUESTS,
            &[
                ("Source", self.handler.source().as_str()),
                ("Outcome", outcome),
            ],
        )
    }
}
