//! Flows (`/console/`): the pipeline as a graph with live numbers (see `numbers`), and the
//! mapping document's flow switches, each change published as a new mapping version after a
//! confirmation.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use paybridge::mapping_doc::document::Flows;
use serde::Deserialize;

use super::super::layout::{self, csrf_field};
use super::super::{ConsoleState, Who};
use super::numbers::{FlowNumbers, numbers};
use super::{active, change_answer, unavailable};

/// The flows of a mapping document, with what switching each off means.
pub const FLOWS: [(&str, &str); 4] = [
    (
        "order_to_cash",
        "Kentico orders no longer become PaymentIntents, and Stripe payments no longer set \
         Kentico order statuses.",
    ),
    (
        "after_payment",
        "refunds and disputes at Stripe no longer change Kentico order statuses.",
    ),
    (
        "customers",
        "customers are no longer kept in step between Kentico and Stripe.",
    ),
    (
        "ledger",
        "no ledger entries are posted for the ERP any more.",
    ),
];

/// A number the script refreshes.
fn live(numbers: &FlowNumbers, name: &str) -> Markup {
    let value = numbers.numbers.get(name).map(String::as_str).unwrap_or("?");
    html! { tspan data-number=(name) { (value) } }
}

/// One box of the graph.
fn node(x: u32, y: u32, class: &str, title: &str, lines: &[Markup]) -> Markup {
    html! {
        g class={"node " (class)} transform={"translate(" (x) "," (y) ")"} {
            rect width="160" height="64" rx="6" {}
            text.title x="10" y="18" { (title) }
            @for (i, line) in lines.iter().enumerate() {
                text x="10" y=(36 + 16 * i as u32) { (line) }
            }
        }
    }
}

fn edge(x1: u32, y1: u32, x2: u32, y2: u32) -> Markup {
    html! { line x1=(x1) y1=(y1) x2=(x2) y2=(y2) marker-end="url(#arrow)" {} }
}

/// The pipeline as an SVG graph.
fn graph(n: &FlowNumbers) -> Markup {
    let worker = |source: &str| {
        vec![
            html! { "ok " (live(n, &format!("{source}.processed"))) " · ign " (live(n, &format!("{source}.ignored"))) },
            html! { "dead " (live(n, &format!("{source}.dead_lettered"))) " · fail " (live(n, &format!("{source}.failed"))) " · err " (live(n, &format!("{source}.error_rate"))) },
        ]
    };
    let queue = |source: &str| {
        vec![
            html! { "waiting " (live(n, &format!("{source}.queue"))) " · held " (live(n, &format!("{source}.in_flight"))) },
            html! { "DLQ " (live(n, &format!("{source}.dlq"))) },
        ]
    };
    html! {
        svg.flows viewBox="0 0 1000 250" role="img" aria-label="The pipeline: Kentico to Stripe, Stripe to Kentico and the ledger" {
            defs {
                marker #arrow viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                    path d="M 0 0 L 10 5 L 0 10 z" {}
                }
            }
            (node(10, 20, "system", "Kentico", &[html! { "orders" }]))
            (node(210, 20, "ingress", "Kentico webhook", &[html! { "POST /webhooks/kentico" }]))
            (node(410, 20, "queue", "kentico-events", &queue("kentico")))
            (node(610, 20, "worker", "order worker", &worker("kentico")))
            (node(820, 20, "system", "Stripe", &[html! { "PaymentIntents" }]))
            (edge(170, 52, 210, 52)) (edge(370, 52, 410, 52)) (edge(570, 52, 610, 52)) (edge(770, 52, 820, 52))
            (node(10, 150, "system", "Stripe", &[html! { "payments, refunds" }]))
            (node(210, 150, "ingress", "Stripe webhook", &[html! { "POST /webhooks/stripe" }]))
            (node(410, 150, "queue", "stripe-events", &queue("stripe")))
            (node(610, 150, "worker", "payment worker", &worker("stripe")))
            (node(820, 120, "system", "Kentico", &[html! { "order statuses" }]))
            (node(820, 186, "system", "Ledger", &[html! { "entries for the ERP" }]))
            (edge(170, 182, 210, 182)) (edge(370, 182, 410, 182)) (edge(570, 182, 610, 182))
            (edge(770, 170, 820, 152)) (edge(770, 194, 820, 218))
        }
    }
}

/// `GET /console/`.
pub async fn page(State(state): State<ConsoleState>, who: Who) -> Response {
    let operator = &who.0;
    let n = numbers(&state).await;
    let active = active(&state).await;
    let body = html! {
        h1 { "Flows" }
        p.muted { "Queue depths now; outcomes from the event journal over the last hour. The numbers refresh every 2 seconds with JavaScript, and on every reload without." }
        (graph(&n))
        @if let Some(error) = &n.journal_error {
            p.bad { "The journal did not answer: " (error) }
        }
        table {
            thead { tr { th { "source" } th { "waiting" } th { "held" } th { "DLQ" } th { "processed" } th { "ignored" } th { "dead-lettered" } th { "failed" } th { "error rate" } } }
            tbody {
                @for source in ["kentico", "stripe"] {
                    tr {
                        td { (source) }
                        @for part in ["queue", "in_flight", "dlq", "processed", "ignored", "dead_lettered", "failed", "error_rate"] {
                            td.num { (live(&n, &format!("{source}.{part}"))) }
                        }
                    }
                }
            }
        }
        h2 { "Flow switches" }
        @match &active {
            Err(error) => p.bad { "The active mapping document could not be read: " (error) },
            Ok(active) => {
                p { "Active mapping version " strong { (active.version) } @if active.version == 0 { " (the environment's settings)" } ". "
                    span.muted { "The workers read the active version within MAPPING_REFRESH_SECONDS (15 s by default): a switch is in force everywhere within that, and the events of a switched-off flow end ignored (replayable once it is on again)." } }
                table {
                    thead { tr { th { "flow" } th { "state" } th { "" } } }
                    tbody {
                        @for (name, _) in FLOWS {
                            @let on = flag(&active.document.flows, name);
                            tr {
                                td { code { (name) } }
                                td { span class={"switch " (if on { "on" } else { "off" })} { (if on { "on" } else { "off" }) } }
                                td {
                                    form.inline method="post" action="/console/flows/switch" {
                                        (csrf_field(operator))
                                        input type="hidden" name="flow" value=(name);
                                        input type="hidden" name="on" value=(!on);
                                        button type="submit" { (if on { "Switch off…" } else { "Switch on…" }) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(metrics) = &state.metrics {
            details {
                summary { "This process's counters (Prometheus)" }
                pre { (metrics.prometheus_text()) }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Flows", "/console/", Some(operator), body),
    )
}

/// A flow's flag.
fn flag(flows: &Flows, name: &str) -> bool {
    match name {
        "order_to_cash" => flows.order_to_cash,
        "after_payment" => flows.after_payment,
        "customers" => flows.customers,
        _ => flows.ledger,
    }
}

/// `flows` with `name` set to `on`; `None` for a name that is not a flow.
pub fn switched(flows: Flows, name: &str, on: bool) -> Option<Flows> {
    let mut flows = flows;
    match name {
        "order_to_cash" => flows.order_to_cash = on,
        "after_payment" => flows.after_payment = on,
        "customers" => flows.customers = on,
        "ledger" => flows.ledger = on,
        _ => return None,
    }
    Some(flows)
}

/// The switch form.
#[derive(Deserialize)]
pub struct Switch {
    flow: String,
    on: bool,
    /// The active version the confirmation was shown for.
    #[serde(default)]
    expected: Option<u32>,
}

/// `POST /console/flows/switch`: what switching means, and a confirm button.
pub async fn switch(
    State(state): State<ConsoleState>,
    who: Who,
    Form(form): Form<Switch>,
) -> Response {
    let operator = &who.0;
    let Some((_, meaning)) = FLOWS.iter().find(|(name, _)| *name == form.flow) else {
        return layout::message(
            StatusCode::BAD_REQUEST,
            "No such flow",
            Some(operator),
            "Pick a flow on the Flows page.",
            ("/console/", "Flows"),
        );
    };
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => {
            return unavailable(Some(operator), "/console/", "the active mapping", &error);
        }
    };
    let explanation = html! {
        @if form.on {
            p { "Switching " code { (form.flow) } " on: it runs again as it did before it was switched off." }
        } @else {
            p { "Switching " code { (form.flow) } " off means " (meaning) }
        }
        p { "This publishes version " (active.version.saturating_add(1)) " of the mapping document (now active: " (active.version) ") with only this flag changed; you can roll back on the Mapping page." }
        p.muted { "The workers take the new version within MAPPING_REFRESH_SECONDS (15 s by default). Events of a switched-off flow end ignored, with the version in the reason; replay them with paybridge replay once the flow is on again." }
    };
    let state_word = if form.on { "on" } else { "off" };
    layout::confirm(
        operator,
        "/console/",
        &format!("Switch {} {state_word}?", form.flow),
        explanation,
        "/console/flows/switch/confirm",
        &[
            ("flow", form.flow.clone()),
            ("on", form.on.to_string()),
            ("expected", active.version.to_string()),
        ],
        &format!("Switch {} {state_word}", form.flow),
    )
}

/// `POST /console/flows/switch/confirm`: publishes the active document with the flag changed.
pub async fn switch_confirmed(
    State(state): State<ConsoleState>,
    who: Who,
    Form(form): Form<Switch>,
) -> Response {
    let operator = &who.0;
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => {
            return unavailable(Some(operator), "/console/", "the active mapping", &error);
        }
    };
    let expected = form.expected.unwrap_or(active.version);
    let mut document = active.document;
    let Some(flows) = switched(document.flows, &form.flow, form.on) else {
        return layout::message(
            StatusCode::BAD_REQUEST,
            "No such flow",
            Some(operator),
            "Pick a flow on the Flows page.",
            ("/console/", "Flows"),
        );
    };
    document.flows = flows;
    let text = match serde_json::to_string_pretty(&document) {
        Ok(text) => text,
        Err(error) => {
            return unavailable(
                Some(operator),
                "/console/",
                "the document",
                &error.to_string(),
            );
        }
    };
    let comment = format!(
        "flows.{} switched {} in the console",
        form.flow,
        if form.on { "on" } else { "off" }
    );
    let change = state
        .backend
        .mappings()
        .publish(
            &text,
            &operator.label,
            &comment,
            expected,
            time::OffsetDateTime::now_utc(),
        )
        .await;
    match change {
        Ok(change) => change_answer(operator, change, "/console/"),
        Err(error) => unavailable(
            Some(operator),
            "/console/",
            "publishing",
            &error.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_changes_only_the_named_flow() {
        let all_on = Flows {
            order_to_cash: true,
            after_payment: true,
            customers: true,
            ledger: true,
        };
        let off = switched(all_on, "ledger", false).unwrap();
        assert!(!off.ledger && off.order_to_cash && off.after_payment && off.customers);
        assert!(switched(all_on, "everything", false).is_none());
    }
}
