//! The HTTP side of `serve`: the Lambdas' ingress handler behind axum, `/healthz`, `/metrics`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use paybridge::clock::Clock;
use paybridge::config::{IngressConfig, IngressVariables, SecretSetting};
use paybridge::ingress::IngressHandler;
use paybridge::metrics::{InMemoryMetrics, Metrics};
use paybridge::webhook::{SignatureVerifier, Source};
use serde_json::json;

use super::Backend;
use super::workers::WorkerStatus;

/// Bodies above this never reach the handler (which refuses anything over the queue limit).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Each source's ingress, or why it is not configured.
#[derive(Clone)]
pub struct Ingress {
    handlers: BTreeMap<&'static str, Result<Arc<IngressHandler>, String>>,
}

impl Ingress {
    /// Builds both sources' ingress from the environment; a source without its webhook secret
    /// answers 503 (the sender retries later, nothing is lost).
    pub fn build(
        backend: &Backend,
        env: &dyn Fn(&str) -> Option<String>,
        metrics: Arc<dyn Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let mut handlers = BTreeMap::new();
        for source in [Source::Stripe, Source::Kentico] {
            let vars = IngressVariables::of(source);
            // The queue is the backend's: give the config reader a placeholder for its URL.
            let with_queue = |name: &str| {
                if name == vars.queue_url {
                    Some("serve".to_string())
                } else {
                    env(name)
                }
            };
            let handler = match IngressConfig::from_env(source, &with_queue) {
                Ok(config) => match config.webhook_secrets {
                    SecretSetting::Plain(secrets) => Ok(Arc::new(IngressHandler::new(
                        source,
                        SignatureVerifier::new(secrets, config.tolerance_seconds),
                        backend.publisher(source),
                        metrics.clone(),
                        clock.clone(),
                        config.max_message_bytes,
                    ))),
                    SecretSetting::SecretsManager { .. } => {
                        return Err(format!(
                            "{}: serve reads webhook secrets from {} (or .env), not Secrets Manager",
                            source, vars.secrets
                        ));
                    }
                },
                Err(_) if env(vars.secrets).is_none() && env(vars.secret_arn).is_none() => {
                    Err(format!("not configured: set {}", vars.secrets))
                }
                Err(error) => return Err(error.to_string()),
            };
            if let Err(why) = &handler {
                tracing::warn!(source = %source, "{source} webhooks answer 503 ({why})");
            }
            handlers.insert(source.as_str(), handler);
        }
        Ok(Self { handlers })
    }
}

/// What the routes share.
#[derive(Clone)]
pub struct AppState {
    /// Ingress per source.
    pub ingress: Ingress,
    /// Queues and state.
    pub backend: Backend,
    /// The counters `/metrics` shows.
    pub metrics: Arc<InMemoryMetrics>,
    /// The workers' states.
    pub workers: WorkerStatus,
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/{source}", any(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(entry) = state.ingress.handlers.get(source.as_str()) else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error": {"code": "unknown_source", "message": format!("no webhook source '{source}' (stripe, kentico)")}}),
        );
    };
    let handler = match entry {
        Ok(handler) => handler,
        Err(why) => {
            return json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": {"code": "source_unconfigured", "message": why}}),
            );
        }
    };
    let response = handler.handle_http(method.as_str(), &headers, &body).await;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut http = json_response(status, response.body);
    if response.status == 405 {
        http.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    }
    http
}

async fn healthz(State(state): State<AppState>) -> Response {
    let workers = state
        .workers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let ingress: BTreeMap<&str, String> = state
        .ingress
        .handlers
        .iter()
        .map(|(source, h)| {
            (
                *source,
                h.as_ref()
                    .map(|_| "ready".to_string())
                    .unwrap_or_else(|why| why.clone()),
            )
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({"status": "ok", "backend": state.backend.name(), "ingress": ingress, "workers": workers}),
    )
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render_prometheus();
    text.push_str("# TYPE paybridge_queue_messages gauge\n");
    for (queue, visible, in_flight) in state.backend.depths().await {
        text.push_str(&format!(
            "paybridge_queue_messages{{queue=\"{queue}\",state=\"visible\"}} {visible}\n"
        ));
        text.push_str(&format!(
            "paybridge_queue_messages{{queue=\"{queue}\",state=\"in_flight\"}} {in_flight}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
