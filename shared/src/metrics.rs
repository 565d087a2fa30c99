//! Counting outcomes: CloudWatch Embedded Metric Format in Lambda, in memory in tests and `serve`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

/// The CloudWatch namespace every metric of the integration is published under.
pub const NAMESPACE: &str = "Paybridge";

/// Counts named outcomes with string dimensions.
pub trait Metrics: Send + Sync {
    /// Adds one to `name` for the given dimensions (e.g. source and outcome).
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]);

    /// Adds `count` at once; a zero is still reported, so an alarm on the metric sees data
    /// (and returns to OK) when nothing happened.
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

/// Writes each count as one CloudWatch Embedded Metric Format line on stdout, which Lambda
/// ships to CloudWatch Logs and CloudWatch turns into metrics: no API call, no added latency.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmfMetrics;

impl Metrics for EmfMetrics {
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]) {
        let line = emf_line(
            name,
            dimensions,
            time::OffsetDateTime::now_utc(),
            "Count",
            1.0,
        );
        // A failed write to stdout has nowhere better to be reported.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    fn add(&self, name: &'static str, dimensions: &[(&'static str, &str)], count: u64) {
        let now = time::OffsetDateTime::now_utc();
        let line = emf_line(name, dimensions, now, "Count", count as f64);
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    fn observe_seconds(
        &self,
        name: &'static str,
        dimensions: &[(&'static str, &str)],
        seconds: f64,
    ) {
        let line = emf_line(
            name,
            dimensions,
            time::OffsetDateTime::now_utc(),
            "Seconds",
            seconds,
        );
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

fn emf_line(
    name: &str,
    dimensions: &[(&'static str, &str)],
    now: time::OffsetDateTime,
    unit: &str,
    value: f64,
) -> serde_json::Value {
    let mut record = serde_json::Map::new();
    let dimension_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    record.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimension_names],
                "Metrics": [{"Name": name, "Unit": unit}]
            }]
        }),
    );
    for (key, value) in dimensions {
        record.insert((*key).into(), serde_json::Value::String((*value).into()));
    }
    record.insert(name.into(), serde_json::json!(value));
    serde_json::Value::Object(record)
}

/// A counter's identity: its name and its dimensions in the order given.
type CounterKey = (String, Vec<(String, String)>);

/// Keeps counts in memory, keyed by name and dimensions (tests, and `/metrics` in `serve`).
#[derive(Debug, Default)]
pub struct InMemoryMetrics {
    counts: Mutex<BTreeMap<CounterKey, u64>>,
    histograms: Mutex<BTreeMap<CounterKey, Histogram>>,
}

/// Prometheus-style cumulative buckets (seconds) for call latencies.
const BUCKETS: [f64; 9] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
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

    /// Every counter in Prometheus' text format: `WebhookRequests` with `Source` becomes
    /// `paybridge_webhook_requests_total{source="…"}`.
    pub fn render_prometheus(&self) -> String {
        let counts = self.lock();
        let mut out = String::new();
        let mut last_name = String::new();
        for ((name, dimensions), value) in counts.iter() {
            let metric = format!("paybridge_{}_total", snake_case(name));
            if *name != last_name {
                out.push_str(&format!("# TYPE {metric} counter\n"));
                last_name.clone_from(name);
            }
            let labels: Vec<String> = dimensions
                .iter()
                .map(|(k, v)| format!("{}=\"{}\"", snake_case(k), escape(v)))
                .collect();
            out.push_str(&format!("{metric}{{{}}} {value}\n", labels.join(",")));
        }
        drop(counts);
        self.render_histograms(&mut out);
        out
    }

    fn render_histograms(&self, out: &mut String) {
        let histograms = self
            .histograms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut last_name = String::new();
        for ((name, dimensions), histogram) in histograms.iter() {
            let metric = format!("paybridge_{}", snake_case(name));
            if *name != last_name {
                out.push_str(&format!("# TYPE {metric} histogram\n"));
                last_name.clone_from(name);
            }
            let labels: Vec<String> = dimensions
                .iter()
                .map(|(k, v)| format!("{}=\"{}\"", snake_case(k), escape(v)))
                .collect();
            let labels = labels.join(",");
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                out.push_str(&format!(
                    "{metric}_bucket{{{labels},le=\"{bound}\"}} {count}\n"
                ));
            }
            out.push_str(&format!(
                "{metric}_bucket{{{labels},le=\"+Inf\"}} {}\n",
                histogram.count
            ));
            out.push_str(&format!("{metric}_sum{{{labels}}} {}\n", histogram.sum));
            out.push_str(&format!("{metric}_count{{{labels}}} {}\n", histogram.count));
        }
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
        let mut histograms = self
            .histograms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = histograms.entry(key(name, dimensions)).or_default();
        for (bound, bucket) in BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
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

    #[test]
    fn emf_line_names_metric_dimensions_and_value() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let line = emf_line(
            "WebhookRequests",
            &[("Source", "stripe"), ("Outcome", "accepted")],
            now,
            "Count",
            1.0,
        );
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Paybridge"
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            serde_json::json!(["Source", "Outcome"])
        );
        assert_eq!(line["Source"], "stripe");
        assert_eq!(line["Outcome"], "accepted");
        assert_eq!(line["WebhookRequests"], 1.0);
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
    fn renders_prometheus_text_with_snake_case_names_and_escaped_labels() {
        let metrics = InMemoryMetrics::new();
        metrics.increment(
            "WorkerMessages",
            &[("Worker", "order-worker"), ("EventType", "a\"b")],
        );
        metrics.increment(
            "WorkerMessages",
            &[("Worker", "order-worker"), ("EventType", "a\"b")],
        );
        assert_eq!(
            metrics.render_prometheus(),
            "# TYPE paybridge_worker_messages_total counter\n\
             paybridge_worker_messages_total{worker=\"order-worker\",event_type=\"a\\\"b\"} 2\n"
        );
    }

    #[test]
    fn latencies_render_as_a_cumulative_histogram() {
        let metrics = std::sync::Arc::new(InMemoryMetrics::new());
        let latency = CallLatency::new(metrics.clone());
        latency.observe("stripe", "POST payment_intents", "200", 0.02);
        latency.observe("stripe", "POST payment_intents", "200", 0.7);
        CallLatency::default().observe("stripe", "ignored", "200", 1.0);
        let text = metrics.render_prometheus();
        let labels = r#"service="stripe",operation="POST payment_intents",status="200""#;
        assert!(
            text.contains("# TYPE paybridge_connector_call_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "paybridge_connector_call_seconds_bucket{{{labels},le=\"0.025\"}} 1"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "paybridge_connector_call_seconds_bucket{{{labels},le=\"1\"}} 2"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "paybridge_connector_call_seconds_count{{{labels}}} 2"
            )),
            "{text}"
        );
        assert!(!text.contains("ignored"));
    }
}
