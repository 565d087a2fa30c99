//! The connected outside systems, built once from their settings and secrets.

use std::collections::HashMap;
use std::time::Duration;

use super::secrets::Secrets;
use crate::config::worker::ConnectorSettings;
use crate::config::{ConfigError, StartupError};
use crate::connectors::kentico::{
    KenticoClient, KenticoConfig, OrderStatusResolver, parse_status_overrides,
};
use crate::connectors::stripe::{StripeClient, StripeConfig};
use crate::metrics::CallLatency;

/// Stripe's per-request timeout.
const STRIPE_TIMEOUT: Duration = Duration::from_secs(20);
/// Kentico's per-request timeout.
const KENTICO_TIMEOUT: Duration = Duration::from_secs(15);

/// The connected outside systems.
#[derive(Clone)]
pub struct Clients {
    /// Stripe's API.
    pub stripe: StripeClient,
    /// Kentico's REST service.
    pub kentico: KenticoClient,
    /// Kentico status names → IDs (cached).
    pub statuses: OrderStatusResolver,
}

impl Clients {
    /// Connects Stripe and Kentico; both must be configured.
    pub async fn connect(
        settings: &ConnectorSettings,
        secrets: &Secrets,
        latency: CallLatency,
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
        Ok(Self {
            statuses: OrderStatusResolver::new(kentico.clone(), overrides),
            stripe,
            kentico,
        })
    }
}
