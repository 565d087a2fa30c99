//! Counting outcomes: the [`Metrics`] port the code counts through, its CloudWatch Embedded
//! Metric Format adapter for Lambda (the `metrics` facade's EMF exporter), and counts in memory
//! for tests. `serve`'s adapter (the facade's Prometheus exporter) lives with `serve`.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The CloudWatch namespace every metric of the integration is published under.
pub const NAMESPACE: &str = "Paybridge";

/// Counts named outcomes with string dimensions.
pub trait Metrics: Send + Sync {
    /// Adds one to `name` for the given dimensions (e.g. source and outcome).
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]);

    /// Adds `count` at once. A zero registers the series (`serve` shows it at 0); the EMF
    /// adapter sends nothing for it, and alarms treat missing data as OK.
    fn add(&self, name: &'static str, dimensions: &[(&'static str, &str)], count: u64) {
        for _ in 0..count {
            self.increment(name, dimensions);
        }
    }

    /// Records a duration in seconds (a latency) for `name` with these dimensions.
    fn observe_seconds(
        &self,
        name: &'static str,
        dimensions: &[(&'static str, &str)],
        seconds: f64,
    );

    /// Hands on what was counted since the last flush, where an adapter batches (the EMF
    /// exporter, at the end of each Lambda invocation); the others count in place.
    fn flush(&self) {}
}

/// The metric timing every call to Stripe and Kentico.
pub const METRIC_CONNECTOR_CALL_SECONDS: &str = "ConnectorCallSeconds";

/// Times connector calls into a [`Metrics`] sink (or nowhere): what the Stripe and Kentico
/// clients carry.
#[derive(Clone, Default)]
pub struct CallLatency(Option<std::sync::Arc<dyn Metrics>>);

impl CallLatency {
    /// Latencies go to `metrics`.
    pub fn new(metrics: std::sync::Arc<dyn Metrics>) -> Self {
        Self(Some(metrics))
    }

    /// Records one call: `service` (stripe, kentico), `operation` (e.g. `POST payment_intents`),
    /// the HTTP status or `error`, and how long it took.
    pub fn observe(&self, service: &str, operation: &str, status: &str, seconds: f64) {
        if let Some(metrics) = &self.0 {
            metrics.observe_seconds(
                METRIC_CONNECTOR_CALL_SECONDS,
                &[
                    ("Service", service),
                    ("Operation", operation),
                    ("Status", status),
                ],
                seconds,
            );
        }
    }
}

impl std::fmt::Debug for CallLatency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "CallLatency(on)"
        } else {
            "CallLatency(off)"
        })
    }
}

/// CloudWatch Embedded Metric Format through the `metrics` facade and its EMF exporter
/// (`metrics_cloudwatch_embedded`): an invocation's counts and latencies go to stdout as one
/// EMF document per dimension set at [`Metrics::flush`], which the Lambda glue calls after
/// each invocation; Lambda ships stdout to CloudWatch Logs, which turns the documents into
/// metrics (no API call, no added latency). The exporter is the process's global recorder,
/// installed once; tests inject [`InMemoryMetrics`] instead. A count of zero is not sent
/// (the exporter skips counters that did not move), so alarms treat missing data as OK.
#[derive(Clone, Copy)]
pub struct EmfMetrics {
    collector: &'static metrics_cloudwatch_embedded::Collector,
}

impl std::fmt::Debug for EmfMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmfMetrics")
    }
}

/// The exporter keeps at most 100 values of one latency between flushes: a long invocation
/// (a reconciliation run) flushes on its own before that.
const EMF_FLUSH_AFTER_OBSERVATIONS: usize = 90;
static EMF_COLLECTOR: std::sync::OnceLock<&'static metrics_cloudwatch_embedded::Collector> =
    std::sync::OnceLock::new();
static EMF_OBSERVATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl EmfMetrics {
    /// The process's EMF exporter (installed as the global recorder at the first call).
    pub fn install() -> Result<Self, String> {
        if let Some(collector) = EMF_COLLECTOR.get() {
            return Ok(Self { collector });
        }
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .init()
            .map_err(|e| format!("the EMF metrics exporter: {e}"))?;
        metrics::describe_histogram!(
            METRIC_CONNECTOR_CALL_SECONDS,
            metrics::Unit::Seconds,
            "the duration of one call to Stripe or Kentico"
        );
        let collector = *EMF_COLLECTOR.get_or_init(|| collector);
        Ok(Self { collector })
    }
}

/// `dimensions` as the facade's labels.
fn labels(dimensions: &[(&'static str, &str)]) -> Vec<metrics::Label> {
    (dimensions.iter())
        .map(|(key, value)| metrics::Label::new(*key, value.to_string()))
        .collect()
}

impl Metrics for EmfMetrics {
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]) {
        metrics::counter!(name, labels(dimensions)).increment(1);
    }

    fn add(&self, name: &'static str, dimensions: &[(&'static str, &str)], count: u64) {
        metrics::counter!(name, labels(dimensions)).increment(count);
    }

    fn observe_seconds(
        &self,
        name: &'static str,
        dimensions: &[(&'static str, &str)],
        seconds: f64,
    ) {
        metrics::histogram!(name, labels(dimensions)).record(seconds);
        let pending = EMF_OBSERVATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if pending >= EMF_FLUSH_AFTER_OBSERVATIONS {
            self.flush();
        }
    }

    fn flush(&self) {
        // A failed write to stdout has nowhere better to be reported.
        let _ = self.flush_to(std::io::stdout().lock());
    }
}

impl EmfMetrics {
    /// Writes what was counted since the last flush to `writer`, one EMF document per line.
    pub fn flush_to(&self, writer: impl std::io::Write) -> std::io::Result<()> {
        EMF_OBSERVATIONS.store(0, std::sync::atomic::Ordering::Relaxed);
        self.collector.flush(writer)
    }
}

/// A counter's identity: its name and its dimensions in the order given.
type CounterKey = (String, Vec<(String, String)>);

/// Keeps counts in memory, keyed by name and dimensions: what tests (and operator commands,
/// which report nothing) inject.
#[derive(Debug, Default)]
pub struct InMemoryMetrics {
    counts: Mutex<BTreeMap<CounterKey, u64>>,
    observations: Mutex<BTreeMap<CounterKey, Vec<f64>>>,
}

impl InMemoryMetrics {
    /// No counts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The count for `name` with exactly these dimensions.
    pub fn count(&self, name: &str, dimensions: &[(&str, &str)]) -> u64 {
        self.lock()
            .get(&key(name, dimensions))
            .copied()
            .unwrap_or(0)
    }

    /// The durations observed for `name` with exactly these dimensions, in order.
    pub fn observations(&self, name: &str, dimensions: &[(&str, &str)]) -> Vec<f64> {
        (self.observations.lock())
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key(name, dimensions))
            .cloned()
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<CounterKey, u64>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Metrics for InMemoryMetrics {
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]) {
        *self.lock().entry(key(name, dimensions)).or_default() += 1;
    }

    fn add(&self, name: &'static str, dimensions: &[(&'static str, &str)], count: u64) {
        *self.lock().entry(key(name, dimensions)).or_default() += count;
    }

    fn observe_seconds(
        &self,
        name: &'static str,
        dimensions: &[(&'static str, &str)],
        seconds: f64,
    ) {
        (self.observations.lock())
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key(name, dimensions))
            .or_default()
            .push(seconds);
    }
}

fn key(name: &str, dimensions: &[(&str, &str)]) -> CounterKey {
    (
        name.to_string(),
        dimensions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// `WebhookRequests` → `webhook_requests`, `EventType` → `event_type`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test that installs the process's global recorder (the EMF exporter).
    #[test]
    fn the_emf_adapter_writes_one_document_per_dimension_set_at_each_flush() {
        let metrics = EmfMetrics::install().unwrap();
        assert!(
            EmfMetrics::install().is_ok(),
            "installing twice is harmless"
        );
        metrics.increment(
            "WebhookRequests",
            &[("Source", "stripe"), ("Outcome", "accepted")],
        );
        metrics.add(
            "WebhookRequests",
            &[("Source", "stripe"), ("Outcome", "accepted")],
            2,
        );
        metrics.add("ReconcileDiscrepancies", &[("Kind", "double_payment")], 0);
        CallLatency::new(std::sync::Arc::new(metrics)).observe(
            "stripe",
            "GET charges",
            "200",
            0.25,
        );

        let mut out = Vec::new();
        metrics.flush_to(&mut out).unwrap();
        let documents: Vec<serde_json::Value> = (String::from_utf8(out).unwrap().lines())
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();

        assert_eq!(documents.len(), 2, "{documents:?}");
        let requests = (documents.iter())
            .find(|d| d["Source"] == "stripe")
            .unwrap();
        assert_eq!(
            requests["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Paybridge"
        );
        assert_eq!(
            requests["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            serde_json::json!(["Source", "Outcome"])
        );
        assert_eq!(requests["WebhookRequests"], 3);
        let latency = (documents.iter())
            .find(|d| d["Service"] == "stripe")
            .unwrap();
        assert_eq!(latency["ConnectorCallSeconds"], serde_json::json!([0.25]));
        assert_eq!(
            latency["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Seconds"
        );
        // A zero count is not sent; a flush with nothing new writes nothing.
        assert!(
            !documents
                .iter()
                .any(|d| d.get("ReconcileDiscrepancies").is_some())
        );
        let mut again = Vec::new();
        metrics.flush_to(&mut again).unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn in_memory_counts_by_name_and_dimensions() {
        let metrics = InMemoryMetrics::new();
        metrics.increment("WebhookRequests", &[("Source", "stripe")]);
        metrics.increment("WebhookRequests", &[("Source", "stripe")]);
        metrics.increment("WebhookRequests", &[("Source", "kentico")]);
        assert_eq!(metrics.count("WebhookRequests", &[("Source", "stripe")]), 2);
        assert_eq!(
            metrics.count("WebhookRequests", &[("Source", "kentico")]),
            1
        );
        assert_eq!(metrics.count("Other", &[]), 0);
    }

    #[test]
    fn in_memory_keeps_every_observed_latency() {
        let metrics = std::sync::Arc::new(InMemoryMetrics::new());
        let latency = CallLatency::new(metrics.clone());
        latency.observe("stripe", "POST payment_intents", "200", 0.02);
        latency.observe("stripe", "POST payment_intents", "200", 0.7);
        CallLatency::default().observe("stripe", "ignored", "200", 1.0);
        let dimensions = [
            ("Service", "stripe"),
            ("Operation", "POST payment_intents"),
            ("Status", "200"),
        ];
        assert_eq!(
            metrics.observations(METRIC_CONNECTOR_CALL_SECONDS, &dimensions),
            [0.02, 0.7]
        );
    }
}
