//! Events (`/console/events?q=…`): search the journal by order id, event id, PaymentIntent or
//! Checkout Session id, or customer id, and the last reconciliation report ([`reports`]); one
//! order's timeline (`/console/orders/{id}`) is in [`order`].

pub mod order;
pub mod reports;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use paybridge::journal::RecentEntry;
use serde::Deserialize;

use super::super::layout;
use super::super::mask::mask_text;
use super::super::{ConsoleState, Who};
use super::unavailable;
use crate::trace::gather;

pub const HERE: &str = "/console/events";

/// How far back an event id is searched for in the journal (its retention is longer; this
/// bounds the read).
const SEARCH_DAYS: i64 = 7;
/// The most journal entries an event-id search reads.
const SEARCH_ENTRIES: usize = 50_000;
/// The latest entries shown before any search.
const LATEST: usize = 50;

/// `?q=`.
#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

/// What a search found.
enum Found {
    /// An order: show its timeline.
    Order(i64),
    /// Journal entries (by customer, or by event id).
    Entries(Vec<RecentEntry>),
}

/// Where `q` leads.
async fn find(state: &ConsoleState, q: &str) -> Result<Found, String> {
    let backend = &state.backend;
    if let Ok(order_id) = q.parse::<i64>() {
        // A number is an order, unless only a customer of that id is known.
        let order = gather(backend, order_id).await?;
        if order.is_empty() {
            let customer = (backend
                .journal()
                .entries(&format!("customer:{order_id}"))
                .await)
                .map_err(|e| e.to_string())?;
            if !customer.is_empty() {
                return Ok(Found::Entries(under(
                    &format!("customer:{order_id}"),
                    customer,
                )));
            }
        }
        return Ok(Found::Order(order_id));
    }
    if q.starts_with("pi_") {
        let link = (backend.links().by_payment_intent(q).await).map_err(|e| e.to_string())?;
        if let Some(link) = link {
            return Ok(Found::Order(link.order_id));
        }
    }
    if q.starts_with("cs_") {
        let link = (backend.links().by_checkout_session(q).await).map_err(|e| e.to_string())?;
        if let Some(link) = link {
            return Ok(Found::Order(link.order_id));
        }
    }
    if q.starts_with("cus_") {
        let key = format!("stripe_customer:{q}");
        let entries = (backend.journal().entries(&key).await).map_err(|e| e.to_string())?;
        return Ok(Found::Entries(under(&key, entries)));
    }
    let since =
        paybridge::clock::unix_millis(time::OffsetDateTime::now_utc()) - SEARCH_DAYS * 86_400_000;
    let recent =
        (backend.journal().recent(since, SEARCH_ENTRIES).await).map_err(|e| e.to_string())?;
    let mut matching: Vec<RecentEntry> = recent
        .into_iter()
        .filter(|r| r.entry.event_id == q)
        .collect();
    matching.reverse();
    Ok(Found::Entries(matching))
}

fn under(key: &str, entries: Vec<paybridge::journal::JournalEntry>) -> Vec<RecentEntry> {
    entries
        .into_iter()
        .map(|entry| RecentEntry {
            business_key: key.to_string(),
            entry,
        })
        .collect()
}

/// A business key, linked to its order's timeline when it is one.
fn key_link(key: &str) -> Markup {
    match key
        .strip_prefix("order:")
        .and_then(|id| id.parse::<i64>().ok())
    {
        Some(id) => html! { a href={"/console/orders/" (id)} { (key) } },
        None => html! { (key) },
    }
}

/// `GET /console/events?q=…`.
pub async fn search(
    State(state): State<ConsoleState>,
    who: Who,
    Query(search): Query<Search>,
) -> Response {
    let operator = &who.0;
    let q = search.q.trim();
    let found = match q {
        "" => None,
        q => match find(&state, q).await {
            Ok(Found::Order(id)) => {
                return Redirect::to(&format!("/console/orders/{id}")).into_response();
            }
            Ok(Found::Entries(entries)) => Some(entries),
            Err(error) => return unavailable(Some(operator), HERE, "the search", &error),
        },
    };
    let reconciled = match found {
        Some(_) => Ok(None),
        None => reports::last(&state.backend).await,
    };
    let latest = match found {
        Some(_) => Ok(Vec::new()),
        None => {
            let since = paybridge::clock::unix_millis(time::OffsetDateTime::now_utc()) - 3_600_000;
            state
                .backend
                .journal()
                .recent(since, LATEST)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let body = html! {
        h1 { "Events" }
        form.filters method="get" action=(HERE) {
            label { "Order id, event id, PaymentIntent, Checkout Session or customer id"
                input type="search" name="q" value=(q) placeholder="1042, evt_…, pi_…, cus_…" size="40"; }
            button.primary type="submit" { "Search" }
        }
        p.muted { "An event id is looked for among the last " (SEARCH_DAYS) " days of the journal." }
        @match &found {
            Some(entries) if entries.is_empty() => p { "Nothing recorded for " code { (q) } "." },
            Some(entries) => (entry_table(entries)),
            None => {
                h2 { "Last reconciliation" }
                (reports::section(&reconciled, Some(reports::SUMMARY_FINDINGS)))
                h2 { "Latest" }
                @match &latest {
                    Ok(entries) if entries.is_empty() => p.muted { "Nothing recorded in the last hour." },
                    Ok(entries) => (entry_table(entries)),
                    Err(error) => p.bad { "The journal did not answer: " (error) },
                }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Events", HERE, Some(operator), body),
    )
}

fn entry_table(entries: &[RecentEntry]) -> Markup {
    html! {
        table {
            thead { tr { th { "at" } th { "key" } th { "source" } th { "event" } th { "worker" } th { "outcome (delivery)" } th { "detail" } } }
            tbody {
                @for r in entries {
                    tr {
                        td { (r.entry.at) } td { (key_link(&r.business_key)) } td { (r.entry.source) }
                        td { (r.entry.event_type) br; code { (r.entry.event_id) } }
                        td { (r.entry.worker) } td { (r.entry.outcome) " (#" (r.entry.receive_count) ")" }
                        td { (mask_text(&r.entry.detail)) }
                    }
                }
            }
        }
    }
}
