//! The worker loops of `serve`: each drains its queue with the Lambdas' processor until told to stop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paybridge::clock::Clock;
use paybridge::config::SecretValue;
use paybridge::config::secrets::{SecretsError, SecretsManagerReader, SecretsReader};
use paybridge::config::worker::{ConnectorSettings, RuntimeSettings, WorkerKind};
use paybridge::embedded::EmbeddedPoller;
use paybridge::flows::bootstrap::{clients, processor};
use paybridge::metrics::{CallLatency, Metrics};
use paybridge::secret::SecretString;
use paybridge::worker::{BatchReport, SqsPoller};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Backend;

/// Each worker's state for `/healthz`: `running`, or why it waits.
pub type WorkerStatus = Arc<Mutex<BTreeMap<&'static str, String>>>;

/// The running worker loops.
pub struct Workers {
    /// Their states.
    pub status: WorkerStatus,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Asks every loop to stop after its current batch and waits for them: a batch in flight
    /// is finished, so nothing is left half-done.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

/// Starts both workers. A worker whose connectors are not configured does not poll: its events
/// wait on the queue, untouched, until paybridge is restarted with the credentials.
pub async fn start(
    backend: &Backend,
    runtime: &RuntimeSettings,
    connectors: &ConnectorSettings,
    visibility_timeout: u32,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Result<Workers, String> {
    let (stop, stopped) = watch::channel(false);
    let status: WorkerStatus = Arc::default();
    let mut handles = Vec::new();
    let missing = connectors.missing();
    // One set of clients for both workers: one HTTP pool each, one cached status lookup.
    let shared_clients = if missing.is_empty() {
        let secrets = secrets_reader(connectors).await;
        let latency = CallLatency::new(metrics.clone());
        Some(
            clients(connectors, secrets.as_ref(), latency)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    for kind in [WorkerKind::Order, WorkerKind::Payment] {
        let Some(clients) = shared_clients.clone() else {
            let why = format!("waiting: not configured: {}", missing.join("; "));
            tracing::warn!(
                worker = kind.name(),
                "{why}; its events are kept on the queue"
            );
            lock(&status).insert(kind.name(), why);
            continue;
        };
        let processor = Arc::new(processor(
            kind,
            clients,
            connectors,
            backend.stores(kind),
            runtime,
            metrics.clone(),
            clock.clone(),
        ));
        let poll: Box<dyn Poll> = match (backend.embedded_queue(kind), backend.aws_queue(kind)) {
            (Some(queue), _) => {
                let mut poller = EmbeddedPoller::new(queue, processor);
                poller.visibility_timeout_seconds = visibility_timeout;
                Box::new(poller)
            }
            (None, Some((sqs, queue))) => {
                let mut poller = SqsPoller::new(sqs, queue.url, processor);
                poller.wait_seconds = 1;
                poller.invocation_timeout = Duration::from_secs(u64::from(visibility_timeout));
                Box::new(poller)
            }
            (None, None) => return Err("the backend has no queue for this worker".into()),
        };
        lock(&status).insert(kind.name(), "running".into());
        handles.push(tokio::spawn(run_loop(kind, poll, stopped.clone())));
    }
    Ok(Workers {
        status,
        stop,
        handles,
    })
}

/// Secrets Manager only when a secret is given by ARN: a purely local `serve` never touches AWS.
pub async fn secrets_reader(connectors: &ConnectorSettings) -> Box<dyn SecretsReader> {
    let by_arn =
        |value: Option<&SecretValue>| matches!(value, Some(SecretValue::SecretsManager { .. }));
    if by_arn(connectors.stripe.as_ref().map(|s| &s.secret_key))
        || by_arn(connectors.kentico.as_ref().map(|k| &k.password))
    {
        Box::new(SecretsManagerReader::new(
            aws_sdk_secretsmanager::Client::new(&aws_config::load_from_env().await),
        ))
    } else {
        Box::new(NoSecretsManager)
    }
}

struct NoSecretsManager;

#[async_trait::async_trait]
impl SecretsReader for NoSecretsManager {
    async fn read(&self, arn: &str) -> Result<SecretString, SecretsError> {
        Err(SecretsError::Unreadable {
            arn: arn.to_string(),
            reason: "no secret is configured by ARN".into(),
        })
    }
}

fn lock(status: &WorkerStatus) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, String>> {
    status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One poll of either backend.
#[async_trait::async_trait]
trait Poll: Send + Sync {
    async fn poll(&self) -> Result<BatchReport, String>;
}

#[async_trait::async_trait]
impl Poll for EmbeddedPoller {
    async fn poll(&self) -> Result<BatchReport, String> {
        self.poll_once().await.map_err(|e| e.to_string())
    }
}

#[async_trait::async_trait]
impl Poll for SqsPoller {
    async fn poll(&self) -> Result<BatchReport, String> {
        self.poll_once().await.map_err(|e| e.to_string())
    }
}

async fn run_loop(kind: WorkerKind, poll: Box<dyn Poll>, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let pause = match poll.poll().await {
            Ok(report) if report.outcomes.is_empty() => Duration::from_millis(200),
            Ok(_) => Duration::ZERO,
            Err(error) => {
                tracing::warn!(worker = kind.name(), %error, "polling failed; trying again shortly");
                Duration::from_secs(2)
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => {}
            }
        }
    }
    tracing::info!(worker = kind.name(), "worker stopped");
}
