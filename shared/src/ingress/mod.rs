//! Webhook ingress: verify, read the envelope, enqueue, answer. No business logic here.

pub mod lambda;
mod outcome;

use std::sync::Arc;

use tracing::Instrument;

use crate::clock::{Clock, rfc3339_millis};
use crate::metrics::Metrics;
use crate::queue::{QueueEnvelope, QueuePublisher};
use crate::webhook::{EventEnvelope, SignatureVerifier, Source};

pub use outcome::{IngressResponse, Refusal};

/// The metric counting every webhook request by source and outcome.
pub const METRIC_WEBHOOK_REQUESTS: &str = "WebhookRequests";

/// What ingress needs of an HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct IngressRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The signature header's value, if present.
    pub signature: Option<&'a str>,
    /// The raw body exactly as received (after API Gateway's base64 decoding).
    pub body: &'a [u8],
}

/// Verifies one source's webhooks and puts them on its queue.
pub struct IngressHandler {
    source: Source,
    verifier: SignatureVerifier,
    queue: Arc<dyn QueuePublisher>,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
    max_message_bytes: usize,
}

impl IngressHandler {
    /// An ingress for `source` that sends accepted events to `queue`.
    pub fn new(
        source: Source,
        verifier: SignatureVerifier,
        queue: Arc<dyn QueuePublisher>,
        metrics: Arc<dyn Metrics>,
        clock: Arc<dyn Clock>,
        max_message_bytes: usize,
    ) -> Self {
        Self {
            source,
            verifier,
            queue,
            metrics,
            clock,
            max_message_bytes,
        }
    }

    /// The source this ingress serves.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Handles one HTTP request (Lambda's or `serve`'s): takes the source's signature header
    /// from `headers`. A header that is not visible ASCII still reaches the parser, which
    /// refuses it as malformed.
    pub async fn handle_http(
        &self,
        method: &str,
        headers: &lambda_http::http::HeaderMap,
        body: &[u8],
    ) -> IngressResponse {
        let signature = headers
            .get(self.source.signature_header())
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        self.handle(IngressRequest {
            method,
            signature: signature.as_deref(),
            body,
        })
        .await
    }

    /// Handles one request: 202 once the queue accepted the event, or a refusal. Every log line
    /// of the request carries one span: the source, and the event's id and type once verified.
    pub async fn handle(&self, request: IngressRequest<'_>) -> IngressResponse {
        let span = tracing::info_span!(
            "webhook",
            source = %self.source,
            event_id = tracing::field::Empty,
            event_type = tracing::field::Empty,
        );
        self.respond(request).instrument(span).await
    }

    async fn respond(&self, request: IngressRequest<'_>) -> IngressResponse {
        let response = match self.accept(request).await {
            Ok(accepted) => {
                tracing::info!(
                    message_id = %accepted.message_id,
                    outcome = "accepted",
                    "webhook accepted and enqueued"
                );
                IngressResponse::accepted(&accepted.event_id, &accepted.message_id)
            }
            Err(refusal) => {
                if refusal.status() >= 500 {
                    tracing::error!(outcome = refusal.code(), reason = %refusal, "webhook not enqueued; the sender will retry");
                } else {
                    tracing::warn!(outcome = refusal.code(), reason = %refusal, "webhook refused");
                }
                IngressResponse::refused(&refusal)
            }
        };
        self.metrics.increment(
            METRIC_WEBHOOK_REQUESTS,
            &[
                ("Source", self.source.as_str()),
                ("Outcome", response.outcome),
            ],
        );
        response
    }

    async fn accept(&self, request: IngressRequest<'_>) -> Result<Accepted, Refusal> {
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(Refusal::MethodNotAllowed(request.method.to_string()));
        }
        // The body alone over the limit can never fit: refuse before spending an HMAC on it.
        if request.body.len() > self.max_message_bytes {
            return Err(Refusal::TooLarge {
                size: request.body.len(),
                limit: self.max_message_bytes,
            });
        }
        let now = self.clock.now();
        self.verifier
            .verify(request.signature, request.body, now.unix_timestamp())
            .map_err(Refusal::Signature)?;
        let body = std::str::from_utf8(request.body).map_err(|e| {
            Refusal::Envelope(crate::webhook::EventEnvelopeError::MalformedJson(format!(
                "the body is not UTF-8: {e}"
            )))
        })?;
        let event = EventEnvelope::parse(body).map_err(Refusal::Envelope)?;
        let span = tracing::Span::current();
        span.record("event_id", event.id.as_str());
        span.record("event_type", event.event_type.as_str());
        let envelope = QueueEnvelope::wrap(self.source, &event, rfc3339_millis(now), body)
            .and_then(|envelope| envelope.to_message())
            .map_err(|e| {
                Refusal::Envelope(crate::webhook::EventEnvelopeError::MalformedJson(
                    e.to_string(),
                ))
            })?;
        let size = envelope.sqs_size();
        if size > self.max_message_bytes {
            return Err(Refusal::TooLarge {
                size,
                limit: self.max_message_bytes,
            });
        }
        let message_id = self.queue.publish(envelope).await.map_err(Refusal::Queue)?;
        Ok(Accepted {
            event_id: event.id,
            message_id,
        })
    }
}

struct Accepted {
    event_id: String,
    message_id: String,
}

#[cfg(test)]
mod tests;
