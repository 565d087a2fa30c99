//! The reconciliation sweep's parts: the payment worker's clients and flow settings, the
//! backend's links, effects, ledger and reports, and the Stripe queue to heal onto.

use std::sync::Arc;

use super::backend::Backend;
use super::clients::Clients;
use crate::clock::Clock;
use crate::config::worker::{ConnectorSettings, WorkerKind};
use crate::effects::EffectStore;
use crate::ledger::LedgerStore;
use crate::links::OrderLinkStore;
use crate::mapping_doc::ActiveMapping;
use crate::mapping_doc::store::MappingStore;
use crate::metrics::Metrics;
use crate::queue::QueuePublisher;
use crate::reconcile::reports::ReportStore;
use crate::reconcile::sweep::Sweep;
use crate::webhook::Source;

/// The stores and the queue a sweep uses.
pub struct SweepStores {
    /// Order links (which payments are ours).
    pub links: Arc<dyn OrderLinkStore>,
    /// Recorded side effects (the flow context carries them).
    pub effects: Arc<dyn EffectStore>,
    /// Posted ledger entries.
    pub ledger: Arc<dyn LedgerStore>,
    /// The Stripe queue, where healing events go.
    pub stripe_queue: Arc<dyn QueuePublisher>,
    /// Where each run's report is kept.
    pub reports: Arc<dyn ReportStore>,
    /// The mapping document's versions (the active one names the statuses).
    pub mappings: Arc<dyn MappingStore>,
}

impl Backend {
    /// What a sweep over this backend uses.
    pub fn sweep_stores(&self) -> SweepStores {
        // The sweep writes no journal: the retention does not matter here.
        let stores = self.stores(
            WorkerKind::Payment,
            crate::config::worker::DEFAULT_JOURNAL_RETENTION_DAYS,
        );
        SweepStores {
            links: stores.links,
            effects: stores.effects,
            ledger: self.ledger(),
            stripe_queue: self.publisher(Source::Reconciler),
            reports: self.reports(),
            mappings: stores.mappings,
        }
    }
}

/// A sweep over `clients` and `stores`, with the payment worker's flow settings.
pub fn sweep(
    clients: Clients,
    settings: &ConnectorSettings,
    stores: SweepStores,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Sweep {
    // Read at the start of each run.
    let mapping = Arc::new(ActiveMapping::stored(
        settings.flow.clone(),
        stores.mappings,
        std::time::Duration::ZERO,
    ));
    let ctx = super::worker::flow_context(
        &clients,
        mapping,
        stores.links,
        stores.effects,
        metrics,
        clock,
    );
    Sweep::new(ctx, stores.ledger, stores.stripe_queue, stores.reports)
}
