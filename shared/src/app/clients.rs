//! The connected outside systems, built once from their settings and secrets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::backend::Backend;
use super::secrets::Secrets;
use crate::clock::Clock;
use crate::config::ingress::parse_webhook_secrets;
use crate::config::ledger::{QuickBooksSettings, RefreshTokenSetting};
use crate::config::worker::{
    ConnectorSettings, KenticoAccess, PackageSecrets, StripeSettings, VAR_KENTICO_API_SECRET,
};
use crate::config::{ConfigError, StartupError};
use crate::connectors::kentico::{
    KenticoClient, KenticoConfig, OrderStatusResolver, parse_status_overrides,
};
use crate::connectors::shop::{KenticoRestOrders, ShopOrders};
use crate::connectors::stripe::{StripeClient, StripeConfig};
use crate::connectors::xbyk::{XbykClient, XbykConfig, XbykPackageOrders};
use crate::ledger::quickbooks::{QuickBooksConfig, QuickBooksSink};
use crate::ledger::sink::{HttpLedgerSink, LedgerSink};
use crate::ledger::tokens::InMemoryRefreshTokens;
use crate::mapping::payment_status::{AfterPayment, PaymentState};
use crate::metrics::CallLatency;
use crate::webhook::Source;

use crate::worker::budget::STRIPE_MAX_RETRIES;

/// The connected outside systems.
#[derive(Clone)]
pub struct Clients {
    /// Stripe's API.
    pub stripe: StripeClient,
    /// The shop's orders: Kentico 13's REST service or the Xperience by Kentico package.
    pub shop: Arc<dyn ShopOrders>,
    /// Kentico 13's REST service and its status names → IDs (cached); `None` on Xperience by
    /// Kentico.
    pub kentico: Option<KenticoRestOrders>,
    /// Where posted ledger entries are delivered (each once), in configuration order.
    pub ledger_sinks: Vec<Arc<dyn LedgerSink>>,
}

impl Clients {
    /// Connects Stripe and Kentico; both must be configured. `local` is the backend a sink's
    /// rotating token may be kept in when it is not in Secrets Manager (`serve`; a Lambda has
    /// none).
    pub async fn connect(
        settings: &ConnectorSettings,
        secrets: &Secrets,
        latency: CallLatency,
        clock: Arc<dyn Clock>,
        local: Option<&Backend>,
    ) -> Result<Self, StartupError> {
        let (Some(stripe), Some(kentico)) = (&settings.stripe, &settings.kentico) else {
            return Err(StartupError::Config(ConfigError {
                problems: settings.missing(),
            }));
        };
        let stripe = stripe_client(stripe, settings, secrets, latency.clone()).await?;
        let (shop, rest): (Arc<dyn ShopOrders>, _) = match &kentico.access {
            KenticoAccess::Rest {
                username,
                password,
                order_statuses,
            } => {
                let overrides = match order_statuses {
                    Some(raw) => parse_status_overrides(raw).map_err(|problem| ConfigError {
                        problems: vec![format!("KENTICO_ORDER_STATUSES: {problem}")],
                    })?,
                    None => HashMap::new(),
                };
                let client = KenticoClient::new(KenticoConfig {
                    base_url: kentico.base_url.clone(),
                    username: username.clone(),
                    password: secrets.value(password).await?,
                    timeout: settings.budget.kentico,
                })
                .map_err(|e| StartupError::Secret(format!("Kentico client: {e}")))?
                .with_latency(latency.clone());
                let rest = KenticoRestOrders {
                    statuses: OrderStatusResolver::new(client.clone(), overrides),
                    client,
                };
                (Arc::new(rest.clone()), Some(rest))
            }
            KenticoAccess::Package { secrets: setting } => {
                let signing = match setting {
                    PackageSecrets::Webhook(webhook) => {
                        secrets.webhook_secrets(Source::Kentico, webhook).await?
                    }
                    PackageSecrets::Api(value) => {
                        let raw = secrets.value(value).await?;
                        parse_webhook_secrets(Source::Kentico, VAR_KENTICO_API_SECRET, raw.expose())
                            .map_err(|problems| StartupError::Config(ConfigError { problems }))?
                    }
                };
                let client = XbykClient::new(XbykConfig {
                    base_url: kentico.base_url.clone(),
                    secrets: signing,
                    timeout: settings.budget.kentico,
                })
                .map_err(|e| StartupError::Secret(format!("Xperience by Kentico client: {e}")))?
                .with_latency(latency.clone());
                let flow = &settings.flow;
                let mapping = &flow.status_mapping;
                let paid_statuses = std::iter::once(mapping.name(PaymentState::Succeeded))
                    .chain(
                        AfterPayment::ALL
                            .iter()
                            .map(|state| mapping.after_name(*state)),
                    )
                    .map(str::to_owned)
                    .collect();
                let orders = XbykPackageOrders::new(client, flow.kentico_currency, paid_statuses);
                (Arc::new(orders), None)
            }
        };
        let mut ledger_sinks: Vec<Arc<dyn LedgerSink>> = Vec::new();
        if let Some(sink) = &settings.ledger_sink {
            let secret = secrets.value(&sink.secret).await?;
            let sink = HttpLedgerSink::new(
                &sink.url,
                secret,
                settings.budget.ledger_sink(),
                clock.clone(),
            )
            .map_err(|e| {
                StartupError::Config(ConfigError {
                    problems: vec![format!("LEDGER_WEBHOOK_URL: {e}")],
                })
            })?;
            ledger_sinks.push(Arc::new(sink));
        }
        if let Some(quickbooks) = &settings.quickbooks {
            let sink = quickbooks_sink(quickbooks, settings, secrets, local, clock).await?;
            ledger_sinks.push(Arc::new(sink));
        }
        Ok(Self {
            stripe,
            shop,
            kentico: rest,
            ledger_sinks,
        })
    }
}

/// The Stripe client of `settings`, its key read once (from Secrets Manager when given by ARN)
/// and checked: what the workers use, and what an operator's Stripe command (`setup stripe`)
/// uses, with the timeout of `settings`' budget.
pub async fn stripe_client(
    stripe: &StripeSettings,
    settings: &ConnectorSettings,
    secrets: &Secrets,
    latency: CallLatency,
) -> Result<StripeClient, StartupError> {
    let secret_key = secrets.value(&stripe.secret_key).await?;
    // Checked here too: a key read from Secrets Manager may still be the template's
    // generated placeholder.
    crate::config::worker::check_stripe_key(secret_key.expose())
        .and_then(|()| crate::config::mode::check_key(stripe.mode, secret_key.expose()))
        .map_err(|problem| {
            StartupError::Config(ConfigError {
                problems: vec![problem],
            })
        })?;
    let stripe = StripeClient::new(StripeConfig {
        api_base: stripe.api_base.clone(),
        secret_key,
        api_version: stripe.api_version.clone(),
        timeout: settings.budget.stripe,
        max_retries: STRIPE_MAX_RETRIES,
        retry_base: Duration::from_millis(500),
    })
    .map_err(|e| StartupError::Secret(format!("Stripe client: {e}")))?
    .with_latency(latency);
    Ok(stripe)
}

/// The QuickBooks sink: its refresh token in Secrets Manager when given by ARN, else in the
/// backend's own store (`serve`), seeded with the configured token.
async fn quickbooks_sink(
    quickbooks: &QuickBooksSettings,
    settings: &ConnectorSettings,
    secrets: &Secrets,
    local: Option<&Backend>,
    clock: Arc<dyn Clock>,
) -> Result<QuickBooksSink, StartupError> {
    let tokens = match (&quickbooks.refresh_token, local) {
        (RefreshTokenSetting::SecretsManager { arn }, _) => secrets.refresh_tokens(arn).await,
        (RefreshTokenSetting::Plain(seed), Some(backend)) => {
            backend.refresh_tokens("quickbooks", seed.clone())
        }
        // Only an operator command (`doctor`) gets here: the Lambdas' configuration requires
        // the ARN, and `serve` passes its backend.
        (RefreshTokenSetting::Plain(seed), None) => {
            Arc::new(InMemoryRefreshTokens::new(Some(seed.clone())))
        }
    };
    let accounts = (settings.flow.ledger_accounts.by_role().into_iter())
        .filter_map(|(role, name)| {
            let id = quickbooks.accounts.get(role)?;
            Some((name.to_string(), id.clone()))
        })
        .collect();
    let config = QuickBooksConfig {
        api_base: quickbooks.api_base.clone(),
        token_url: quickbooks.token_url.clone(),
        realm_id: quickbooks.realm_id.clone(),
        client_id: quickbooks.client_id.clone(),
        client_secret: secrets.value(&quickbooks.client_secret).await?,
        accounts,
        timeout: settings.budget.ledger_sink(),
    };
    QuickBooksSink::new(config, tokens, clock).map_err(|e| {
        StartupError::Config(ConfigError {
            problems: vec![format!("QUICKBOOKS_REALM_ID: {e}")],
        })
    })
}
