//! Routes a queue envelope to the handler for its event type.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Delivery, Handled, HandlerError, ReceivedEvent};

/// Handles one kind of event.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync {
    /// Messages sharing a business key (e.g. the same order) run one after another in arrival
    /// order; `None` lets the message run concurrently with everything else.
    fn business_key(&self, _event: &ReceivedEvent) -> Option<String> {
        None
    }

    /// Does the work. Called inside the idempotency guard: at most once per event, unless it
    /// fails, in which case it may be called again.
    async fn handle(
        &self,
        event: &ReceivedEvent,
        delivery: &Delivery,
    ) -> Result<Handled, HandlerError>;
}

/// Event type → handler. Types without a route are ignored on purpose (and counted).
#[derive(Default, Clone)]
pub struct Router {
    routes: HashMap<String, Arc<dyn EventHandler>>,
}

impl Router {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `event_type` to `handler`.
    pub fn route(mut self, event_type: &str, handler: Arc<dyn EventHandler>) -> Self {
        self.routes.insert(event_type.to_string(), handler);
        self
    }

    /// The handler for `event_type`.
    pub fn handler(&self, event_type: &str) -> Option<&Arc<dyn EventHandler>> {
        self.routes.get(event_type)
    }

    /// Every routed event type, sorted.
    pub fn event_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        types.sort_unstable();
        types
    }
}
