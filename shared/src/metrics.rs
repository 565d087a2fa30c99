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
}

/// Writes each count as one CloudWatch Embedded Metric Format line on stdout, which Lambda
/// ships to CloudWatch Logs and CloudWatch turns into metrics: no API call, no added latency.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmfMetrics;

impl Metrics for EmfMetrics {
    fn increment(&self, name: &'static str, dimensions: &[(&'static str, &str)]) {
        let line = emf_line(name, dimensions, time::OffsetDateTime::now_utc());
        // A failed write to stdout has nowhere better to be reported.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

fn emf_line(
    name: &str,
    dimensions: &[(&'static str, &str)],
    now: time::OffsetDateTime,
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
                "Metrics": [{"Name": name, "Unit": "Count"}]
            }]
        }),
    );
    for (key, value) in dimensions {
        record.insert((*key).into(), serde_json::Value::String((*value).into()));
    }
    record.insert(name.into(), serde_json::json!(1));
    serde_json::Value::Object(record)
}

/// A counter's identity: its name and its dimensions in the order given.
type CounterKey = (String, Vec<(String, String)>);

/// Keeps counts in memory, keyed by name and dimensions (tests, and `/metrics` in `serve`).
#[derive(Debug, Default)]
pub struct InMemoryMetrics {
    counts: Mutex<BTreeMap<CounterKey, u64>>,
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
                .map(|(k, v)| {
                    format!(
                        "{}=\"{}\"",
                        snake_case(k),
                        v.replace('\\', "\\\\").replace('"', "\\\"")
                    )
                })
                .collect();
            out.push_str(&format!("{metric}{{{}}} {value}\n", labels.join(",")));
        }
        out
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
        assert_eq!(line["WebhookRequests"], 1);
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
}
