//! One order's timeline (`/console/orders/{id}`): its link, the Stripe objects paybridge
//! recorded for it, every delivery and outcome in time order, its ledger entries, what the last
//! reconciliation found about it, and its dead letters (payloads masked). The deliveries, link
//! and dead letters come from `trace::gather`, as for `paybridge trace`.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use paybridge::app::Backend;
use paybridge::config::mode::StripeMode;
use paybridge::ledger::LedgerEntry;
use paybridge::links::OrderLink;
use paybridge::reconcile::reports::Finding;

use super::super::super::layout::{self, dash};
use super::super::super::mask::mask_text;
use super::super::super::{ConsoleState, Who};
use super::super::unavailable;
use super::HERE;
use super::reports::action;
use crate::trace::{OrderTrace, gather, ledger_entries, payment_intents};

/// What the last reconciliation said about one order.
pub struct Reconciled {
    /// The run's id.
    pub run_id: String,
    /// Its findings about the order.
    pub findings: Vec<Finding>,
}

/// Everything the order page shows.
pub struct OrderView {
    /// Link, deliveries, dead letters.
    pub trace: OrderTrace,
    /// Its ledger entries, oldest first, or why the ledger did not answer.
    pub ledger: Result<Vec<LedgerEntry>, String>,
    /// The last report's findings about it (`None`: no report stored), or why the store did
    /// not answer.
    pub reconciled: Result<Option<Reconciled>, String>,
}

/// Gathers what the order page shows: a failing ledger or report store is part of the answer,
/// not a failure of the page.
pub async fn gather_order(backend: &Backend, order_id: i64) -> Result<OrderView, String> {
    let trace = gather(backend, order_id).await?;
    let ledger = ledger_entries(backend, order_id, &trace).await;
    let reconciled = match backend.reports().last().await {
        Ok(report) => Ok(report.map(|report| Reconciled {
            findings: (report.findings.into_iter())
                .filter(|f| f.discrepancy.order_id() == Some(order_id))
                .collect(),
            run_id: report.run_id,
        })),
        Err(error) => Err(error.to_string()),
    };
    Ok(OrderView {
        trace,
        ledger,
        reconciled,
    })
}

/// One kind of Stripe object and its ids.
struct Objects {
    /// What they are.
    label: &'static str,
    /// The Dashboard path they are under (`None`: no Dashboard page).
    dashboard: Option<&'static str>,
    /// Their ids, in order.
    ids: BTreeSet<String>,
}

/// The Stripe objects of an order: its link's payable objects, and those its ledger entries
/// name.
fn stripe_objects(link: Option<&OrderLink>, ledger: &[LedgerEntry]) -> Vec<Objects> {
    let mut payment_intents = link.map(payment_intents).unwrap_or_default();
    let mut sessions: BTreeSet<String> = link
        .map(|l| {
            (l.checkout_sessions.iter())
                .chain(&l.checkout_session_id)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let (mut charges, mut refunds, mut disputes, mut payouts) = Default::default();
    for entry in ledger {
        let r = &entry.references;
        for (ids, id) in [
            (&mut payment_intents, &r.stripe_payment_intent),
            (&mut charges, &r.stripe_charge),
            (&mut refunds, &r.stripe_refund),
            (&mut disputes, &r.stripe_dispute),
            (&mut payouts, &r.stripe_payout),
        ] {
            ids.extend(id.iter().cloned());
        }
    }
    sessions.retain(|s| !s.is_empty());
    vec![
        Objects {
            label: "PaymentIntents",
            dashboard: Some("payments"),
            ids: payment_intents,
        },
        Objects {
            label: "Checkout Sessions",
            dashboard: None,
            ids: sessions,
        },
        Objects {
            label: "Charges",
            dashboard: Some("payments"),
            ids: charges,
        },
        Objects {
            label: "Refunds",
            dashboard: Some("refunds"),
            ids: refunds,
        },
        Objects {
            label: "Disputes",
            dashboard: Some("disputes"),
            ids: disputes,
        },
        Objects {
            label: "Payouts",
            dashboard: Some("payouts"),
            ids: payouts,
        },
    ]
}

/// The Stripe Dashboard page of an object under `path`.
/// The Stripe Dashboard page of an object under `path`, in test mode's Dashboard for a
/// test-mode deployment (live's when the mode is not known).
pub fn dashboard_href(mode: Option<StripeMode>, path: &str, id: &str) -> String {
    match mode {
        Some(StripeMode::Test) => format!("https://dashboard.stripe.com/test/{path}/{id}"),
        _ => format!("https://dashboard.stripe.com/{path}/{id}"),
    }
}

fn objects_section(
    mode: Option<StripeMode>,
    link: Option<&OrderLink>,
    ledger: &[LedgerEntry],
) -> Markup {
    let objects = stripe_objects(link, ledger);
    let current = link.and_then(OrderLink::active);
    let is_current = |id: &str| {
        current.as_ref().is_some_and(|a| a.id() == id)
            || link.is_some_and(|l| l.payment_intent_id.as_deref() == Some(id))
    };
    html! {
        @if objects.iter().any(|o| !o.ids.is_empty()) {
            h2 { "Stripe objects" }
            p.muted { "As paybridge recorded them; the Dashboard has Stripe's current view (the console does not call Stripe)." }
            table.objects {
                tbody {
                    @for o in objects.iter().filter(|o| !o.ids.is_empty()) {
                        tr {
                            th { (o.label) }
                            td {
                                @for (i, id) in o.ids.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    @match o.dashboard {
                                        Some(path) => a href=(dashboard_href(mode, path, id)) rel="noopener noreferrer" target="_blank" { code { (id) } },
                                        None => code { (id) },
                                    }
                                    @if is_current(id) { " (current)" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn ledger_section(ledger: &Result<Vec<LedgerEntry>, String>) -> Markup {
    html! {
        @match ledger {
            Ok(entries) if entries.is_empty() => {},
            Ok(entries) => {
                h2 { "Ledger entries" }
                table.ledger {
                    thead { tr { th { "occurred at" } th { "kind" } th { "entry" } th { "account" } th { "debit" } th { "credit" } th { "currency" } } }
                    tbody {
                        @for entry in entries {
                            @for (i, line) in entry.lines.iter().enumerate() {
                                tr {
                                    @if i == 0 {
                                        td rowspan=(entry.lines.len()) { (entry.occurred_at) }
                                        td rowspan=(entry.lines.len()) { (entry.kind.as_str()) }
                                        td rowspan=(entry.lines.len()) { code { (entry.id) } }
                                    }
                                    td { (line.account) }
                                    td.num { (line.debit) }
                                    td.num { (line.credit) }
                                    td { (entry.currency) }
                                }
                            }
                            @if entry.lines.is_empty() {
                                tr { td { (entry.occurred_at) } td { (entry.kind.as_str()) } td { code { (entry.id) } } td colspan="4" { (dash()) } }
                            }
                        }
                    }
                }
            }
            Err(error) => {
                h2 { "Ledger entries" }
                p.bad { "The ledger did not answer: " (error) }
            }
        }
    }
}

fn reconciliation_line(reconciled: &Result<Option<Reconciled>, String>) -> Markup {
    html! {
        @match reconciled {
            Ok(Some(r)) if !r.findings.is_empty() => {
                h2 { "Reconciliation" }
                p { "The last run, " code { (r.run_id) } ", found:" }
                ul.findings {
                    @for f in &r.findings {
                        li { (f.discrepancy.kind()) " (" (action(f)) "): " (mask_text(&f.discrepancy.describe())) }
                    }
                }
            }
            Ok(_) => {},
            Err(error) => {
                h2 { "Reconciliation" }
                p.bad { "The reconciliation reports did not answer: " (error) }
            }
        }
    }
}

/// `GET /console/orders/{id}`: the order's timeline.
pub async fn order(State(state): State<ConsoleState>, who: Who, Path(id): Path<i64>) -> Response {
    let operator = &who.0;
    let view = match gather_order(&state.backend, id).await {
        Ok(view) => view,
        Err(error) => return unavailable(Some(operator), HERE, "the order", &error),
    };
    let trace = &view.trace;
    let mut events = trace.events.clone();
    events.sort_by(|a, b| a.at.cmp(&b.at));
    let ledger: &[LedgerEntry] = view.ledger.as_deref().unwrap_or_default();
    let body = html! {
        h1 { "Order " (id) }
        @if trace.is_empty() && ledger.is_empty() {
            p { "Nothing is known about order " (id) "." }
        }
        @if let Some(link) = &trace.link {
            table {
                tbody {
                    tr { th { "PaymentIntent" } td { @if let Some(pi) = &link.payment_intent_id { code { (pi) } } @else { (dash()) } } }
                    tr { th { "owes" } td { (crate::trace::owes(link.amount, link.currency.as_deref())) } }
                    tr { th { "status" } td { (link.status_name.as_deref().unwrap_or("none yet")) " (rank " (link.status_rank) ")"
                        @if let Some(paid_by) = &link.paid_by { " · paid by " code { (paid_by) } }
                        @if link.canceled { " · canceled in Kentico" } } }
                }
            }
        } @else if !(trace.is_empty() && ledger.is_empty()) {
            p.muted { "No order link recorded at Stripe's side." }
        }
        (reconciliation_line(&view.reconciled))
        (objects_section(state.settings.stripe_mode, trace.link.as_ref(), ledger))
        @if !events.is_empty() {
            h2 { "Deliveries and outcomes" }
            table {
                thead { tr { th { "at" } th { "source" } th { "event" } th { "worker" } th { "outcome (delivery)" } th { "detail" } } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (e.at) } td { (e.source) }
                            td { (e.event_type) br; code { (e.event_id) } }
                            td { (e.worker) }
                            td class=[(e.outcome == "dead_lettered").then_some("bad")] { (e.outcome) " (#" (e.receive_count) ")" }
                            td { (mask_text(&e.detail)) }
                        }
                    }
                }
            }
        }
        (ledger_section(&view.ledger))
        @if !trace.dead_letters.is_empty() {
            h2 { "In a dead-letter queue" }
            @for d in &trace.dead_letters {
                details {
                    summary { a href=(super::super::dlq::message_href(&d.id)) { code { (d.id) } } " " (d.attribute("failure_kind")) ": " (mask_text(d.attribute("failure_reason"))) }
                    pre { (mask_text(&d.body)) }
                }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page(&format!("Order {id}"), HERE, Some(operator), body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_mode_deployment_links_to_the_test_dashboard() {
        assert_eq!(
            dashboard_href(Some(StripeMode::Test), "payments", "pi_1"),
            "https://dashboard.stripe.com/test/payments/pi_1"
        );
        for mode in [Some(StripeMode::Live), None] {
            assert_eq!(
                dashboard_href(mode, "refunds", "re_1"),
                "https://dashboard.stripe.com/refunds/re_1"
            );
        }
    }
}
