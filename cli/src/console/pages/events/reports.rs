//! The last reconciliation report: a summary on Events (its first findings) and the whole of it
//! at `/console/reconciliation` — what `paybridge reconcile --report last` prints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use paybridge::app::Backend;
use paybridge::reconcile::reports::{Finding, Report};

use super::super::super::layout::{self, dash};
use super::super::super::mask::mask_text;
use super::super::super::{ConsoleState, Who};
use super::HERE;

/// The page with the whole report.
pub const PAGE: &str = "/console/reconciliation";
/// The findings shown on Events; the page shows them all.
pub const SUMMARY_FINDINGS: usize = 20;

/// What was done about a finding, as `Report::table` says it: healing (synthetic events
/// enqueued), healable (a replay would heal it), or report (for a person).
pub fn action(finding: &Finding) -> &'static str {
    match (finding.healing.is_empty(), finding.discrepancy.healable()) {
        (false, _) => "healing",
        (true, true) => "healable",
        (true, false) => "report",
    }
}

/// The last report, or why the store did not answer.
pub async fn last(backend: &Backend) -> Result<Option<Report>, String> {
    backend.reports().last().await.map_err(|e| e.to_string())
}

/// The report section: its run, what it checked, the counts per kind and (the first `limit`
/// of) its findings.
pub fn section(last: &Result<Option<Report>, String>, limit: Option<usize>) -> Markup {
    html! {
        @match last {
            Err(error) => p.bad { "The reconciliation reports did not answer: " (error) },
            Ok(None) => p.muted { "No reconciliation run has stored a report yet." },
            Ok(Some(report)) => (report_markup(report, limit)),
        }
    }
}

fn report_markup(report: &Report, limit: Option<usize>) -> Markup {
    let shown = limit.unwrap_or(usize::MAX).min(report.findings.len());
    let counts: Vec<(&str, usize)> = (report.counts().into_iter())
        .filter(|(_, n)| *n > 0)
        .collect();
    let omitted: usize = report.omitted.values().sum();
    html! {
        table.report {
            tbody {
                tr { th { "run" } td { code { (report.run_id) } } }
                tr { th { "started" } td { (report.started_at) } }
                tr { th { "finished" } td { (report.finished_at) } }
                tr { th { "window since" } td { (report.since) } }
                tr { th { "checked" } td {
                    (report.checked.payments) " payments, " (report.checked.orders) " orders, "
                    (report.checked.ledger_entries) " ledger entries, " (report.checked.payouts) " payouts"
                    @if report.heal { " · healing on" } @else { " · report only" }
                } }
                tr { th { "discrepancies" } td {
                    @if counts.is_empty() { "none" }
                    @for (i, (kind, n)) in counts.iter().enumerate() {
                        @if i > 0 { ", " }
                        (kind) " " (n)
                    }
                } }
            }
        }
        @if !report.findings.is_empty() {
            table.findings {
                thead { tr { th { "order" } th { "kind" } th { "action" } th { "detail" } } }
                tbody {
                    @for f in report.findings.iter().take(shown) {
                        tr {
                            td { @match f.discrepancy.order_id() {
                                Some(id) => a href={"/console/orders/" (id)} { (id) },
                                None => (dash()),
                            } }
                            td { (f.discrepancy.kind()) }
                            td { (action(f)) }
                            td { (mask_text(&f.discrepancy.describe())) }
                        }
                    }
                }
            }
        }
        @if limit.is_some() {
            p { a href=(PAGE) {
                @if shown < report.findings.len() { "All " (report.findings.len()) " findings" } @else { "The report on its own page" }
            } }
        }
        @if omitted > 0 {
            p.muted { "… and " (omitted) " more the report did not store." }
        }
    }
}

/// `GET /console/reconciliation`: the last report, every stored finding.
pub async fn page(State(state): State<ConsoleState>, who: Who) -> Response {
    let last = last(&state.backend).await;
    let body = html! {
        h1 { "Last reconciliation" }
        p { a href=(HERE) { "Events" } }
        (section(&last, None))
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Last reconciliation", HERE, Some(&who.0), body),
    )
}
