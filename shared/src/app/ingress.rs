//! A webhook ingress: verification from the source's settings and secrets, onto the backend's queue.

use std::sync::Arc;

use super::secrets::Secrets;
use crate::clock::Clock;
use crate::config::StartupError;
use crate::config::ingress::WebhookSettings;
use crate::ingress::IngressHandler;
use crate::metrics::Metrics;
use crate::queue::QueuePublisher;
use crate::webhook::SignatureVerifier;

/// The ingress of `settings.source`, publishing to `queue`.
pub async fn ingress(
    settings: &WebhookSettings,
    secrets: &Secrets,
    queue: Arc<dyn QueuePublisher>,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Result<IngressHandler, StartupError> {
    let signing = secrets
        .webhook_secrets(settings.source, &settings.webhook_secrets)
        .await?;
    Ok(IngressHandler::new(
        settings.source,
        SignatureVerifier::new(signing, settings.tolerance_seconds),
        queue,
        metrics,
        clock,
        settings.max_message_bytes,
    )
    .with_stripe_mode(settings.stripe_mode))
}
