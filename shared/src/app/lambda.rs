//! The five Lambda functions' parts: each `main.rs` asks for its handler or processor here and
//! runs it. The `_with` forms take the environment, the AWS configuration, the metrics sink and
//! the clock, so tests build exactly what a Lambda builds.

use std::sync::Arc;

use super::backend::{Stores, aws_reports, aws_stores, journal_sealer};
use super::clients::Clients;
use super::reconcile::SweepStores;
use super::secrets::Secrets;
use super::worker;
use crate::clock::{Clock, SystemClock};
use crate::config::ingress::IngressConfig;
use crate::config::reconcile::window_hours;
use crate::config::worker::{WorkerConfig, WorkerKind};
use crate::config::{Env, StartupError, process_env};
use crate::ingress::IngressHandler;
use crate::metrics::{CallLatency, EmfMetrics, Metrics};
use crate::queue::{QueueUrls, SqsQueuePublisher};
use crate::reconcile::sweep::Sweep;
use crate::webhook::Source;
use crate::worker::BatchProcessor;

/// What every Lambda shares: where configuration, AWS, metrics and time come from.
#[derive(Clone)]
pub struct LambdaEnv<'a> {
    /// The environment variables.
    pub env: Env<'a>,
    /// Region, credentials and endpoint.
    pub sdk: aws_config::SdkConfig,
    /// Where metrics go (EMF in Lambda).
    pub metrics: Arc<dyn Metrics>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl LambdaEnv<'static> {
    /// The process environment, the default AWS configuration, EMF metrics and the system clock.
    pub async fn from_process() -> Self {
        Self {
            env: &process_env,
            sdk: aws_config::load_from_env().await,
            metrics: match EmfMetrics::install() {
                Ok(emf) => Arc::new(emf),
                // Only another global recorder in the process could be in the way: count in
                // memory rather than not start.
                Err(error) => {
                    tracing::error!(%error, "metrics are not exported");
                    Arc::new(crate::metrics::InMemoryMetrics::new())
                }
            },
            clock: Arc::new(SystemClock),
        }
    }
}

impl LambdaEnv<'_> {
    fn secrets(&self) -> Secrets {
        Secrets::secrets_manager(&self.sdk)
    }

    /// A worker configuration's clients (a Lambda keeps no token of its own: `local` is none).
    async fn clients(&self, config: &WorkerConfig) -> Result<Clients, StartupError> {
        let latency = CallLatency::new(self.metrics.clone());
        let secrets = self.secrets();
        Clients::connect(
            &config.connectors,
            &secrets,
            latency,
            self.clock.clone(),
            None,
        )
        .await
    }
}

/// The webhook ingress of `source` (stripe-webhook, kentico-webhook), from the process;
/// every start-up problem is logged once.
pub async fn ingress(source: Source) -> Result<IngressHandler, StartupError> {
    let result = ingress_with(source, &LambdaEnv::from_process().await).await;
    if let Err(error) = &result {
        tracing::error!(source = %source, error = %error, "cannot start");
    }
    result
}

/// The webhook ingress of `source` in `lambda`.
pub async fn ingress_with(
    source: Source,
    lambda: &LambdaEnv<'_>,
) -> Result<IngressHandler, StartupError> {
    let config = IngressConfig::from_env(source, lambda.env)?;
    let queue = SqsQueuePublisher::new(aws_sdk_sqs::Client::new(&lambda.sdk), config.queue_url);
    super::ingress::ingress(
        &config.webhooks,
        &lambda.secrets(),
        Arc::new(queue),
        lambda.metrics.clone(),
        lambda.clock.clone(),
    )
    .await
}

/// The batch processor of `kind` (order-worker, payment-worker), from the process; every
/// start-up problem is logged once.
pub async fn worker(kind: WorkerKind) -> Result<BatchProcessor, StartupError> {
    let result = worker_with(kind, &LambdaEnv::from_process().await).await;
    if let Err(error) = &result {
        tracing::error!(worker = kind.name(), error = %error, "cannot start");
    }
    result
}

/// The batch processor of `kind` in `lambda`: DynamoDB state, SQS settlement.
pub async fn worker_with(
    kind: WorkerKind,
    lambda: &LambdaEnv<'_>,
) -> Result<BatchProcessor, StartupError> {
    let config = WorkerConfig::from_env(kind, lambda.env)?;
    let clients = lambda.clients(&config).await?;
    let stores = lambda_stores(&lambda.sdk, &config);
    Ok(worker::processor(
        kind,
        clients,
        &config.connectors,
        stores,
        &config.runtime,
        lambda.metrics.clone(),
        lambda.clock.clone(),
    )
    .with_invocation_deadline(config.connectors.budget.start_reserve()))
}

/// The reconciler Lambda's sweep and window (hours), from the process; every start-up problem
/// is logged once.
pub async fn reconciler() -> Result<(Sweep, u64), StartupError> {
    let result = reconciler_with(&LambdaEnv::from_process().await).await;
    if let Err(error) = &result {
        tracing::error!(error = %error, "the reconciler cannot start");
    }
    result
}

/// The reconciler in `lambda`: the payment worker's configuration (its queue is where healing
/// events go), DynamoDB state, and the window.
pub async fn reconciler_with(lambda: &LambdaEnv<'_>) -> Result<(Sweep, u64), StartupError> {
    let config = WorkerConfig::from_env(WorkerKind::Payment, lambda.env)?;
    let window = window_hours(lambda.env)?;
    let clients = lambda.clients(&config).await?;
    let stores = lambda_stores(&lambda.sdk, &config);
    let stores = SweepStores {
        links: stores.links,
        effects: stores.effects,
        ledger: stores.ledger.ok_or_else(|| {
            StartupError::Config(crate::config::ConfigError {
                problems: vec!["the reconciler needs the ledger table".into()],
            })
        })?,
        stripe_queue: Arc::new(SqsQueuePublisher::new(
            aws_sdk_sqs::Client::new(&lambda.sdk),
            &config.queue_url,
        )),
        reports: aws_reports(&lambda.sdk, &config.table),
        mappings: stores.mappings,
    };
    let sweep = super::reconcile::sweep(
        clients,
        &config.connectors,
        stores,
        lambda.metrics.clone(),
        lambda.clock.clone(),
    );
    Ok((sweep, window))
}

/// A worker Lambda knows only its own queue and the table.
fn lambda_stores(sdk: &aws_config::SdkConfig, config: &WorkerConfig) -> Stores {
    let queue = QueueUrls {
        url: config.queue_url.clone(),
        dlq_url: config.dlq_url.clone(),
    };
    aws_stores(
        sdk,
        &config.table,
        &queue,
        config.ledger_table.as_deref(),
        (
            config.runtime.journal_retention_days,
            journal_sealer(sdk, config.journal_key.as_deref()),
        ),
    )
}
