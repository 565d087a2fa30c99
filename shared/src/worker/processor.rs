//! The batch processor: decode, group by business key, run under the idempotency guard, settle.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tracing::Instrument;

use super::outcome::{BatchReport, MessageOutcome};
use super::{
    Backoff, Delivery, Handled, HandlerError, METRIC_WORKER_MESSAGES, ReceivedEvent, Router,
};
use crate::clock::{Clock, rfc3339_millis};
use crate::dead_letters::MessageSettler;
use crate::idempotency::{Guarded, Idempotency, IdempotencyError};
use crate::journal::{EventJournal, JournalEntry};
use crate::metrics::Metrics;
use crate::queue::{DeadLetter, QueueMessage};

/// A message attribute that makes a replayed event run again under a fresh idempotency key
/// (its side effects stay guarded by their business keys).
pub const ATTRIBUTE_REPLAY: &str = "replay";

/// How a processor runs.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// The worker's name: part of every idempotency key and metric.
    pub worker: String,
    /// How many business keys run at once.
    pub concurrency: usize,
    /// The retry schedule.
    pub backoff: Backoff,
    /// When set, a message failing transiently on its `n`-th delivery (n ≥ this) is
    /// dead-lettered by the processor with its last reason, rather than left to the queue's
    /// redrive policy (which moves it without a reason). Set it to the queue's `maxReceiveCount`.
    pub max_receive_count: Option<u32>,
}

/// What a message's calls leave of its invocation, to record and settle it.
const SETTLE_MARGIN_MS: i64 = super::budget::SETTLE_MARGIN.as_millis() as i64;

/// Processes SQS batches for one worker.
pub struct BatchProcessor {
    router: Router,
    idempotency: Idempotency,
    settler: Arc<dyn MessageSettler>,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
    config: ProcessorConfig,
    journal: Option<Arc<dyn EventJournal>>,
    start_reserve_ms: i64,
    bound_calls: bool,
}

struct Decoded {
    index: usize,
    message: QueueMessage,
    event: Result<ReceivedEvent, String>,
    business_key: String,
}

impl BatchProcessor {
    /// Hands on the metrics counted so far (the Lambda glue, after each invocation).
    pub fn flush_metrics(&self) {
        self.metrics.flush();
    }

    /// A processor routing with `router`, guarded by `idempotency`, settling with `settler`.
    pub fn new(
        router: Router,
        idempotency: Idempotency,
        settler: Arc<dyn MessageSettler>,
        metrics: Arc<dyn Metrics>,
        clock: Arc<dyn Clock>,
        config: ProcessorConfig,
    ) -> Self {
        Self {
            router,
            idempotency,
            settler,
            metrics,
            clock,
            config,
            journal: None,
            start_reserve_ms: 0,
            bound_calls: false,
        }
    }

    /// The event types this processor routes, sorted (others are ignored on purpose).
    pub fn event_types(&self) -> Vec<&str> {
        self.router.event_types()
    }

    /// Records every outcome in `journal` (for `paybridge trace` and `replay`).
    pub fn with_journal(mut self, journal: Arc<dyn EventJournal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// For a Lambda, whose deadline is a kill: a message starts only while at least `reserve`
    /// of the invocation remains (later ones are handed back unstarted, visible again at once,
    /// instead of being cut off by the timeout, which would return the whole batch only after
    /// the queue's visibility timeout), and its calls to Stripe and Kentico must be over
    /// [`SETTLE_MARGIN_MS`] before the deadline. Without it (`serve`, whose deadline is only
    /// its messages' visibility, a lease), every message starts and calls keep their timeouts.
    pub fn with_invocation_deadline(mut self, reserve: std::time::Duration) -> Self {
        self.start_reserve_ms = i64::try_from(reserve.as_millis()).unwrap_or(i64::MAX);
        self.bound_calls = true;
        self
    }

    /// Processes a batch. `deadline_ms` (unix ms) is when this invocation certainly ends.
    pub async fn process(&self, messages: Vec<QueueMessage>, deadline_ms: i64) -> BatchReport {
        let groups = self.group(messages);
        let mut results: Vec<(usize, String, MessageOutcome)> = futures::stream::iter(groups)
            .map(|group| self.run_group(group, deadline_ms))
            .buffer_unordered(self.config.concurrency.max(1))
            .flat_map(futures::stream::iter)
            .collect()
            .await;
        results.sort_by_key(|(index, _, _)| *index);
        BatchReport {
            outcomes: results
                .into_iter()
                .map(|(_, id, outcome)| (id, outcome))
                .collect(),
        }
    }

    /// Groups messages by business key, keeping arrival order within and across groups.
    fn group(&self, messages: Vec<QueueMessage>) -> Vec<Vec<Decoded>> {
        let mut groups: Vec<Vec<Decoded>> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (index, message) in messages.into_iter().enumerate() {
            let event = ReceivedEvent::decode(&message.body);
            let key = match &event {
                Ok(event) => self
                    .router
                    .handler(event.event_type())
                    .and_then(|handler| handler.business_key(event))
                    .unwrap_or_else(|| {
                        format!("event:{}:{}", event.envelope.source, event.event_id())
                    }),
                Err(_) => format!("message:{}", message.message_id),
            };
            let slot = *by_key.entry(key.clone()).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[slot].push(Decoded {
                index,
                message,
                event,
                business_key: key,
            });
        }
        groups
    }

    async fn run_group(
        &self,
        group: Vec<Decoded>,
        deadline_ms: i64,
    ) -> Vec<(usize, String, MessageOutcome)> {
        let mut blocked_by: Option<String> = None;
        let mut results = Vec::with_capacity(group.len());
        for decoded in group {
            let span = message_span(&self.config.worker, &decoded);
            let outcome = async {
                let now_ms = crate::clock::unix_millis(self.clock.now());
                if now_ms.saturating_add(self.start_reserve_ms) > deadline_ms {
                    return self.hand_back(&decoded.message, deadline_ms - now_ms).await;
                }
                match &blocked_by {
                    // Keep the key's order: nothing after a failed message runs before it does.
                    Some(earlier) => {
                        let reason = format!(
                            "waiting for earlier message {earlier} with the same business key"
                        );
                        self.retry(&decoded.message, reason).await
                    }
                    None => self.process_one(&decoded, deadline_ms).await,
                }
            }
            .instrument(span.clone())
            .await;
            if outcome.is_failure() && blocked_by.is_none() {
                blocked_by = Some(decoded.message.message_id.clone());
            }
            span.in_scope(|| self.record(&decoded, &outcome));
            self.journal(&decoded, &outcome).instrument(span).await;
            results.push((decoded.index, decoded.message.message_id, outcome));
        }
        results
    }

    async fn process_one(&self, decoded: &Decoded, deadline_ms: i64) -> MessageOutcome {
        let message = &decoded.message;
        let event = match &decoded.event {
            Ok(event) => event,
            Err(reason) => {
                return self
                    .dead_letter(message, "undecodable_message", reason.clone(), Vec::new())
                    .await;
            }
        };
        let envelope = &event.envelope;
        let Some(handler) = self.router.handler(&envelope.event_type) else {
            return MessageOutcome::Ignored(format!(
                "no route for event type {}",
                envelope.event_type
            ));
        };
        let mut key = format!(
            "{}#{}#{}",
            self.config.worker, envelope.source, envelope.event_id
        );
        if let Some(replay) = message.attributes.get(ATTRIBUTE_REPLAY) {
            key.push_str(&format!("#replay-{replay}"));
        }
        let delivery = Delivery {
            deadline_ms,
            replay: message.attributes.contains_key(ATTRIBUTE_REPLAY),
        };
        // The handler's calls to Stripe and Kentico must be over early enough to settle the
        // message (record, delete or retry) before the invocation ends.
        let now_ms = crate::clock::unix_millis(self.clock.now());
        let calls_ms = (deadline_ms - SETTLE_MARGIN_MS)
            .saturating_sub(now_ms)
            .max(0);
        let calls_end_by = std::time::Instant::now()
            + std::time::Duration::from_millis(u64::try_from(calls_ms).unwrap_or(0));
        let run =
            self.idempotency
                .run(&key, envelope.payload.get().as_bytes(), deadline_ms, || {
                    handler.handle(event, &delivery)
                });
        let guarded = if self.bound_calls {
            crate::clock::with_deadline(calls_end_by, run).await
        } else {
            run.await
        };
        match guarded {
            Ok(Guarded::Replayed(_)) => MessageOutcome::Duplicate,
            Ok(Guarded::Ran(Handled::Done(_))) => MessageOutcome::Done,
            Ok(Guarded::Ran(Handled::Ignored(reason))) => MessageOutcome::Ignored(reason),
            Err(IdempotencyError::AlreadyInProgress { .. }) => {
                self.retry(message, "another invocation is processing this event".into()).await
            }
            Err(IdempotencyError::PayloadMismatch { key }) => {
                self.dead_letter(
                    message,
                    "payload_mismatch",
                    format!("{key} was processed before with a different payload; compare the two deliveries"),
                    Vec::new(),
                )
                .await
            }
            Err(IdempotencyError::Store(error)) if error.is_transient() => {
                self.retry(message, error.to_string()).await
            }
            Err(IdempotencyError::Store(error)) => {
                self.dead_letter(message, error.kind(), error.to_string(), Vec::new())
                    .await
            }
            Err(IdempotencyError::Handler(HandlerError::Transient(reason))) => self.retry(message, reason).await,
            Err(IdempotencyError::Handler(HandlerError::Permanent { kind, reason, details })) => {
                self.dead_letter(message, &kind, reason, details).await
            }
            // A panic is a bug meeting this data: the same data panics again on every retry, so it
            // is parked for a person with the panic's message instead of retried for days.
            Err(IdempotencyError::Panicked(panic)) => {
                self.dead_letter(
                    message,
                    "handler_panic",
                    format!("the handler panicked on this event: {panic}; report it with the event, then replay it once fixed"),
                    Vec::new(),
                )
                .await
            }
        }
    }

    /// Hands `message` back unstarted: visible again at once, reported as a batch item failure.
    async fn hand_back(&self, message: &QueueMessage, remaining_ms: i64) -> MessageOutcome {
        if let Err(error) = self.settler.retry_after(message, 0).await {
            tracing::warn!(message_id = %message.message_id, error = %error, "could not hand the message back at once");
        }
        MessageOutcome::Retry {
            reason: format!(
                "not started: {} ms of the invocation remained, less than the {} ms a message may take",
                remaining_ms.max(0),
                self.start_reserve_ms
            ),
            after_seconds: 0,
        }
    }

    async fn retry(&self, message: &QueueMessage, reason: String) -> MessageOutcome {
        if let Some(max) = self.config.max_receive_count
            && message.receive_count >= max
        {
            let reason = format!(
                "gave up after {} deliveries; last error: {reason}",
                message.receive_count
            );
            return self
                .dead_letter(message, "retries_exhausted", reason, Vec::new())
                .await;
        }
        let after_seconds = self
            .config
            .backoff
            .delay_seconds(message.receive_count, fastrand::f64());
        if let Err(error) = self.settler.retry_after(message, after_seconds).await {
            // Still reported as failed: it comes back after the queue's visibility timeout.
            tracing::warn!(message_id = %message.message_id, error = %error, "could not set the retry delay");
        }
        MessageOutcome::Retry {
            reason,
            after_seconds,
        }
    }

    async fn dead_letter(
        &self,
        message: &QueueMessage,
        kind: &str,
        reason: String,
        details: Vec<(String, String)>,
    ) -> MessageOutcome {
        let failure = DeadLetter {
            reason: reason.clone(),
            kind: kind.to_string(),
            failed_at: rfc3339_millis(self.clock.now()),
            details,
        };
        match self.settler.dead_letter(message, &failure).await {
            Ok(()) => MessageOutcome::DeadLettered {
                kind: kind.to_string(),
                reason,
            },
            Err(error) => MessageOutcome::DeadLetterFailed {
                kind: kind.to_string(),
                error: error.to_string(),
            },
        }
    }

    async fn journal(&self, decoded: &Decoded, outcome: &MessageOutcome) {
        let (Some(journal), Ok(ReceivedEvent { envelope, .. })) = (&self.journal, &decoded.event)
        else {
            return;
        };
        let detail = match outcome {
            MessageOutcome::Done | MessageOutcome::Duplicate => String::new(),
            MessageOutcome::Ignored(reason) => reason.clone(),
            MessageOutcome::Retry {
                reason,
                after_seconds,
            } => format!("{reason} (again in {after_seconds} s)"),
            MessageOutcome::DeadLettered { kind, reason } => format!("{kind}: {reason}"),
            MessageOutcome::DeadLetterFailed { kind, error } => {
                format!("{kind}: the DLQ refused it: {error}")
            }
        };
        let entry = JournalEntry {
            at: rfc3339_millis(self.clock.now()),
            source: envelope.source.to_string(),
            event_id: envelope.event_id.clone(),
            event_type: envelope.event_type.clone(),
            worker: self.config.worker.clone(),
            outcome: outcome.label().to_string(),
            detail,
            receive_count: decoded.message.receive_count,
        };
        if let Err(error) = journal
            .record(&decoded.business_key, &entry, &decoded.message.body)
            .await
        {
            tracing::warn!(event_id = %envelope.event_id, %error, "could not journal the outcome; the message is unaffected");
        }
    }

    /// Logs the outcome (inside the message's span, which carries the event's fields) and
    /// counts it.
    fn record(&self, decoded: &Decoded, outcome: &MessageOutcome) {
        let event_type = match &decoded.event {
            Ok(event) => event.event_type(),
            Err(_) => "unknown",
        };
        let label = outcome.label();
        match outcome {
            MessageOutcome::Done | MessageOutcome::Duplicate => {
                tracing::info!(outcome = label, "message processed")
            }
            MessageOutcome::Ignored(reason) => {
                tracing::info!(outcome = label, reason, "message ignored on purpose")
            }
            MessageOutcome::Retry {
                reason,
                after_seconds,
            } => tracing::warn!(
                outcome = label,
                after_seconds,
                reason,
                "message will be retried"
            ),
            MessageOutcome::DeadLettered { kind, reason } => tracing::error!(
                outcome = label,
                kind,
                reason,
                "message sent to the dead-letter queue"
            ),
            MessageOutcome::DeadLetterFailed { kind, error } => tracing::error!(
                outcome = label,
                kind,
                error,
                "the dead-letter queue refused the message; it stays on the queue"
            ),
        }
        self.metrics.increment(
            METRIC_WORKER_MESSAGES,
            &[
                ("Worker", self.config.worker.as_str()),
                ("EventType", event_type),
                ("Outcome", label),
            ],
        );
    }
}

/// The span every log line about one message carries: who handles it, which event it is,
/// which delivery, and the order when its business key names one.
fn message_span(worker: &str, decoded: &Decoded) -> tracing::Span {
    let (source, event_type, event_id) = match &decoded.event {
        Ok(event) => (
            event.envelope.source.as_str(),
            event.event_type(),
            event.event_id(),
        ),
        Err(_) => ("unknown", "unknown", ""),
    };
    let order_id = decoded.business_key.strip_prefix("order:");
    tracing::info_span!(
        "message",
        worker,
        source,
        event_type,
        event_id,
        message_id = %decoded.message.message_id,
        receive_count = decoded.message.receive_count,
        order_id,
    )
}

#[cfg(test)]
mod tests;
