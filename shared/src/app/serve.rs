//! `paybridge serve`'s parts and the operator commands' backend: the same ingress handlers and
//! processors as the Lambdas, on the embedded store or on AWS.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::backend::{Backend, BackendKind};
use super::clients::Clients;
use super::secrets::Secrets;
use super::{ingress, worker};
use crate::clock::Clock;
use crate::config::aws::endpoint_configured;
use crate::config::ingress::{IngressVariables, WebhookSettings, webhooks_configured};
use crate::config::worker::{RuntimeSettings, WorkerKind, serve_settings};
use crate::config::{Env, StartupError};
use crate::ingress::IngressHandler;
use crate::metrics::{CallLatency, Metrics};
use crate::webhook::Source;
use crate::worker::BatchProcessor;

/// What `serve` is made of. A source or worker that is not configured holds why, and waits:
/// its webhooks answer 503 (the sender retries), its events stay on the queue.
pub struct ServeParts {
    /// The queues and state.
    pub backend: Backend,
    /// Retries and concurrency.
    pub runtime: RuntimeSettings,
    /// Each source's ingress, or why it is not configured.
    pub ingress: BTreeMap<Source, Result<Arc<IngressHandler>, String>>,
    /// Each worker's processor, or why it waits.
    pub workers: Vec<(WorkerKind, Result<Arc<BatchProcessor>, String>)>,
}

/// Where `serve` and the operator commands get their configuration and runtime services.
#[derive(Clone)]
pub struct ServeEnv<'a> {
    /// `--backend`, when given.
    pub backend: Option<BackendKind>,
    /// The embedded store's directory.
    pub data_dir: &'a Path,
    /// The environment variables.
    pub env: Env<'a>,
    /// Where metrics go.
    pub metrics: Arc<dyn Metrics>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl ServeEnv<'_> {
    /// The backend asked for: `--backend`, else AWS when `AWS_ENDPOINT_URL` is set, else embedded.
    pub fn backend_kind(&self) -> BackendKind {
        self.backend.unwrap_or(if endpoint_configured(self.env) {
            BackendKind::Aws
        } else {
            BackendKind::Embedded
        })
    }
}

/// Builds every part of `serve`; a malformed setting stops it, a missing one only parks a part.
pub async fn build(serve: &ServeEnv<'_>) -> Result<ServeParts, StartupError> {
    let (runtime, connectors) = serve_settings(serve.env)?;
    let backend = Backend::open(
        serve.backend_kind(),
        serve.data_dir,
        runtime.max_receive_count,
        serve.env,
    )
    .await?;
    let secrets = Secrets::from_environment();
    let mut handlers = BTreeMap::new();
    for source in Source::ALL {
        let handler = if webhooks_configured(source, serve.env) {
            let settings = WebhookSettings::from_env(source, serve.env)?;
            let handler = ingress::ingress(
                &settings,
                &secrets,
                backend.publisher(source),
                serve.metrics.clone(),
                serve.clock.clone(),
            )
            .await?;
            Ok(Arc::new(handler))
        } else {
            let variable = IngressVariables::of(source).secrets;
            tracing::warn!(source = %source, "{source} webhooks answer 503 (set {variable})");
            Err(format!("not configured: set {variable}"))
        };
        handlers.insert(source, handler);
    }
    let missing = connectors.missing();
    // One set of clients for both workers: one HTTP pool each, one cached status lookup.
    let clients = if missing.is_empty() {
        let latency = CallLatency::new(serve.metrics.clone());
        let clock = serve.clock.clone();
        Some(Clients::connect(&connectors, &secrets, latency, clock, Some(&backend)).await?)
    } else {
        None
    };
    let workers = WorkerKind::ALL
        .into_iter()
        .map(|kind| {
            let processor = match &clients {
                Some(clients) => Ok(Arc::new(worker::processor(
                    kind,
                    clients.clone(),
                    &connectors,
                    backend.stores(kind, runtime.journal_retention_days),
                    &runtime,
                    serve.metrics.clone(),
                    serve.clock.clone(),
                ))),
                None => {
                    let why = format!("waiting: not configured: {}", missing.join("; "));
                    tracing::warn!(
                        worker = kind.name(),
                        "{why}; its events are kept on the queue"
                    );
                    Err(why)
                }
            };
            (kind, processor)
        })
        .collect();
    Ok(ServeParts {
        backend,
        runtime,
        ingress: handlers,
        workers,
    })
}

/// The backend of an operator command (`dlq`, `replay`, `trace`, `doctor`): no receive limit
/// applies to what an operator reads.
pub async fn operator_backend(serve: &ServeEnv<'_>) -> Result<Backend, StartupError> {
    Backend::open(serve.backend_kind(), serve.data_dir, u32::MAX, serve.env).await
}

/// `paybridge reconcile`'s sweep over `backend`: Stripe and Kentico from the environment (both
/// required), healing onto the backend's Stripe queue.
pub async fn operator_sweep(
    serve: &ServeEnv<'_>,
    backend: &Backend,
) -> Result<crate::reconcile::sweep::Sweep, StartupError> {
    let (_, connectors) = serve_settings(serve.env)?;
    let clients = Clients::connect(
        &connectors,
        &Secrets::from_environment(),
        CallLatency::new(serve.metrics.clone()),
        serve.clock.clone(),
        Some(backend),
    )
    .await?;
    Ok(super::reconcile::sweep(
        clients,
        &connectors,
        backend.sweep_stores(),
        serve.metrics.clone(),
        serve.clock.clone(),
    ))
}

/// Stripe and Kentico for an operator's command that reads them (`customer show`); both must be
/// configured.
pub async fn operator_clients(
    serve: &ServeEnv<'_>,
    backend: &Backend,
) -> Result<Clients, StartupError> {
    let (_, connectors) = serve_settings(serve.env)?;
    Clients::connect(
        &connectors,
        &Secrets::from_environment(),
        CallLatency::new(serve.metrics.clone()),
        serve.clock.clone(),
        Some(backend),
    )
    .await
}

/// What `doctor` checks beyond the backend: the settings and, when complete, the clients.
pub async fn doctor_clients(
    env: Env<'_>,
) -> Result<
    (
        crate::config::worker::ConnectorSettings,
        Option<Result<Clients, StartupError>>,
    ),
    StartupError,
> {
    let (_, connectors) = serve_settings(env)?;
    if !connectors.missing().is_empty() {
        return Ok((connectors, None));
    }
    let clients = Clients::connect(
        &connectors,
        &Secrets::from_environment(),
        CallLatency::default(),
        Arc::new(crate::clock::SystemClock),
        None,
    )
    .await;
    Ok((connectors, Some(clients)))
}

/// Stripe alone, for an operator's command that only talks to Stripe (`setup stripe`): the
/// same settings and key as the workers (`serve_settings`), Kentico not needed.
pub async fn operator_stripe(
    env: Env<'_>,
) -> Result<crate::connectors::stripe::StripeClient, StartupError> {
    let (_, connectors) = serve_settings(env)?;
    let Some(stripe) = &connectors.stripe else {
        let problems = (connectors.missing().into_iter())
            .filter(|m| m.starts_with("Stripe"))
            .collect();
        return Err(StartupError::Config(crate::config::ConfigError {
            problems,
        }));
    };
    super::clients::stripe_client(
        stripe,
        &connectors,
        &Secrets::from_environment(),
        CallLatency::default(),
    )
    .await
}
