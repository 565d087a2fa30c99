//! The reconciler Lambda: each invocation (the EventBridge schedule, or a hand-made event) runs
//! one sweep and answers its summary. The scheduled event's content is not used; an event may
//! instead name `since` (RFC 3339) and `heal` (default true) to run a given window by hand.

use std::sync::Arc;

use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::sweep::Sweep;

/// Serves invocations until the runtime stops.
pub async fn run(sweep: Sweep, window_hours: u64) -> Result<(), lambda_runtime::Error> {
    let sweep = Arc::new(sweep);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Value>| {
            let sweep = sweep.clone();
            async move {
                handle(
                    &sweep,
                    window_hours,
                    &event.payload,
                    OffsetDateTime::now_utc(),
                )
                .await
            }
        },
    ))
    .await
}

/// One invocation at `now`: the window is `since` from the event, else the last
/// `window_hours`; a sweep that cannot finish fails the invocation (Lambda retries it, and the
/// function's error alarm fires).
pub async fn handle(
    sweep: &Sweep,
    window_hours: u64,
    event: &Value,
    now: OffsetDateTime,
) -> Result<Value, lambda_runtime::Error> {
    let since = match event.get("since").and_then(Value::as_str) {
        Some(raw) => OffsetDateTime::parse(raw, &Rfc3339)
            .map_err(|e| format!("since {raw:?} is not an RFC 3339 time: {e}"))?,
        None => now - time::Duration::hours(window_hours as i64),
    };
    let heal = event.get("heal").and_then(Value::as_bool).unwrap_or(true);
    let report = sweep.run(since, heal).await;
    sweep.flush_metrics();
    let report = report.map_err(|e| {
        tracing::error!(error = %e, "the reconciliation did not finish");
        e.to_string()
    })?;
    let healing: usize = report.findings.iter().map(|f| f.healing.len()).sum();
    Ok(json!({
        "run_id": report.run_id,
        "since": report.since,
        "discrepancies": report.total(),
        "counts": report.counts(),
        "healing_events": healing,
    }))
}
