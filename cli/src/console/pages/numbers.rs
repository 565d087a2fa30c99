//! The Flows numbers: queue and DLQ depths from the backend, the last hour's outcomes per
//! source from the journal (`EventJournal::recent`), and the same as JSON
//! (`/console/api/flows`, which console.js polls every 2 s).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use paybridge::app::QueueDepth;
use serde::Serialize;

use super::super::ConsoleState;
use super::active;

/// The journal window the outcomes are counted over.
pub const WINDOW_SECONDS: i64 = 3_600;
/// The most journal entries one count reads.
const MAX_ENTRIES: usize = 20_000;

/// How long counted outcomes are reused: console.js asks every 2 s from every open page, and on
/// DynamoDB each count is a scan of the table.
pub const OUTCOMES_FRESH_FOR: Duration = Duration::from_secs(10);

/// The outcomes last counted, shared by every request; one count runs at a time and the others
/// wait for it.
#[derive(Debug, Default)]
pub struct OutcomeCache(tokio::sync::Mutex<Option<(Instant, BTreeMap<String, Outcomes>)>>);

impl OutcomeCache {
    /// The outcomes counted less than [`OUTCOMES_FRESH_FOR`] ago, or counted now by `count`
    /// (a failure is not kept).
    async fn get<F, E>(&self, count: F) -> Result<BTreeMap<String, Outcomes>, E>
    where
        F: std::future::Future<Output = Result<BTreeMap<String, Outcomes>, E>>,
    {
        let mut last = self.0.lock().await;
        if let Some((at, outcomes)) = last.as_ref()
            && at.elapsed() < OUTCOMES_FRESH_FOR
        {
            return Ok(outcomes.clone());
        }
        let outcomes = count.await?;
        *last = Some((Instant::now(), outcomes.clone()));
        Ok(outcomes)
    }
}

/// One source's outcomes in the window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Done (or already done: a duplicate).
    pub processed: u64,
    /// Ignored on purpose (not ours, a type without a route).
    pub ignored: u64,
    /// Moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Failed and retried (or failed to dead-letter).
    pub failed: u64,
}

impl Outcomes {
    fn count(&mut self, outcome: &str) {
        match outcome {
            "done" | "duplicate" => self.processed += 1,
            "ignored" => self.ignored += 1,
            "dead_lettered" => self.dead_lettered += 1,
            _ => self.failed += 1,
        }
    }

    /// Every outcome.
    pub fn total(&self) -> u64 {
        self.processed + self.ignored + self.dead_lettered + self.failed
    }

    /// Dead-lettered and failed, in percent of all (0 with none).
    pub fn error_rate(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => (self.dead_lettered + self.failed) as f64 * 100.0 / total as f64,
        }
    }
}

/// Everything the Flows page and its JSON show.
#[derive(Debug, Clone, Serialize)]
pub struct FlowNumbers {
    /// Each queue's depth (`stripe-events`, `stripe-events-dlq`, …).
    pub queues: BTreeMap<String, Depth>,
    /// Outcomes per source (`stripe`, `kentico`, …) over [`WINDOW_SECONDS`].
    pub outcomes: BTreeMap<String, Outcomes>,
    /// The window, in seconds.
    pub window_seconds: i64,
    /// Why the outcomes could not be counted, if so.
    pub journal_error: Option<String>,
    /// The numbers by the `data-number` names of the page's elements, as text.
    pub numbers: BTreeMap<String, String>,
}

/// A queue's depth.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Depth {
    /// Waiting.
    pub visible: u64,
    /// Received, not yet settled.
    pub in_flight: u64,
}

/// Counts `outcomes` per source.
pub fn count_outcomes<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, Outcomes> {
    let mut counts: BTreeMap<String, Outcomes> = BTreeMap::new();
    for (source, outcome) in entries {
        counts.entry(source.to_string()).or_default().count(outcome);
    }
    counts
}

/// Reads the numbers from the backend (each part on its own: a journal that does not answer
/// leaves the depths).
pub async fn numbers(state: &ConsoleState) -> FlowNumbers {
    let queues: BTreeMap<String, Depth> = (state.backend.depths().await.into_iter())
        .map(
            |QueueDepth {
                 queue,
                 visible,
                 in_flight,
             }| (queue, Depth { visible, in_flight }),
        )
        .collect();
    let since =
        paybridge::clock::unix_millis(time::OffsetDateTime::now_utc()) - WINDOW_SECONDS * 1_000;
    let counted = state.outcomes.get(async {
        let recent = state.backend.journal().recent(since, MAX_ENTRIES).await?;
        Ok::<_, paybridge::store::StoreError>(count_outcomes(
            recent
                .iter()
                .map(|r| (r.entry.source.as_str(), r.entry.outcome.as_str())),
        ))
    });
    let (outcomes, journal_error) = match counted.await {
        Ok(outcomes) => (outcomes, None),
        Err(error) => {
            tracing::warn!(%error, "console: the journal did not answer");
            (BTreeMap::new(), Some(error.to_string()))
        }
    };
    let mut numbers = BTreeMap::new();
    for source in ["kentico", "stripe"] {
        let depth = queues
            .get(&format!("{source}-events"))
            .copied()
            .unwrap_or_default();
        let dead = queues
            .get(&format!("{source}-events-dlq"))
            .copied()
            .unwrap_or_default();
        numbers.insert(format!("{source}.queue"), depth.visible.to_string());
        numbers.insert(format!("{source}.in_flight"), depth.in_flight.to_string());
        numbers.insert(format!("{source}.dlq"), dead.visible.to_string());
        let outcome = outcomes.get(source).cloned().unwrap_or_default();
        numbers.insert(format!("{source}.processed"), outcome.processed.to_string());
        numbers.insert(format!("{source}.ignored"), outcome.ignored.to_string());
        numbers.insert(
            format!("{source}.dead_lettered"),
            outcome.dead_lettered.to_string(),
        );
        numbers.insert(format!("{source}.failed"), outcome.failed.to_string());
        numbers.insert(
            format!("{source}.error_rate"),
            format!("{:.1}%", outcome.error_rate()),
        );
    }
    FlowNumbers {
        queues,
        outcomes,
        window_seconds: WINDOW_SECONDS,
        journal_error,
        numbers,
    }
}

/// `GET /console/api/flows`.
pub async fn api(State(state): State<ConsoleState>) -> Response {
    let numbers = numbers(&state).await;
    let flows = active(&state)
        .await
        .ok()
        .map(|a| (a.version, a.document.flows));
    let body = serde_json::json!({
        "queues": numbers.queues,
        "outcomes": numbers.outcomes.iter().map(|(source, o)| (source.clone(), serde_json::json!({
            "processed": o.processed, "ignored": o.ignored, "dead_lettered": o.dead_lettered,
            "failed": o.failed, "total": o.total(), "error_rate_percent": o.error_rate(),
        }))).collect::<serde_json::Map<_, _>>(),
        "window_seconds": numbers.window_seconds,
        "journal_error": numbers.journal_error,
        "numbers": numbers.numbers,
        "mapping": flows.map(|(version, flows)| serde_json::json!({"active_version": version, "flows": flows})),
    });
    axum::Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outcomes_are_counted_again_only_once_they_are_stale() {
        let cache = OutcomeCache::default();
        let counts = |n: u64| {
            BTreeMap::from([(
                "stripe".to_string(),
                Outcomes {
                    processed: n,
                    ..Outcomes::default()
                },
            )])
        };
        let first = cache.get(async { Ok::<_, ()>(counts(1)) }).await.unwrap();
        let second = cache.get(async { Ok::<_, ()>(counts(2)) }).await.unwrap();
        assert_eq!(
            (first["stripe"].processed, second["stripe"].processed),
            (1, 1)
        );

        *cache.0.lock().await = None;
        assert!(
            cache
                .get(async { Err::<BTreeMap<_, _>, _>(()) })
                .await
                .is_err()
        );
        let third = cache.get(async { Ok::<_, ()>(counts(3)) }).await.unwrap();
        assert_eq!(third["stripe"].processed, 3);
    }

    #[test]
    fn outcomes_are_counted_per_source_with_their_error_rate() {
        let counts = count_outcomes([
            ("stripe", "done"),
            ("stripe", "duplicate"),
            ("stripe", "ignored"),
            ("stripe", "dead_lettered"),
            ("kentico", "retried"),
            ("kentico", "done"),
        ]);
        let stripe = &counts["stripe"];
        assert_eq!(
            (
                stripe.processed,
                stripe.ignored,
                stripe.dead_lettered,
                stripe.failed
            ),
            (2, 1, 1, 0)
        );
        assert_eq!(stripe.error_rate(), 25.0);
        assert_eq!(counts["kentico"].failed, 1);
        assert_eq!(Outcomes::default().error_rate(), 0.0);
    }
}
