//! `serve`'s metrics: the [`Metrics`] port over the `metrics` facade's Prometheus exporter,
//! rendered on `/metrics`. Names follow Prometheus: `WebhookRequests` with `Source` counts as
//! `paybridge_webhook_requests_total{source="…"}`, `ConnectorCallSeconds` is the histogram
//! `paybridge_connector_call_seconds` (the CloudWatch names, snake-cased: one list of metrics,
//! two spellings). The recorder is this adapter's own, not the process's global one.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use paybridge::metrics::{Metrics, snake_case};

/// Histogram buckets (seconds) for call latencies.
const BUCKETS: [f64; 9] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The Prometheus adapter.
pub struct PrometheusMetrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for PrometheusMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrometheusMetrics")
    }
}

impl Default for PrometheusMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusMetrics {
    /// Nothing counted yet.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // Refused only for an empty list of buckets.
        let builder = builder
            .set_buckets(&BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        Self { recorder, handle }
    }

    /// Folds the latencies recorded since into their histograms: without it they pile up in
    /// memory until the next scrape (`serve` calls it every few seconds).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Everything counted, in Prometheus' text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    fn labels(dimensions: &[(&'static str, &str)]) -> Vec<metrics::Label> {
        (dimensions.iter())
            .map(|(key, value)| metrics::Label::new(snake_case(key), value.to_string()))
            .collect()
    }
}

impl Metrics for PrometheusMetrics {
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]) {
        self.add(name, dimensions, 1);
    }

    fn add(&self, name: &'static str, dimensions: &[(&'static str, &str)], count: u64) {
        let name = format!("paybridge_{}_total", snake_case(name));
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(name, Self::labels(dimensions)).increment(count)
        });
    }

    fn observe_seconds(
        &self,
        name: &'static str,
        dimensions: &[(&'static str, &str)],
        seconds: f64,
    ) {
        let name = format!("paybridge_{}", snake_case(name));
        metrics::with_local_recorder(&self.recorder, || {
            metrics::histogram!(name, Self::labels(dimensions)).record(seconds)
        });
    }
}

impl crate::console::LiveMetrics for PrometheusMetrics {
    fn prometheus_text(&self) -> String {
        self.render()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use paybridge::metrics::CallLatency;

    use super::*;

    #[test]
    fn counts_render_with_snake_case_names_escaped_labels_and_zeros() {
        let metrics = PrometheusMetrics::new();
        let dimensions = [("Worker", "order-worker"), ("EventType", "a\"b")];
        metrics.increment("WorkerMessages", &dimensions);
        metrics.increment("WorkerMessages", &dimensions);
        metrics.add("ReconcileDiscrepancies", &[("Kind", "double_payment")], 0);
        let text = metrics.render();
        assert!(
            text.contains("# TYPE paybridge_worker_messages_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "paybridge_worker_messages_total{worker=\"order-worker\",event_type=\"a\\\"b\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("paybridge_reconcile_discrepancies_total{kind=\"double_payment\"} 0\n"),
            "a zero is shown: {text}"
        );
        // Another adapter counts on its own: no global state.
        assert!(
            !PrometheusMetrics::new()
                .render()
                .contains("worker_messages")
        );
    }

    #[test]
    fn latencies_render_as_a_cumulative_histogram() {
        let metrics = Arc::new(PrometheusMetrics::new());
        let latency = CallLatency::new(metrics.clone());
        latency.observe("stripe", "POST payment_intents", "200", 0.02);
        latency.observe("stripe", "POST payment_intents", "200", 0.7);
        let text = metrics.render();
        let labels = r#"service="stripe",operation="POST payment_intents",status="200""#;
        for line in [
            "# TYPE paybridge_connector_call_seconds histogram".to_string(),
            format!("paybridge_connector_call_seconds_bucket{{{labels},le=\"0.025\"}} 1"),
            format!("paybridge_connector_call_seconds_bucket{{{labels},le=\"1\"}} 2"),
            format!("paybridge_connector_call_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("paybridge_connector_call_seconds_count{{{labels}}} 2"),
        ] {
            assert!(text.contains(&line), "{line} in {text}");
        }
    }
}
