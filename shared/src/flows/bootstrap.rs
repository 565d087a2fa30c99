//! Builds a worker's batch processor: clients from the connector settings, stores from the
//! backend (DynamoDB + SQS in Lambda, SQLite in `serve`), routes per worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::FlowContext;
use super::order_events::{self, OrderEventHandler};
use super::payment_events::{self, PaymentEventHandler};
use crate::clock::{Clock, SystemClock};
use crate::config::secrets::{SecretsManagerReader, SecretsReader, secret_text};
use crate::config::worker::{ConnectorSettings, RuntimeSettings, WorkerConfig, WorkerKind};
use crate::config::{ConfigError, SecretValue, StartupError};
use crate::connectors::kentico::{
    KenticoClient, KenticoConfig, OrderStatusResolver, parse_status_overrides,
};
use crate::connectors::stripe::{StripeClient, StripeConfig};
use crate::idempotency::dynamodb::DynamoDbIdempotencyStore;
use crate::idempotency::effects::{DynamoDbEffectStore, EffectStore};
use crate::idempotency::{Idempotency, IdempotencyConfig, IdempotencyStore};
use crate::journal::{DynamoDbEventJournal, EventJournal};
use crate::links::{DynamoDbOrderLinkStore, OrderLinkStore};
use crate::metrics::{CallLatency, EmfMetrics, Metrics};
use crate::secret::SecretString;
use crate::worker::{BatchProcessor, MessageSettler, ProcessorConfig, Router, SqsMessageSettler};

/// Where a worker keeps its state and settles its messages.
#[derive(Clone)]
pub struct Stores {
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Recorded side effects.
    pub effects: Arc<dyn EffectStore>,
    /// Order links.
    pub links: Arc<dyn OrderLinkStore>,
    /// Retry delays and dead letters on the worker's queue.
    pub settler: Arc<dyn MessageSettler>,
    /// What happened to each event (trace, replay).
    pub journal: Arc<dyn EventJournal>,
}

/// The connected outside systems.
#[derive(Clone)]
pub struct Clients {
    /// Stripe's API.
    pub stripe: StripeClient,
    /// Kentico's REST service.
    pub kentico: KenticoClient,
    /// Kentico status names → IDs (cached).
    pub statuses: OrderStatusResolver,
}

/// Builds `kind`'s processor from the process environment and the default AWS configuration,
/// logging every start-up problem once.
pub async fn bootstrap(kind: WorkerKind) -> Result<BatchProcessor, StartupError> {
    let env = |name: &str| std::env::var(name).ok();
    let sdk_config = aws_config::load_from_env().await;
    let result = build(
        kind,
        &env,
        &sdk_config,
        Arc::new(EmfMetrics),
        Arc::new(SystemClock),
    )
    .await;
    if let Err(error) = &result {
        tracing::error!(worker = kind.name(), error = %error, "cannot start");
    }
    result
}

/// Builds `kind`'s Lambda processor (DynamoDB, SQS) from `env` and `sdk_config`.
pub async fn build(
    kind: WorkerKind,
    env: &dyn Fn(&str) -> Option<String>,
    sdk_config: &aws_config::SdkConfig,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Result<BatchProcessor, StartupError> {
    let config = WorkerConfig::from_env(kind, env)?;
    let secrets = SecretsManagerReader::new(aws_sdk_secretsmanager::Client::new(sdk_config));
    let clients = clients(
        &config.connectors,
        &secrets,
        CallLatency::new(metrics.clone()),
    )
    .await?;
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk_config);
    let stores = Stores {
        idempotency: Arc::new(DynamoDbIdempotencyStore::new(
            dynamodb.clone(),
            &config.table,
        )),
        effects: Arc::new(DynamoDbEffectStore::new(dynamodb.clone(), &config.table)),
        links: Arc::new(DynamoDbOrderLinkStore::new(dynamodb.clone(), &config.table)),
        journal: Arc::new(DynamoDbEventJournal::new(dynamodb, &config.table)),
        settler: Arc::new(SqsMessageSettler::new(
            aws_sdk_sqs::Client::new(sdk_config),
            &config.queue_url,
            &config.dlq_url,
        )),
    };
    Ok(processor(
        kind,
        clients,
        &config.connectors,
        stores,
        &config.runtime,
        metrics,
        clock,
    ))
}

/// Connects Stripe and Kentico; both must be configured.
pub async fn clients(
    settings: &ConnectorSettings,
    secrets: &dyn SecretsReader,
    latency: CallLatency,
) -> Result<Clients, StartupError> {
    let (Some(stripe), Some(kentico)) = (&settings.stripe, &settings.kentico) else {
        return Err(StartupError::Config(ConfigError {
            problems: settings.missing(),
        }));
    };
    let stripe = StripeClient::new(StripeConfig {
        api_base: stripe.api_base.clone(),
        secret_key: resolve(&stripe.secret_key, secrets).await?,
        api_version: stripe.api_version.clone(),
        timeout: Duration::from_secs(20),
        max_retries: 2,
        retry_base: Duration::from_millis(500),
    })
    .map_err(|e| StartupError::Secret(format!("Stripe client: {e}")))?
    .with_latency(latency.clone());
    let overrides = match &kentico.order_statuses {
        Some(raw) => parse_status_overrides(raw).map_err(|problem| ConfigError {
            problems: vec![format!("KENTICO_ORDER_STATUSES: {problem}")],
        })?,
        None => HashMap::new(),
    };
    let kentico = KenticoClient::new(KenticoConfig {
        base_url: kentico.base_url.clone(),
        username: kentico.username.clone(),
        password: resolve(&kentico.password, secrets).await?,
        timeout: Duration::from_secs(15),
    })
    .map_err(|e| StartupError::Secret(format!("Kentico client: {e}")))?
    .with_latency(latency);
    Ok(Clients {
        statuses: OrderStatusResolver::new(kentico.clone(), overrides),
        stripe,
        kentico,
    })
}

/// The processor of `kind`: its routes over the clients, guarded by the stores.
pub fn processor(
    kind: WorkerKind,
    clients: Clients,
    settings: &ConnectorSettings,
    stores: Stores,
    runtime: &RuntimeSettings,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> BatchProcessor {
    let ctx = Arc::new(FlowContext {
        stripe: clients.stripe,
        kentico: clients.kentico,
        statuses: clients.statuses,
        links: stores.links,
        effects: stores.effects,
        settings: settings.flow.clone(),
        metrics: metrics.clone(),
        clock: clock.clone(),
    });
    let router = match kind {
        WorkerKind::Order => {
            let handler = Arc::new(OrderEventHandler::new(ctx));
            (order_events::EVENT_TYPES.iter()).fold(Router::new(), |router, event_type| {
                router.route(event_type, handler.clone())
            })
        }
        WorkerKind::Payment => {
            let handler = Arc::new(PaymentEventHandler::new(ctx));
            (payment_events::EVENT_TYPES.iter()).fold(Router::new(), |router, event_type| {
                router.route(event_type, handler.clone())
            })
        }
    };
    let idempotency = Idempotency::new(
        stores.idempotency,
        IdempotencyConfig {
            expires_after_seconds: runtime.idempotency_expiry_seconds,
            validate_payload: true,
        },
        clock.clone(),
    );
    tracing::info!(worker = kind.name(), routes = ?router.event_types(), "worker ready");
    BatchProcessor::new(
        router,
        idempotency,
        stores.settler,
        metrics,
        clock,
        ProcessorConfig {
            worker: kind.name().to_string(),
            concurrency: runtime.concurrency,
            backoff: runtime.backoff,
            max_receive_count: Some(runtime.max_receive_count),
        },
    )
    .with_journal(stores.journal)
}

/// The secret's text: the plain value, or read from Secrets Manager (a JSON secret gives the
/// field named like the plain variable).
pub async fn resolve(
    value: &SecretValue,
    reader: &dyn SecretsReader,
) -> Result<SecretString, StartupError> {
    match value {
        SecretValue::Plain(secret) => Ok(secret.clone()),
        SecretValue::SecretsManager { arn, key } => {
            let raw = reader
                .read(arn)
                .await
                .map_err(|e| StartupError::Secret(e.to_string()))?;
            secret_text(&raw, key)
                .map_err(|reason| StartupError::Secret(format!("secret {arn}: {reason}")))
        }
    }
}
