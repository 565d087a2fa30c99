//! Webhook ingress: verify, read the envelope, enqueue, answer. No business logic here.

pub mod lambda;
mod outcome;

use std::sync::Arc;

use tracing::Instrument;

use crate::clock::{Clock, rfc3339_millis};
use crate::config::mode::StripeMode;
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
    mode: Option<StripeMode>,
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
            mode: None,
        }
    }

    /// Pins the deployment's Stripe mode: a verified event of the other mode is acknowledged
    /// (so Stripe stops retrying it), counted and not enqueued.
    pub fn with_stripe_mode(mut self, mode: Option<StripeMode>) -> Self {
        self.mode = mode;
        self
    }

    /// The largest message accepted: the queue's limit less what a dead-letter copy adds, so
    /// every accepted event can also be dead-lettered with its reason.
    fn accepted_bytes(&self) -> usize {
        self.max_message_bytes
            .saturating_sub(crate::queue::DEAD_LETTER_ATTRIBUTE_RESERVE)
    }

    /// The source this ingress serves.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Handles one HTTP request (Lambda's or `serve`'s): takes the source's signature header
    /// from `headers`. A header that is not visible ASCII still reaches the parser, which
    /// refuses it as malformed. A header sent more than once is read as its values joined by
    /// commas, as API Gateway passes it to the Lambda: `serve` and the Lambda see the same
    /// value (and a second `t=` in it is malformed).
    pub async fn handle_http(
        &self,
        method: &str,
        headers: &lambda_http::http::HeaderMap,
        body: &[u8],
    ) -> IngressResponse {
        let values: Vec<String> = headers
            .get_all(self.source.signature_header())
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        let signature = (!values.is_empty()).then(|| values.join(","));
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
            Ok(Accepted::Enqueued {
                event_id,
                message_id,
            }) => {
                tracing::info!(
                    message_id = %message_id,
                    outcome = "accepted",
                    "webhook accepted and enqueued"
                );
                IngressResponse::accepted(&event_id, &message_id)
            }
            Ok(Accepted::OtherMode { event_id, event }) => {
                let ours = self.mode.map_or("unknown", StripeMode::as_str);
                tracing::warn!(
                    outcome = OUTCOME_OTHER_MODE,
                    event_mode = event.as_str(),
                    deployment_mode = ours,
                    "webhook of the other Stripe mode acknowledged and ignored"
                );
                IngressResponse::ignored(
                    &event_id,
                    OUTCOME_OTHER_MODE,
                    &format!("a {event}-mode event; this deployment is {ours} mode"),
                )
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
        let limit = self.accepted_bytes();
        if request.body.len() > limit {
            return Err(Refusal::TooLarge {
                size: request.body.len(),
                limit,
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
        if let (Some(ours), Some(livemode)) = (self.mode, event.livemode)
            && ours.livemode() != livemode
        {
            return Ok(Accepted::OtherMode {
                event_id: event.id,
                event: StripeMode::of_livemode(livemode),
            });
        }
        let envelope = QueueEnvelope::wrap(self.source, &event, rfc3339_millis(now), body)
            .and_then(|envelope| envelope.to_message())
            .map_err(|e| {
                Refusal::Envelope(crate::webhook::EventEnvelopeError::MalformedJson(
                    e.to_string(),
                ))
            })?;
        let size = envelope.sqs_size();
        if size > limit {
            return Err(Refusal::TooLarge { size, limit });
        }
        let message_id = self.queue.publish(envelope).await.map_err(Refusal::Queue)?;
        Ok(Accepted::Enqueued {
            event_id: event.id,
            message_id,
        })
    }
}

/// The outcome (and metric) of a verified event of the other Stripe mode.
pub const OUTCOME_OTHER_MODE: &str = "other_mode_ignored";

/// What became of a request that was not refused.
enum Accepted {
    /// On the queue.
    Enqueued {
        event_id: String,
        message_id: String,
    },
    /// Verified, but of the other Stripe mode: acknowledged, not enqueued.
    OtherMode { event_id: String, event: StripeMode },
}

#[cfg(test)]
mod tests;
