//! A worker's batch processor: its routes over the clients, guarded by the backend's stores.

use std::sync::Arc;
use std::time::Duration;

use super::backend::Stores;
use super::clients::Clients;
use crate::clock::Clock;
use crate::config::worker::{ConnectorSettings, RuntimeSettings, WorkerKind};
use crate::effects::EffectStore;
use crate::flows::FlowContext;
use crate::flows::billing_events::{self, BillingEventHandler};
use crate::flows::customer_events::{self, CustomerEventHandler, StripeCustomerEventHandler};
use crate::flows::gate::FlowGate;
use crate::flows::ledger_events::{self, LedgerEventHandler};
use crate::flows::order_events::{self, OrderEventHandler};
use crate::flows::payment_events::{self, PaymentEventHandler};
use crate::idempotency::{Idempotency, IdempotencyConfig};
use crate::links::OrderLinkStore;
use crate::mapping_doc::{ActiveMapping, Flow};
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
    let mapping = active_mapping(settings, &stores, runtime);
    let ctx = flow_context(
        &clients,
        mapping,
        stores.links,
        stores.effects,
        metrics.clone(),
        clock.clone(),
    );
    let ledger_sinks = clients.ledger_sinks;
    // Each route behind the switches of the flows it serves (the mapping document's `flows`).
    let gated = |flows: &'static [Flow], handler: Arc<dyn EventHandler>| -> Arc<dyn EventHandler> {
        Arc::new(FlowGate::new(ctx.clone(), flows, handler))
    };
    let router = match kind {
        WorkerKind::Order => {
            let orders = OrderEventHandler::new(ctx.clone(), stores.customers.clone());
            let customers = CustomerEventHandler::new(ctx.clone(), stores.customers.clone());
            let router = routes(
                Router::new(),
                &order_events::EVENT_TYPES,
                gated(&[Flow::OrderToCash], Arc::new(orders)),
            );
            routes(
                router,
                &customer_events::EVENT_TYPES,
                gated(&[Flow::Customers], Arc::new(customers)),
            )
        }
        WorkerKind::Payment => {
            let payments = PaymentEventHandler::new(ctx.clone());
            let billing = BillingEventHandler::new(ctx.clone(), stores.customers.clone());
            let customers = StripeCustomerEventHandler::new(ctx.clone(), stores.customers.clone());
            let router = routes(
                Router::new(),
                &payment_events::EVENT_TYPES,
                gated(&[Flow::OrderToCash], Arc::new(payments)),
            );
            let router = routes(
                router,
                &billing_events::EVENT_TYPES,
                gated(&[Flow::OrderToCash], Arc::new(billing)),
            );
            let router = routes(
                router,
                &customer_events::STRIPE_EVENT_TYPES,
                gated(&[Flow::Customers], Arc::new(customers)),
            );
            match stores.ledger {
                // Refunds and disputes post entries (ledger) and set the order's status
                // (after_payment): the handler skips the part whose flow is off.
                Some(ledger) => routes(
                    router,
                    &ledger_events::EVENT_TYPES,
                    gated(
                        &[Flow::Ledger, Flow::AfterPayment],
                        Arc::new(LedgerEventHandler::new(ctx.clone(), ledger, ledger_sinks)),
                    ),
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

/// The environment's flow settings under the stored active mapping version, read again every
/// `MAPPING_REFRESH_SECONDS`.
pub(super) fn active_mapping(
    settings: &ConnectorSettings,
    stores: &Stores,
    runtime: &RuntimeSettings,
) -> Arc<ActiveMapping> {
    Arc::new(ActiveMapping::stored(
        settings.flow.clone(),
        stores.mappings.clone(),
        Duration::from_secs(runtime.mapping_refresh_seconds),
    ))
}

/// What the flows share: the clients, the links and effects, the flow settings.
pub(super) fn flow_context(
    clients: &Clients,
    mapping: Arc<ActiveMapping>,
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
        mapping,
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
