//! A worker's batch processor: its routes over the clients, guarded by the backend's stores.

use std::sync::Arc;

use super::backend::Stores;
use super::clients::Clients;
use crate::clock::Clock;
use crate::config::worker::{ConnectorSettings, RuntimeSettings, WorkerKind};
use crate::flows::FlowContext;
use crate::flows::order_events::{self, OrderEventHandler};
use crate::flows::payment_events::{self, PaymentEventHandler};
use crate::idempotency::{Idempotency, IdempotencyConfig};
use crate::metrics::Metrics;
use crate::worker::{BatchProcessor, EventHandler, ProcessorConfig, Router};

/// The processor of `kind`.
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
        WorkerKind::Order => routes(
            &order_events::EVENT_TYPES,
            Arc::new(OrderEventHandler::new(ctx)),
        ),
        WorkerKind::Payment => routes(
            &payment_events::EVENT_TYPES,
            Arc::new(PaymentEventHandler::new(ctx)),
        ),
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

fn routes(event_types: &[&str], handler: Arc<dyn EventHandler>) -> Router {
    event_types
        .iter()
        .fold(Router::new(), |router, event_type| {
            router.route(event_type, handler.clone())
        })
}
