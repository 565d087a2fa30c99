//! Every routed event first reads the active mapping version (within its refresh period) and
//! is handled only if its flow is switched on there; an event of a switched-off flow is ignored
//! on purpose, with the version in the reason (counted, journaled, and replayable with
//! `paybridge replay` once the flow is on again).

use std::sync::Arc;

use super::FlowContext;
use crate::mapping_doc::Flow;
use crate::worker::{Delivery, EventHandler, Handled, HandlerError, ReceivedEvent};

/// A handler behind the switches of the flows it serves.
pub struct FlowGate {
    ctx: Arc<FlowContext>,
    flows: &'static [Flow],
    inner: Arc<dyn EventHandler>,
}

impl FlowGate {
    /// `inner`, run when any of `flows` is on (a handler serving several flows decides the
    /// rest itself).
    pub fn new(
        ctx: Arc<FlowContext>,
        flows: &'static [Flow],
        inner: Arc<dyn EventHandler>,
    ) -> FlowGate {
        FlowGate { ctx, flows, inner }
    }
}

#[async_trait::async_trait]
impl EventHandler for FlowGate {
    fn business_key(&self, event: &ReceivedEvent) -> Option<String> {
        self.inner.business_key(event)
    }

    async fn handle(
        &self,
        event: &ReceivedEvent,
        delivery: &Delivery,
    ) -> Result<Handled, HandlerError> {
        let applied = (self.ctx.mapping.refresh().await)
            .map_err(|error| HandlerError::transient(error.to_string()))?;
        if !self.flows.iter().any(|flow| applied.flows.is_on(*flow)) {
            let reason = (self.flows.first())
                .and_then(|flow| applied.switched_off(*flow))
                .unwrap_or_else(|| "no flow serves this event".to_string());
            tracing::info!(event_type = event.event_type(), version = applied.version, %reason, "flow switched off");
            return Ok(Handled::Ignored(reason));
        }
        self.inner.handle(event, delivery).await
    }
}
