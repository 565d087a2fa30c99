//! Builds a worker's batch processor from the environment: clients, stores, routes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::FlowContext;
use super::order_events::OrderEventHandler;
use super::payment_events::{EVENT_TYPES, PaymentEventHandler};
use crate::clock::{Clock, SystemClock};
use crate::config::secrets::{SecretsManagerReader, SecretsReader, secret_text};
use crate::config::worker::{WorkerConfig, WorkerKind};
use crate::config::{ConfigError, SecretValue, StartupError};
use crate::connectors::kentico::{
    KenticoClient, KenticoConfig, OrderStatusResolver, parse_status_overrides,
};
use crate::connectors::stripe::{StripeClient, StripeConfig};
use crate::idempotency::dynamodb::DynamoDbIdempotencyStore;
use crate::idempotency::effects::DynamoDbEffectStore;
use crate::idempotency::{Idempotency, IdempotencyConfig};
use crate::links::DynamoDbOrderLinkStore;
use crate::metrics::{EmfMetrics, Metrics};
use crate::secret::SecretString;
use crate::worker::{BatchProcessor, ProcessorConfig, Router, SqsMessageSettler};

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

/// Builds `kind`'s processor from `env` and `sdk_config` (tests, `serve`).
pub async fn build(
    kind: WorkerKind,
    env: &dyn Fn(&str) -> Option<String>,
    sdk_config: &aws_config::SdkConfig,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Result<BatchProcessor, StartupError> {
    let config = WorkerConfig::from_env(kind, env)?;
    let secrets = SecretsManagerReader::new(aws_sdk_secretsmanager::Client::new(sdk_config));
    let stripe = StripeClient::new(StripeConfig {
        api_base: config.stripe_api_base.clone(),
        secret_key: resolve(&config.stripe_secret_key, &secrets).await?,
        api_version: config.stripe_api_version.clone(),
        timeout: Duration::from_secs(20),
        max_retries: 2,
        retry_base: Duration::from_millis(500),
    })
    .map_err(|e| StartupError::Secret(format!("Stripe client: {e}")))?;
    let kentico = KenticoClient::new(KenticoConfig {
        base_url: config.kentico_base_url.clone(),
        username: config.kentico_username.clone(),
        password: resolve(&config.kentico_password, &secrets).await?,
        timeout: Duration::from_secs(15),
    })
    .map_err(|e| StartupError::Secret(format!("Kentico client: {e}")))?;
    let overrides = match &config.kentico_order_statuses {
        Some(raw) => parse_status_overrides(raw).map_err(|problem| ConfigError {
            problems: vec![format!("KENTICO_ORDER_STATUSES: {problem}")],
        })?,
        None => HashMap::new(),
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk_config);
    let ctx = Arc::new(FlowContext {
        statuses: OrderStatusResolver::new(kentico.clone(), overrides),
        stripe,
        kentico,
        links: Arc::new(DynamoDbOrderLinkStore::new(dynamodb.clone(), &config.table)),
        effects: Arc::new(DynamoDbEffectStore::new(dynamodb.clone(), &config.table)),
        settings: config.flow.clone(),
    });
    let router = match kind {
        WorkerKind::Order => {
            let handler = Arc::new(OrderEventHandler::new(ctx));
            Router::new()
                .route("ecommerce.order.created", handler.clone())
                .route("ecommerce.order.updated", handler)
        }
        WorkerKind::Payment => {
            let handler = Arc::new(PaymentEventHandler::new(ctx));
            EVENT_TYPES
                .iter()
                .fold(Router::new(), |router, event_type| {
                    router.route(event_type, handler.clone())
                })
        }
    };
    let idempotency = Idempotency::new(
        Arc::new(DynamoDbIdempotencyStore::new(dynamodb, &config.table)),
        IdempotencyConfig {
            expires_after_seconds: config.idempotency_expiry_seconds,
            validate_payload: true,
        },
        clock.clone(),
    );
    let settler = SqsMessageSettler::new(
        aws_sdk_sqs::Client::new(sdk_config),
        &config.queue_url,
        &config.dlq_url,
    );
    tracing::info!(worker = kind.name(), routes = ?router.event_types(), "worker ready");
    Ok(BatchProcessor::new(
        router,
        idempotency,
        Arc::new(settler),
        metrics,
        clock,
        ProcessorConfig {
            worker: kind.name().to_string(),
            concurrency: config.concurrency,
            backoff: config.backoff,
            max_receive_count: Some(config.max_receive_count),
        },
    ))
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
