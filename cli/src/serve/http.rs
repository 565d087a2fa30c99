//! The HTTP side of `serve`: the Lambdas' ingress handler behind axum, `/healthz`, `/metrics`
//! (`serve` merges the console's routes, under `/console`, beside these).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use paybridge::app::Backend;
use paybridge::ingress::IngressHandler;
use paybridge::secret::SecretString;
use paybridge::webhook::Source;
use serde_json::json;

use super::prometheus::PrometheusMetrics;
use super::workers::WorkerStatus;

/// Bodies above this never reach the handler (which refuses anything over the queue limit).
const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// A request (body read, verified, queued, answered) that takes longer is answered 503: Stripe
/// and the Kentico module retry, and a slow sender cannot hold a connection open for ever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Who may read `/metrics`.
#[derive(Clone)]
pub enum MetricsAccess {
    /// Bound to loopback: only this machine can reach it.
    Public,
    /// Bound beyond loopback: `Authorization: Bearer <token>`.
    Token(SecretString),
    /// Bound beyond loopback without a token: refused.
    Refused,
}

/// Each source's ingress, or why it is not configured.
pub type Ingress = Arc<BTreeMap<Source, Result<Arc<IngressHandler>, String>>>;

/// What the routes share.
#[derive(Clone)]
pub struct AppState {
    /// Ingress per source.
    pub ingress: Ingress,
    /// Queues and state.
    pub backend: Backend,
    /// The counters `/metrics` shows.
    pub metrics: Arc<PrometheusMetrics>,
    /// The workers' states.
    pub workers: WorkerStatus,
    /// Who may read `/metrics`.
    pub metrics_access: MetricsAccess,
    /// The operator console, mounted at `/console`.
    pub console: crate::console::ConsoleState,
}

/// The routes, with the body limit and the request timeout in one place, and the console's
/// (under `/console`, behind its own gate and limits).
pub fn router(state: AppState) -> Router {
    let console = crate::console::router(state.console.clone());
    Router::new()
        .route("/webhooks/{source}", any(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(REQUEST_TIMEOUT, time_limit))
        .with_state(state)
        .merge(console)
}

/// Answers 503 `request_timeout` when a request takes longer than `limit` ([`REQUEST_TIMEOUT`]).
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": {"code": "request_timeout", "message": "the request took too long; retry it"}}),
            )
        }
    }
}

async fn webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(entry) = source
        .parse::<Source>()
        .ok()
        .and_then(|source| state.ingress.get(&source))
    else {
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
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return unread_body(&rejection),
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

/// A body that could not be read answers like the Lambda's refusals (a JSON reason code):
/// over [`BODY_LIMIT`] (announced, or found while reading a chunked body) is 413
/// `payload_too_large`, a body cut short or otherwise unreadable 400 `body_unreadable`.
fn unread_body(rejection: &BytesRejection) -> Response {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "payload_too_large"
    } else {
        "body_unreadable"
    };
    tracing::warn!(outcome = code, reason = %rejection.body_text(), "webhook refused");
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!("the body is over {BODY_LIMIT} bytes")
    } else {
        "the body could not be read".to_string()
    };
    let status = if status == StatusCode::PAYLOAD_TOO_LARGE {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    json_response(status, json!({"error": {"code": code, "message": message}}))
}

async fn healthz(State(state): State<AppState>) -> Response {
    let workers = state
        .workers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let ingress: BTreeMap<&str, String> = state
        .ingress
        .iter()
        .map(|(source, h)| {
            (
                source.as_str(),
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

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let refused = |message: &str| {
        json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"code": "metrics_unauthorized", "message": message}}),
        )
    };
    match &state.metrics_access {
        MetricsAccess::Public => {}
        MetricsAccess::Refused => {
            return refused(
                "serve is bound beyond loopback: set PAYBRIDGE_METRICS_TOKEN to read /metrics",
            );
        }
        MetricsAccess::Token(token) => {
            let sent = (headers.get(header::AUTHORIZATION))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let matches = sent.is_some_and(|sent| token.matches(sent.trim()));
            if !matches {
                return refused("send Authorization: Bearer <PAYBRIDGE_METRICS_TOKEN>");
            }
        }
    }
    let mut text = state.metrics.render();
    text.push_str("# TYPE paybridge_queue_messages gauge\n");
    for depth in state.backend.depths().await {
        text.push_str(&format!(
            "paybridge_queue_messages{{queue=\"{}\",state=\"visible\"}} {}\n",
            depth.queue, depth.visible
        ));
        text.push_str(&format!(
            "paybridge_queue_messages{{queue=\"{}\",state=\"in_flight\"}} {}\n",
            depth.queue, depth.in_flight
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt as _;

    use super::*;

    /// A sender that opens a request and never finishes its body is answered 503 once the
    /// request time is up, instead of holding the connection (and a worker of the server).
    #[tokio::test]
    async fn a_request_whose_body_never_ends_is_answered_503_when_its_time_is_up() {
        let limit = Duration::from_millis(300);
        let app = Router::new()
            .route(
                "/webhooks/stripe",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .layer(middleware::from_fn_with_state(limit, time_limit));
        let started = tokio::time::Instant::now();
        let stalled =
            Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());

        let response = app
            .clone()
            .oneshot(Request::post("/webhooks/stripe").body(stalled).unwrap())
            .await
            .unwrap();

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() >= limit);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "request_timeout");
        // A request that completes in time is answered as usual.
        let quick = app
            .oneshot(
                Request::post("/webhooks/stripe")
                    .body(Body::from("abc"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(quick.status(), StatusCode::OK);
    }
}
