//! A worker's batch processor: its routes over the clients, guarded by the backend's stores.

use std::sync::Arc;

use super::backend::Stores;
use super::clients::Clients;
use crate::clock::Clock;
use crate::config::worker::{ConnectorSettings, RuntimeSettings, WorkerKind};
use crate::flows::FlowContext;
use crate::flows::ledger_events::{self, LedgerEventHandler};
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
    let ledger_sinks = clients.ledger_sinks;
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
            Router::new(),
            &order_events::EVENT_TYPES,
            Arc::new(OrderEventHandler::new(ctx)),
        ),
        WorkerKind::Payment => {
            let router = routes(
                Router::new(),
                &payment_events::EVENT_TYPES,
                Arc::new(PaymentEventHandler::new(ctx.clone())),
            );
            match stores.ledger {
                Some(ledger) => routes(
                    router,
                    &ledger_events::EVENT_TYPES,
                    Arc::new(LedgerEventHandler::new(ctx, ledger, ledger_sinks)),
                ),
                None => router,
            }
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

/// `router` with `event_types` routed to `handler`.
fn routes(router: Router, event_types: &[&str], handler: Arc<dyn EventHandler>) -> Router {
    event_types.iter().fold(router, |router, event_type| {
        router.route(event_type, handler.clone())
    })
}
