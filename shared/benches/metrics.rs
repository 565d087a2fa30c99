//! The `Metrics` port's two adapters against the `metrics` facade with the exporters issue 12
//! named (metrics_cloudwatch_embedded for Lambda, metrics-exporter-prometheus for `serve`),
//! doing one worker message's metrics: one counter with three dimensions and two connector
//! latencies with three dimensions. Run with stdout thrown away (both write EMF there):
//!
//! ```text
//! cargo bench -p paybridge --bench metrics > /dev/null
//! ```
//!
//! Figures go to stderr: nanoseconds per message (median of rounds) and the ratio to the port,
//! measured in this process.

use std::hint::black_box;
use std::time::Instant;

use paybridge::metrics::{EmfMetrics, InMemoryMetrics, Metrics};

const MESSAGES: usize = 100_000;
const ROUNDS: usize = 7;
/// `serve` is scraped far less often than it counts: one render per this many messages.
const MESSAGES_PER_SCRAPE: usize = 1_000;
const EVENT_TYPES: [&str; 4] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "ecommerce.order.created",
];

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Nanoseconds per message of `work(i)`, median of [`ROUNDS`].
fn per_message(mut work: impl FnMut(usize)) -> f64 {
    let rounds = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for i in 0..MESSAGES {
                work(black_box(i));
            }
            started.elapsed().as_nanos() as f64 / MESSAGES as f64
        })
        .collect();
    median(rounds)
}

/// One message's metrics through the port.
fn through_port(metrics: &dyn Metrics, i: usize) {
    let event_type = EVENT_TYPES[i % EVENT_TYPES.len()].to_string();
    metrics.increment(
        "WorkerMessages",
        &[
            ("Worker", "payment-worker"),
            ("EventType", &event_type),
            ("Outcome", "done"),
        ],
    );
    for operation in ["GET payment_intents", "POST ecommerce.order"] {
        metrics.observe_seconds(
            "ConnectorCallSeconds",
            &[
                ("Service", "stripe"),
                ("Operation", operation),
                ("Status", "200"),
            ],
            0.042,
        );
    }
}

/// The same through the facade.
fn through_facade(i: usize, counter: &str, histogram: &str) {
    let event_type = EVENT_TYPES[i % EVENT_TYPES.len()].to_string();
    metrics::counter!(counter.to_string(), "Worker" => "payment-worker", "EventType" => event_type, "Outcome" => "done")
        .increment(1);
    for operation in ["GET payment_intents", "POST ecommerce.order"] {
        metrics::histogram!(histogram.to_string(), "Service" => "stripe", "Operation" => operation, "Status" => "200")
            .record(0.042);
    }
}

fn main() {
    // Lambda: EMF on stdout, one document per metric (the port) or per label set per flush
    // (the collector, flushed after each message as a Lambda would after each invocation).
    let port_emf = per_message(|i| through_port(&EmfMetrics, i));
    let started = Instant::now();
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("Paybridge")
        .init()
        .expect("the collector installs");
    let collector_init = started.elapsed();
    let facade_emf = per_message(|i| {
        through_facade(i, "WorkerMessages", "ConnectorCallSeconds");
        collector
            .flush(std::io::stdout().lock())
            .expect("stdout takes it");
    });

    // serve: counts kept in memory, rendered in Prometheus' text format at each scrape.
    let memory = InMemoryMetrics::new();
    let port_prometheus = per_message(|i| {
        through_port(&memory, i);
        if i % MESSAGES_PER_SCRAPE == 0 {
            black_box(memory.render_prometheus());
        }
    });
    let started = Instant::now();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0])
        .expect("buckets")
        .build_recorder();
    let recorder_init = started.elapsed();
    let handle = recorder.handle();
    let facade_prometheus = per_message(|i| {
        metrics::with_local_recorder(&recorder, || {
            through_facade(
                i,
                "paybridge_worker_messages_total",
                "paybridge_connector_call_seconds",
            )
        });
        if i % MESSAGES_PER_SCRAPE == 0 {
            black_box(handle.render());
        }
    });

    eprintln!(
        "one worker message's metrics (1 counter + 2 latencies, 3 dimensions each), ns per message, median of {ROUNDS} x {MESSAGES}:"
    );
    eprintln!(
        "  Lambda EMF   port (EmfMetrics)             {port_emf:>8.0}\n  Lambda EMF   facade + metrics_cloudwatch_embedded {facade_emf:>8.0}   ratio {:.2}",
        facade_emf / port_emf
    );
    eprintln!(
        "  serve        port (InMemoryMetrics)        {port_prometheus:>8.0}\n  serve        facade + metrics-exporter-prometheus {facade_prometheus:>8.0}   ratio {:.2}",
        facade_prometheus / port_prometheus
    );
    eprintln!(
        "  set-up: collector {} µs, Prometheus recorder {} µs (the port's adapters: none)",
        collector_init.as_micros(),
        recorder_init.as_micros()
    );
}
