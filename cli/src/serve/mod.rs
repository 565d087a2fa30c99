//! `paybridge serve`: the Lambdas' ingress and worker code in one process, on the embedded
//! store (SQLite) or on AWS (SQS + DynamoDB, e.g. moto), with `/healthz` and `/metrics`. The
//! parts come from the composition root (`paybridge::app::serve`); this runs them.

mod http;
mod prometheus;
mod workers;

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use paybridge::config::cli::{
    VAR_CONSOLE_TOKEN, VAR_HOST, VAR_LOG_FORMAT, VAR_METRICS_TOKEN, VAR_PORT,
    VAR_VISIBILITY_TIMEOUT,
};
use paybridge::secret::SecretString;
use prometheus::PrometheusMetrics;

use crate::backend::BackendArgs;

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, env = VAR_PORT, default_value_t = 8080)]
    port: u16,
    /// Address to bind (0.0.0.0 to accept webhooks from other machines).
    #[arg(long, env = VAR_HOST, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[command(flatten)]
    backend: BackendArgs,
    /// How long a received message stays invisible while a worker holds it (seconds).
    #[arg(
        long,
        env = VAR_VISIBILITY_TIMEOUT,
        default_value_t = 60
    )]
    visibility_timeout: u32,
    /// The bearer token `/metrics` asks for when bound to a non-loopback address; without it,
    /// `/metrics` answers only on loopback.
    #[arg(long, env = VAR_METRICS_TOKEN, hide_env_values = true)]
    metrics_token: Option<String>,
    /// The token operators log in to the console (`/console`) with when bound to a
    /// non-loopback address; without it, such a console refuses every page. On loopback the
    /// console needs no login.
    #[arg(long, env = VAR_CONSOLE_TOKEN, hide_env_values = true)]
    console_token: Option<String>,
    /// `json` (one object per line, with the span's fields) or `text`; default: JSON unless
    /// stdout is a terminal. Text has colours only on a terminal.
    #[arg(long, env = VAR_LOG_FORMAT, value_enum)]
    log_format: Option<LogFormat>,
}

/// How `serve` writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// One JSON object per line (for CloudWatch, Loki, journald…).
    Json,
    /// Human-readable lines.
    Text,
}

/// Runs `serve` until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> Result<(), String> {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let format = args.log_format.unwrap_or(match terminal {
        true => LogFormat::Text,
        false => LogFormat::Json,
    });
    match format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_ansi(terminal)
            .with_env_filter(filter)
            .init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let metrics = Arc::new(PrometheusMetrics::new());
    let serve_env = args.backend.serve_env(metrics.clone());
    let parts = paybridge::app::serve::build(&serve_env)
        .await
        .map_err(|e| e.to_string())?;
    // Take the port before any worker starts: a port in use fails fast with nothing running.
    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let workers = workers::start(&parts, args.visibility_timeout);
    let purger = tokio::spawn(housekeeping(
        parts.backend.clone(),
        parts.runtime.journal_retention_days,
    ));
    let upkeep = tokio::spawn({
        let metrics = metrics.clone();
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.upkeep();
            }
        }
    });
    let backend_name = parts.backend.name();
    let backend = parts.backend.clone();
    let metrics_access = match (args.host.is_loopback(), args.metrics_token) {
        (true, _) => http::MetricsAccess::Public,
        (false, Some(token)) if !token.trim().is_empty() => {
            http::MetricsAccess::Token(SecretString::new(token.trim().to_string()))
        }
        (false, _) => {
            tracing::warn!(%address, "bound beyond loopback without {VAR_METRICS_TOKEN}: /metrics is refused");
            http::MetricsAccess::Refused
        }
    };
    let console = crate::console::state(
        parts.backend.clone(),
        crate::console::Gate::for_bind(args.host, args.console_token.as_deref()),
        Some(metrics.clone() as Arc<dyn crate::console::LiveMetrics>),
    )?;
    let state = http::AppState {
        ingress: Arc::new(parts.ingress),
        backend: parts.backend,
        metrics,
        workers: workers.status.clone(),
        metrics_access,
        console,
    };
    tracing::info!(%address, backend = backend_name, "paybridge serve listening: POST /webhooks/stripe, POST /webhooks/kentico, GET /healthz, GET /metrics, GET /console/");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("no longer accepting webhooks; letting the workers finish their batches");
    purger.abort();
    upkeep.abort();
    workers.stop().await;
    if let Err(error) = backend.truncate_wal().await {
        tracing::warn!(%error, "could not truncate the write-ahead log at shutdown");
    }
    tracing::info!("stopped");
    Ok(())
}

/// How often the embedded store's write-ahead log is truncated: a settled message's payload
/// is gone from every file within this.
const TRUNCATE_WAL_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How often the journal past its retention and expired idempotency records are purged.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// The embedded store's housekeeping (on AWS, DynamoDB's TTL and SQS do it): the write-ahead
/// log truncated every few seconds; at start and then once a day, the journal past its
/// retention and expired idempotency records deleted.
async fn housekeeping(backend: paybridge::app::Backend, retention_days: u32) {
    let mut tick = tokio::time::interval(TRUNCATE_WAL_EVERY);
    // A truncation that had to give way is retried at the next period, not in a burst.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_purge = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        match backend.truncate_wal().await {
            Ok(None) => return,
            Ok(Some(_)) => {}
            Err(error) => {
                tracing::warn!(%error, "could not truncate the write-ahead log; trying again")
            }
        }
        if tokio::time::Instant::now() < next_purge {
            continue;
        }
        next_purge += PURGE_EVERY;
        match backend.purge_expired(retention_days).await {
            Ok(Some(purged)) => tracing::info!(
                retention_days,
                journal_entries = purged.journal_entries,
                journal_envelopes = purged.journal_envelopes,
                idempotency_records = purged.idempotency_records,
                "purged what the store keeps only for a while"
            ),
            Ok(None) => return,
            Err(error) => tracing::warn!(%error, "the daily purge failed; it runs again tomorrow"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
