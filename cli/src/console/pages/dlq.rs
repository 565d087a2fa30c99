//! Dead letters (`/console/dlq`): the list filtered by source and reason code, one message
//! (masked envelope, reason, details), and redrive or purge — of one message or of everything
//! the filter matches — each after a confirmation naming exactly the messages it acts on. The
//! same port calls as `paybridge dlq`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use paybridge::dead_letters::DeadLetterEntry;
use paybridge::webhook::Source;
use serde::Deserialize;

use super::super::auth::Operator;
use super::super::layout::{self, csrf_field};
use super::super::mask::mask_text;
use super::super::{ConsoleState, Who};
use super::unavailable;

const HERE: &str = "/console/dlq";

/// The most messages listed (and acted on at once) per queue.
const LISTED: usize = 500;

/// The filter.
#[derive(Debug, Deserialize, Default)]
pub struct Filter {
    /// `stripe`, `kentico` or empty.
    #[serde(default)]
    source: String,
    /// A `failure_kind` or empty.
    #[serde(default)]
    reason: String,
}

impl Filter {
    fn source(&self) -> Option<Source> {
        self.source.parse().ok()
    }

    fn matches(&self, entry: &DeadLetterEntry) -> bool {
        self.reason.trim().is_empty() || entry.attribute("failure_kind") == self.reason.trim()
    }
}

/// The page of one message.
pub fn message_href(id: &str) -> String {
    let query = serde_urlencoded::to_string([("id", id)]).unwrap_or_default();
    format!("/console/dlq/message?{query}")
}

async fn listed(state: &ConsoleState, filter: &Filter) -> Result<Vec<DeadLetterEntry>, String> {
    let entries = (state
        .backend
        .dead_letters()
        .list(filter.source(), LISTED)
        .await)
        .map_err(|e| e.to_string())?;
    Ok(entries.into_iter().filter(|e| filter.matches(e)).collect())
}

/// `GET /console/dlq?source=&reason=`.
pub async fn list(
    State(state): State<ConsoleState>,
    who: Who,
    Query(filter): Query<Filter>,
) -> Response {
    let operator = &who.0;
    let entries = match listed(&state, &filter).await {
        Ok(entries) => entries,
        Err(error) => return unavailable(Some(operator), HERE, "the dead-letter queues", &error),
    };
    let body = html! {
        h1 { "Dead letters" }
        form.filters method="get" action=(HERE) {
            label { "source"
                select name="source" {
                    option value="" selected[filter.source.is_empty()] { "both" }
                    @for source in ["kentico", "stripe"] {
                        option value=(source) selected[filter.source == source] { (source) }
                    }
                }
            }
            label { "reason code" input type="text" name="reason" value=(filter.reason) placeholder="mapping_mismatch"; }
            button type="submit" { "Filter" }
        }
        p { (entries.len()) " dead-lettered event(s)" @if entries.len() >= LISTED { " (the first " (LISTED) " per queue)" } "." }
        @if !entries.is_empty() {
            div.filters {
                (bulk_form(operator, &filter, "redrive", "Redrive all listed…"))
                (bulk_form(operator, &filter, "purge", "Purge all listed…"))
            }
            table {
                thead { tr { th { "id" } th { "queue" } th { "event type" } th { "reason code" } th { "failed at" } th { "reason" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { a href=(message_href(&e.id)) { code { (e.id) } } }
                            td { (e.queue.as_str()) } td { (e.attribute("event_type")) }
                            td.bad { (e.attribute("failure_kind")) } td { (e.attribute("failed_at")) }
                            td { (mask_text(&e.attribute("failure_reason").chars().take(160).collect::<String>())) }
                        }
                    }
                }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Dead letters", HERE, Some(operator), body),
    )
}

fn bulk_form(operator: &Operator, filter: &Filter, action: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action="/console/dlq/action" {
            (csrf_field(operator))
            input type="hidden" name="action" value=(action);
            input type="hidden" name="source" value=(filter.source);
            input type="hidden" name="reason" value=(filter.reason);
            button.danger[action == "purge"] type="submit" { (label) }
        }
    }
}

/// `?id=`.
#[derive(Deserialize)]
pub struct One {
    id: String,
}

/// `GET /console/dlq/message?id=…`.
pub async fn show(State(state): State<ConsoleState>, who: Who, Query(one): Query<One>) -> Response {
    let operator = &who.0;
    let entries = match state.backend.dead_letters().list(None, usize::MAX).await {
        Ok(entries) => entries,
        Err(error) => {
            return unavailable(
                Some(operator),
                HERE,
                "the dead-letter queues",
                &error.to_string(),
            );
        }
    };
    let Some(entry) = entries.into_iter().find(|e| e.id == one.id) else {
        return layout::message(
            StatusCode::NOT_FOUND,
            "Not in a dead-letter queue",
            Some(operator),
            &format!(
                "{} is not in a dead-letter queue (redriven or purged meanwhile?).",
                one.id
            ),
            (HERE, "Dead letters"),
        );
    };
    let body = html! {
        h1 { "Dead letter " code { (entry.id) } }
        table {
            tbody {
                tr { th { "queue" } td { (entry.queue.as_str()) } }
                @for (name, value) in &entry.attributes {
                    tr { th { (name) } td { (mask_text(value)) } }
                }
            }
        }
        div.filters {
            @for (action, label) in [("redrive", "Redrive…"), ("purge", "Purge…")] {
                form.inline method="post" action="/console/dlq/action" {
                    (csrf_field(operator))
                    input type="hidden" name="action" value=(action);
                    input type="hidden" name="ids" value=(entry.id);
                    button.danger[action == "purge"] type="submit" { (label) }
                }
            }
        }
        h2 { "Envelope (personal data masked)" }
        pre { (mask_text(&entry.body)) }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Dead letter", HERE, Some(operator), body),
    )
}

/// An action on named ids, or on what a filter matches.
#[derive(Debug, Default)]
pub struct Action {
    action: String,
    ids: Vec<String>,
    filter: Filter,
}

impl Action {
    /// From a urlencoded form (`ids` may repeat, which `serde` forms do not take).
    fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut action = Action::default();
        for (name, value) in pairs {
            match name.as_str() {
                "action" => action.action = value,
                "ids" => action.ids.push(value),
                "source" => action.filter.source = value,
                "reason" => action.filter.reason = value,
                _ => {}
            }
        }
        action
    }
}

/// `POST /console/dlq/action`: names the messages and asks for a confirmation.
pub async fn action(
    State(state): State<ConsoleState>,
    who: Who,
    body: axum::body::Bytes,
) -> Response {
    let operator = &who.0;
    let mut action = Action::parse(&body);
    if !matches!(action.action.as_str(), "redrive" | "purge") {
        return layout::message(
            StatusCode::BAD_REQUEST,
            "Which action?",
            Some(operator),
            "Redrive or purge.",
            (HERE, "Dead letters"),
        );
    }
    if action.ids.is_empty() {
        match listed(&state, &action.filter).await {
            Ok(entries) => action.ids = entries.into_iter().map(|e| e.id).collect(),
            Err(error) => {
                return unavailable(Some(operator), HERE, "the dead-letter queues", &error);
            }
        }
    }
    if action.ids.is_empty() {
        return layout::message(
            StatusCode::OK,
            "Nothing to do",
            Some(operator),
            "No dead letter matches.",
            (HERE, "Dead letters"),
        );
    }
    let explanation = html! {
        @if action.action == "purge" {
            p { "Deletes " strong { (action.ids.len()) } " dead-lettered event(s) for good. Their events will not run again unless their sender sends them again." }
        } @else {
            p { "Puts " strong { (action.ids.len()) } " dead-lettered event(s) back on their queue. Idempotent: work already done is not done again; an event that still cannot be handled comes back here with its reason." }
        }
        ul { @for id in &action.ids { li { code { (id) } } } }
    };
    let fields: Vec<(&str, String)> = std::iter::once(("action", action.action.clone()))
        .chain(action.ids.iter().map(|id| ("ids", id.clone())))
        .collect();
    let verb = if action.action == "purge" {
        "Purge"
    } else {
        "Redrive"
    };
    layout::confirm(
        operator,
        HERE,
        &format!("{verb} {} event(s)?", action.ids.len()),
        explanation,
        "/console/dlq/action/confirm",
        &fields,
        verb,
    )
}

/// `POST /console/dlq/action/confirm`: does it, for exactly the confirmed ids.
pub async fn action_confirmed(
    State(state): State<ConsoleState>,
    who: Who,
    body: axum::body::Bytes,
) -> Response {
    let operator = &who.0;
    let action = Action::parse(&body);
    let dlq = state.backend.dead_letters();
    let done = match action.action.as_str() {
        "redrive" => crate::dlq::redrive(dlq.as_ref(), &action.ids, |_| {}).await,
        "purge" => dlq.purge(&action.ids).await,
        _ => {
            return layout::message(
                StatusCode::BAD_REQUEST,
                "Which action?",
                Some(operator),
                "Redrive or purge.",
                (HERE, "Dead letters"),
            );
        }
    };
    match done {
        Ok(count) => {
            tracing::info!(action = %action.action, count, asked = action.ids.len(), author = %operator.label, "dead letters acted on in the console");
            if count == action.ids.len() {
                Redirect::to(HERE).into_response()
            } else {
                layout::message(
                    StatusCode::OK,
                    "Partly done",
                    Some(operator),
                    &format!(
                        "{} of {} event(s) done; the others were no longer in a dead-letter queue (or, for a redrive, their body is no longer in the journal: they stay in the DLQ).",
                        count,
                        action.ids.len()
                    ),
                    (HERE, "Dead letters"),
                )
            }
        }
        Err(error) => unavailable(Some(operator), HERE, &action.action, &error.to_string()),
    }
}
