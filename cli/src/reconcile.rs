//! `paybridge reconcile`: one run of the reconciliation sweep (the scheduled function's work)
//! on demand, or the last stored report. Exit code 3 when there are discrepancies, so a script
//! or a cron job can tell.

use std::sync::Arc;

use clap::{Args, ValueEnum};
use paybridge::config::reconcile::window_hours;
use paybridge::metrics::InMemoryMetrics;
use paybridge::reconcile::reports::Report;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::backend::{BackendArgs, env};

/// Arguments of `reconcile`.
#[derive(Args, Debug)]
pub struct ReconcileArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// Start of the window: YYYY-MM-DD (UTC midnight) or an RFC 3339 time; default: the last
    /// RECONCILE_WINDOW_HOURS (48).
    #[arg(long)]
    since: Option<String>,
    /// Heal what a missed webhook explains, through the payment worker's queue.
    #[arg(long, conflicts_with = "report")]
    heal: bool,
    /// Show a stored report instead of running (only `last`).
    #[arg(long, value_enum)]
    report: Option<Which>,
    /// The report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Which stored report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// The newest run's.
    Last,
}

/// Runs `reconcile`.
pub fn run(args: ReconcileArgs) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    let report = runtime.block_on(report(&args))?;
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| (1, e.to_string()))?;
        println!("{json}");
    } else {
        print!("{}", report.table());
    }
    match report.total() {
        0 => Ok(()),
        n => Err((3, format!("{n} discrepancies (report {})", report.run_id))),
    }
}

async fn report(args: &ReconcileArgs) -> Result<Report, (u8, String)> {
    let fail = |e: String| (1, e);
    let serve = args.backend.serve_env(Arc::new(InMemoryMetrics::new()));
    let backend = paybridge::app::serve::operator_backend(&serve)
        .await
        .map_err(|e| fail(e.to_string()))?;
    if args.report.is_some() {
        return backend
            .reports()
            .last()
            .await
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("no reconciliation has run yet".to_string()));
    }
    let now = OffsetDateTime::now_utc();
    let since = match &args.since {
        Some(raw) => parse_since(raw).map_err(|e| (2, e))?,
        None => {
            let hours = window_hours(&env).map_err(|e| fail(e.to_string()))?;
            now - time::Duration::hours(hours as i64)
        }
    };
    if since > now {
        return Err((
            2,
            format!(
                "--since {} is in the future",
                args.since.as_deref().unwrap_or_default()
            ),
        ));
    }
    let sweep = paybridge::app::serve::operator_sweep(&serve, &backend)
        .await
        .map_err(|e| fail(e.to_string()))?;
    sweep
        .run(since, args.heal)
        .await
        .map_err(|e| fail(format!("the reconciliation did not finish: {e}")))
}

/// `2026-11-01` (UTC midnight) or an RFC 3339 time.
fn parse_since(raw: &str) -> Result<OffsetDateTime, String> {
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format)
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| format!("--since {raw:?} is neither YYYY-MM-DD nor an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_day_or_a_time() {
        assert_eq!(
            parse_since("2026-11-01").unwrap().unix_timestamp(),
            1_793_491_200
        );
        assert_eq!(
            parse_since("2026-11-01T06:00:00Z")
                .unwrap()
                .unix_timestamp(),
            1_793_491_200 + 6 * 3600
        );
        assert!(parse_since("yesterday").unwrap_err().contains("--since"));
    }
}
