//! A worker's batch processor: its routes over the clients, guarded by the backend's stores.

use std::sync::Arc;

use super::backend::Stores;
use super::clients::Clients;
use crate::clock::Clock;
use crate::config::worker::{ConnectorSettings, RuntimeSettings, WorkerKind};
use crate::effects::EffectStore;
use crate::flows::FlowContext;
use crate::flows::billing_events::{self, BillingEventHandler};
use crate::flows::customer_events::{self, CustomerEventHandler, StripeCustomerEventHandler};
use crate::flows::ledger_events::{self, LedgerEventHandler};
use crate::flows::order_events::{self, OrderEventHandler};
use crate::flows::payment_events::{self, PaymentEventHandler};
use crate::idempotency::{Idempotency, IdempotencyConfig};
use crate::links::OrderLinkStore;
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
    let ctx = flow_context(
        &clients,
        settings,
        stores.links,
        stores.effects,
        metrics.clone(),
        clock.clone(),
    );
    let ledger_sinks = clients.ledger_sinks;
    let router = match kind {
        WorkerKind::Order => routes(
            routes(
                Router::new(),
                &order_events::EVENT_TYPES,
                Arc::new(OrderEventHandler::new(
                    ctx.clone(),
                    stores.customers.clone(),
                )),
            ),
            &customer_events::EVENT_TYPES,
            Arc::new(CustomerEventHandler::new(ctx, stores.customers.clone())),
        ),
        WorkerKind::Payment => {
            let router = routes(
                Router::new(),
                &payment_events::EVENT_TYPES,
                Arc::new(PaymentEventHandler::new(ctx.clone())),
            );
            let router = routes(
                router,
                &billing_events::EVENT_TYPES,
                Arc::new(BillingEventHandler::new(
                    ctx.clone(),
                    stores.customers.clone(),
                )),
            );
            let router = routes(
                router,
                &customer_events::STRIPE_EVENT_TYPES,
                Arc::new(StripeCustomerEventHandler::new(
                    ctx.clone(),
                    stores.customers.clone(),
                )),
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

/// What the flows share: the clients, the links and effects, the flow settings.
pub(super) fn flow_context(
    clients: &Clients,
    settings: &ConnectorSettings,
    links: Arc<dyn OrderLinkStore>,
    effects: Arc<dyn EffectStore>,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Arc<FlowContext> {
    Arc::new(FlowContext {
        stripe: clients.stripe.clone(),
        shop: clients.shop.clone(),
        kentico: clients.kentico.clone(),
        links,
        effects,
        settings: settings.flow.clone(),
        metrics,
        clock,
    })
}

/// `router` with `event_types` routed to `handler`.
fn routes(router: Router, event_types: &[&str], handler: Arc<dyn EventHandler>) -> Router {
    event_types.iter().fold(router, |router, event_type| {
        router.route(event_type, handler.clone())
    })
}
