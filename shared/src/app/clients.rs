//! The connected outside systems, built once from their settings and secrets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::secrets::Secrets;
use crate::clock::Clock;
use crate::config::worker::ConnectorSettings;
use crate::config::{ConfigError, StartupError};
use crate::connectors::kentico::{
    KenticoClient, KenticoConfig, OrderStatusResolver, parse_status_overrides,
};
use crate::connectors::stripe::{StripeClient, StripeConfig};
use crate::ledger::sink::{HttpLedgerSink, LedgerSink};
use crate::metrics::CallLatency;

/// Stripe's per-request timeout.
const STRIPE_TIMEOUT: Duration = Duration::from_secs(20);
/// Kentico's per-request timeout.
const KENTICO_TIMEOUT: Duration = Duration::from_secs(15);
/// The ledger sink's per-request timeout.
const LEDGER_SINK_TIMEOUT: Duration = Duration::from_secs(10);

/// The connected outside systems.
#[derive(Clone)]
pub struct Clients {
    /// Stripe's API.
    pub stripe: StripeClient,
    /// Kentico's REST service.
    pub kentico: KenticoClient,
    /// Kentico status names → IDs (cached).
    pub statuses: OrderStatusResolver,
    /// Where posted ledger entries are delivered, when configured.
    pub ledger_sink: Option<Arc<dyn LedgerSink>>,
}

impl Clients {
    /// Connects Stripe and Kentico; both must be configured.
    pub async fn connect(
        settings: &ConnectorSettings,
        secrets: &Secrets,
        latency: CallLatency,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let (Some(stripe), Some(kentico)) = (&settings.stripe, &settings.kentico) else {
            return Err(StartupError::Config(ConfigError {
                problems: settings.missing(),
            }));
        };
        let stripe = StripeClient::new(StripeConfig {
            api_base: stripe.api_base.clone(),
            secret_key: secrets.value(&stripe.secret_key).await?,
            api_version: stripe.api_version.clone(),
            timeout: STRIPE_TIMEOUT,
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
            password: secrets.value(&kentico.password).await?,
            timeout: KENTICO_TIMEOUT,
        })
        .map_err(|e| StartupError::Secret(format!("Kentico client: {e}")))?
        .with_latency(latency);
        let ledger_sink = match &settings.ledger_sink {
            Some(sink) => {
                let secret = secrets.value(&sink.secret).await?;
                let sink = HttpLedgerSink::new(&sink.url, secret, LEDGER_SINK_TIMEOUT, clock)
                    .map_err(|e| {
                        StartupError::Config(ConfigError {
                            problems: vec![format!("LEDGER_WEBHOOK_URL: {e}")],
                        })
                    })?;
                Some(Arc::new(sink) as Arc<dyn LedgerSink>)
            }
            None => None,
        };
        Ok(Self {
            statuses: OrderStatusResolver::new(kentico.clone(), overrides),
            stripe,
            kentico,
            ledger_sink,
        })
    }
}
