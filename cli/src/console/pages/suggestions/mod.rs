//! Suggestions (`/console/suggestions`): the alias that would let each group of dead-lettered
//! mapping mismatches through, and the PaymentIntent fields each unmapped order field could
//! fill — deterministic and explained (docs/CONTRACTS.md#suggestions). Each is applied after a
//! confirmation showing the diff: a new mapping version, and for an alias a redrive of exactly
//! the dead letters it names. JSON at `/console/api/suggestions`.

pub mod gather;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use paybridge::mapping_doc::MappingDocument;
use paybridge::mapping_doc::store::MappingChange;

use super::super::auth::Operator;
use super::super::layout::{self, csrf_field};
use super::super::mask::mask_text;
use super::super::{ConsoleState, Who};
use super::mapping::diff_view;
use super::{Active, change_answer, replay, unavailable};
use gather::{CorrectionGroup, FieldGroup, Gathered, gather};

const HERE: &str = "/console/suggestions";

/// `GET /console/suggestions`.
pub async fn page(State(state): State<ConsoleState>, who: Who) -> Response {
    let operator = &who.0;
    let gathered = match gather(&state.backend, &state.settings).await {
        Ok(gathered) => gathered,
        Err(error) => return unavailable(Some(operator), HERE, "the suggestions", &error),
    };
    let body = html! {
        h1 { "Suggestions" }
        p.muted { "Deterministic suggestions against the active version " (gathered.active.version)
            ": each says how sure it is (0–100) and why. Nothing changes until you accept one and confirm the diff." }
        h2 { "Corrections for dead-lettered mapping mismatches" }
        @if gathered.corrections.is_empty() && gathered.uncorrected.is_empty() {
            p.muted { "No Kentico dead letter is a mapping mismatch." }
        }
        @for group in &gathered.corrections {
            (correction_view(operator, group))
        }
        @if !gathered.uncorrected.is_empty() {
            h3 { "Mismatches without a correction" }
            table {
                thead { tr { th { "dead letter" } th { "order" } th { "field" } th { "why there is none" } } }
                tbody {
                    @for u in &gathered.uncorrected {
                        tr {
                            td { a href=(super::dlq::message_href(&u.dead_letter.id)) { code { (u.dead_letter.id) } } }
                            td { (u.dead_letter.order_id.clone().unwrap_or_default()) }
                            td { code { (u.field) } }
                            td { (u.why) }
                        }
                    }
                }
            }
        }
        h2 { "Unmapped order fields" }
        p.muted { "From recent Kentico order events and the dead letters' orders. Fields paybridge maps itself, and fields a rule already reads, are left out." }
        @if gathered.fields.is_empty() {
            p.muted { "No unmapped field in the sample orders." }
        }
        @for field in &gathered.fields {
            (field_view(operator, field))
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Suggestions", HERE, Some(operator), body),
    )
}

fn correction_view(operator: &Operator, group: &CorrectionGroup) -> Markup {
    let c = &group.correction;
    html! {
        div.suggestion {
            p { strong { (group.description) } }
            p { "Confidence " strong { (c.confidence) } " · value " code { (c.value) } " at " code { (c.field) } " · why: " (c.explanation) }
            p { (group.dead_letters.len()) " dead letter(s): "
                @for (i, d) in group.dead_letters.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(super::dlq::message_href(&d.id)) { code { (d.id) } }
                    @if let Some(order) = &d.order_id { " (order " (order) ")" }
                }
            }
            form.inline method="post" action="/console/suggestions/correct" {
                (csrf_field(operator))
                input type="hidden" name="key" value=(group.key());
                button.primary type="submit" { "Add the alias and redrive…" }
            }
        }
    }
}

fn field_view(operator: &Operator, field: &FieldGroup) -> Markup {
    html! {
        div.suggestion {
            h3 { code { (field.path) } }
            @if let Some(sample) = &field.sample {
                p { "Sample value: " code { (mask_text(sample)) } }
            }
            table {
                thead { tr { th { "target" } th { "confidence" } th { "reasons" } th { "" } } }
                tbody {
                    @for s in &field.suggestions {
                        tr {
                            td { code { (s.target().to_string()) } }
                            td { (s.confidence) }
                            td { ul { @for reason in &s.reasons { li { (reason) } } } }
                            td {
                                form.inline method="post" action="/console/suggestions/field" {
                                    (csrf_field(operator))
                                    input type="hidden" name="path" value=(s.path);
                                    input type="hidden" name="target" value=(s.target().to_string());
                                    button type="submit" { "Add…" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/api/suggestions`: both lists, in the library's JSON shapes.
pub async fn api(State(state): State<ConsoleState>) -> Response {
    match gather(&state.backend, &state.settings).await {
        Ok(g) => axum::Json(serde_json::json!({
            "active_version": g.active.version,
            "corrections": g.corrections,
            "uncorrected": g.uncorrected,
            "fields": g.fields.iter().flat_map(|f| f.suggestions.iter()).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "console read failed: suggestions");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"error": error})),
            )
                .into_response()
        }
    }
}

/// A suggestion form: `key` (an alias), `path` and `target` (a field), `ids` (may repeat),
/// `expected` (the version a confirmation showed).
#[derive(Debug, Default)]
struct Accept {
    key: String,
    path: String,
    target: String,
    ids: Vec<String>,
    expected: Option<u32>,
}

impl Accept {
    fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut accept = Accept::default();
        for (name, value) in pairs {
            match name.as_str() {
                "key" => accept.key = value,
                "path" => accept.path = value,
                "target" => accept.target = value,
                "ids" => accept.ids.push(value),
                "expected" => accept.expected = value.parse().ok(),
                _ => {}
            }
        }
        accept
    }
}

fn gone(operator: &Operator, what: &str) -> Response {
    layout::message(
        StatusCode::NOT_FOUND,
        "No longer suggested",
        Some(operator),
        &format!(
            "{what} is no longer suggested (redriven, purged or mapped meanwhile?): nothing was written."
        ),
        (HERE, "Suggestions"),
    )
}

/// The active document with a change applied, pretty-printed and checked.
fn changed(active: &Active, apply: impl FnOnce(&mut MappingDocument)) -> Result<String, String> {
    let mut document = active.document.clone();
    apply(&mut document);
    let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    MappingDocument::parse(&text).map_err(|problems| {
        format!(
            "the changed document does not pass validation: {}",
            problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    })?;
    Ok(text)
}

/// The correction `accept` names and the active document with it applied, or the page saying
/// why not (no longer suggested; a document that would not validate).
fn correction<'g>(
    operator: &Operator,
    g: &'g Gathered,
    accept: &Accept,
) -> Result<(&'g CorrectionGroup, String), Box<Response>> {
    let Some(group) = g.corrections.iter().find(|c| c.key() == accept.key) else {
        return Err(Box::new(gone(operator, "This alias")));
    };
    let text = changed(&g.active, |d| group.correction.apply(d)).map_err(|error| {
        Box::new(unavailable(
            Some(operator),
            HERE,
            "the changed document",
            &error,
        ))
    })?;
    Ok((group, text))
}

/// `POST /console/suggestions/correct`: the diff and the dead letters to redrive.
pub async fn correct(
    State(state): State<ConsoleState>,
    who: Who,
    body: axum::body::Bytes,
) -> Response {
    let operator = &who.0;
    let accept = Accept::parse(&body);
    let g = match gather(&state.backend, &state.settings).await {
        Ok(g) => g,
        Err(error) => return unavailable(Some(operator), HERE, "the suggestions", &error),
    };
    let (group, text) = match correction(operator, &g, &accept) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let explanation = html! {
        p { strong { (group.description) } }
        p { "Publishes the next mapping version with this alias, instead of version " (g.active.version)
            ", then puts these " strong { (group.dead_letters.len()) } " dead-lettered event(s) back on their queue. The workers read the new version at their next event." }
        ul { @for d in &group.dead_letters { li { code { (d.id) } @if let Some(order) = &d.order_id { " (order " (order) ")" } } } }
        (diff_view(&g.active.text, &text))
    };
    let fields: Vec<(&str, String)> = [
        ("key", accept.key.clone()),
        ("expected", g.active.version.to_string()),
    ]
    .into_iter()
    .chain(group.dead_letters.iter().map(|d| ("ids", d.id.clone())))
    .collect();
    layout::confirm(
        operator,
        HERE,
        "Add the alias and redrive?",
        explanation,
        "/console/suggestions/correct/confirm",
        &fields,
        "Publish and redrive",
    )
}

/// Publishes `text` over `active`, after replaying it on the sample order events: the new
/// version, or the page saying why not (a sample order it breaks, a conflict, a store error).
async fn publish(
    state: &ConsoleState,
    operator: &Operator,
    text: &str,
    comment: &str,
    active: &Active,
) -> Result<u32, Response> {
    let document = MappingDocument::parse(text).map_err(|problems| {
        let first = problems.first().map(ToString::to_string);
        unavailable(
            Some(operator),
            HERE,
            "the changed document",
            &first.unwrap_or_default(),
        )
    })?;
    let replayed = (replay::replay(state, active, &document).await)
        .map_err(|error| unavailable(Some(operator), HERE, "the environment's settings", &error))?;
    if !replayed.regressions().is_empty() {
        let body = html! {
            h1 { "This change would break orders" }
            p.bad { "Nothing was stored: sample orders that the active version " (active.version) " maps would no longer map." }
            (replay::view(&replayed))
        };
        return Err(layout::respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            layout::page("Suggestions", HERE, Some(operator), body),
        ));
    }
    let change = state
        .backend
        .mappings()
        .publish(
            text,
            &operator.label,
            comment,
            active.version,
            time::OffsetDateTime::now_utc(),
        )
        .await;
    match change {
        Ok(MappingChange::Done(version)) => {
            tracing::info!(version, author = %operator.label, comment, "suggestion published (console)");
            Ok(version)
        }
        Ok(other) => Err(change_answer(operator, other, HERE)),
        Err(error) => Err(unavailable(
            Some(operator),
            HERE,
            "publishing",
            &error.to_string(),
        )),
    }
}

/// The active version, unless it is no longer the one the confirmation showed.
async fn still_active(
    state: &ConsoleState,
    operator: &Operator,
    expected: Option<u32>,
) -> Result<Gathered, Response> {
    let Some(expected) = expected else {
        return Err(layout::message(
            StatusCode::BAD_REQUEST,
            "Which version?",
            Some(operator),
            "Accept a suggestion from its confirmation, which says which version it was made against.",
            (HERE, "Suggestions"),
        ));
    };
    let g = (gather(&state.backend, &state.settings).await)
        .map_err(|error| unavailable(Some(operator), HERE, "the suggestions", &error))?;
    if g.active.version != expected {
        return Err(change_answer(
            operator,
            MappingChange::Conflict {
                active: g.active.version,
            },
            HERE,
        ));
    }
    Ok(g)
}

/// `POST /console/suggestions/correct/confirm`: publishes the alias, then redrives exactly the
/// confirmed dead letters (none when nothing was published).
pub async fn correct_confirmed(
    State(state): State<ConsoleState>,
    who: Who,
    body: axum::body::Bytes,
) -> Response {
    let operator = &who.0;
    let accept = Accept::parse(&body);
    let g = match still_active(&state, operator, accept.expected).await {
        Ok(g) => g,
        Err(page) => return page,
    };
    let (group, text) = match correction(operator, &g, &accept) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let comment = format!(
        "suggestion accepted in the console: {} (for {} dead letter(s))",
        group.description,
        accept.ids.len()
    );
    let version = match publish(&state, operator, &text, &comment, &g.active).await {
        Ok(version) => version,
        Err(page) => return page,
    };
    let dlq = state.backend.dead_letters();
    match crate::dlq::redrive(dlq.as_ref(), &accept.ids, |_| {}).await {
        Ok(count) => {
            tracing::info!(version, count, asked = accept.ids.len(), author = %operator.label, "dead letters redriven after a suggestion (console)");
            layout::message(
                StatusCode::OK,
                "Published and redriven",
                Some(operator),
                &format!(
                    "Version {version} is active; {count} of {} dead-lettered event(s) are back on their queue.",
                    accept.ids.len()
                ),
                (HERE, "Suggestions"),
            )
        }
        Err(error) => unavailable(
            Some(operator),
            HERE,
            &format!("version {version} is active, but redriving"),
            &error.to_string(),
        ),
    }
}

/// `POST /console/suggestions/field`: the diff of adding one field's rule.
pub async fn field(
    State(state): State<ConsoleState>,
    who: Who,
    body: axum::body::Bytes,
) -> Response {
    let operator = &who.0;
    let accept = Accept::parse(&body);
    let g = match gather(&state.backend, &state.settings).await {
        Ok(g) => g,
        Err(error) => return unavailable(Some(operator), HERE, "the suggestions", &error),
    };
    field_step(operator, &g, &accept, false, &state).await
}

/// `POST /console/suggestions/field/confirm`: publishes the rule.
pub async fn field_confirmed(
    State(state): State<ConsoleState>,
    who: Who,
    body: axum::body::Bytes,
) -> Response {
    let operator = &who.0;
    let accept = Accept::parse(&body);
    let g = match still_active(&state, operator, accept.expected).await {
        Ok(g) => g,
        Err(page) => return page,
    };
    field_step(operator, &g, &accept, true, &state).await
}

async fn field_step(
    operator: &Operator,
    g: &Gathered,
    accept: &Accept,
    confirmed: bool,
    state: &ConsoleState,
) -> Response {
    let Some(suggestion) = (g.fields.iter())
        .flat_map(|f| f.suggestions.iter())
        .find(|s| s.path == accept.path && s.target().to_string() == accept.target)
    else {
        return gone(operator, &format!("{} → {}", accept.path, accept.target));
    };
    let text = match changed(&g.active, |d| suggestion.apply(d)) {
        Ok(text) => text,
        Err(error) => return unavailable(Some(operator), HERE, "the changed document", &error),
    };
    if confirmed {
        let comment = format!(
            "suggestion accepted in the console: {} fills {}",
            suggestion.path,
            suggestion.target()
        );
        return match publish(state, operator, &text, &comment, &g.active).await {
            Ok(version) => layout::message(
                StatusCode::OK,
                "Published",
                Some(operator),
                &format!(
                    "Version {version} is active: {} fills {}.",
                    suggestion.path,
                    suggestion.target()
                ),
                (HERE, "Suggestions"),
            ),
            Err(page) => page,
        };
    }
    let explanation = html! {
        p { "Publishes the next mapping version, instead of version " (g.active.version) ", with " code { (suggestion.path) } " filling " code { (suggestion.target().to_string()) } " (confidence " (suggestion.confidence) ")." }
        (diff_view(&g.active.text, &text))
    };
    layout::confirm(
        operator,
        HERE,
        "Add this rule?",
        explanation,
        "/console/suggestions/field/confirm",
        &[
            ("path", accept.path.clone()),
            ("target", accept.target.clone()),
            ("expected", g.active.version.to_string()),
        ],
        "Publish",
    )
}
