//! Mapping (`/console/mapping`): the active version and its JSON, the history and the audit
//! trail, a diff of any version against the active one, activating (rolling back to) any
//! version after a confirmation, and publishing a new document: checked first (every problem
//! with its JSON path), replayed on the sample order events (a version that breaks an order the
//! active one maps is refused), then shown as a diff to confirm.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use paybridge::mapping_doc::MappingDocument;
use serde::Deserialize;

use super::super::auth::Operator;
use super::super::diff::{self, Line};
use super::super::layout::{self, csrf_field};
use super::super::{ConsoleState, Who};
use super::replay::{self, Replayed};
use super::{active, change_answer, unavailable, version_text};

/// How many versions and audit lines the page lists.
const LISTED: usize = 50;

const HERE: &str = "/console/mapping";

/// A diff as lines marked added and removed.
pub fn diff_view(old: &str, new: &str) -> Markup {
    let lines = diff::diff(old, new);
    html! {
        @if !diff::changed(&lines) {
            p.muted { "No difference." }
        }
        pre.diff {
            @for line in &lines {
                @match line {
                    Line::Same(text) => span { "  " (text) },
                    Line::Removed(text) => span.removed { "- " (text) },
                    Line::Added(text) => span.added { "+ " (text) },
                }
            }
        }
    }
}

/// `GET /console/mapping`.
pub async fn page(State(state): State<ConsoleState>, who: Who) -> Response {
    let operator = &who.0;
    let store = state.backend.mappings();
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => return unavailable(Some(operator), HERE, "the active mapping", &error),
    };
    let (versions, audit) = match (store.versions(LISTED).await, store.audit(LISTED).await) {
        (Ok(versions), Ok(audit)) => (versions, audit),
        (Err(error), _) | (_, Err(error)) => {
            return unavailable(
                Some(operator),
                HERE,
                "the mapping history",
                &error.to_string(),
            );
        }
    };
    let body = html! {
        h1 { "Mapping" }
        p { "Active: version " strong { (active.version) } @if active.version == 0 { " — the environment's settings (status map, canceled statuses, ledger accounts, customer field owners)" } "." }
        p.muted { "The workers read the active version within MAPPING_REFRESH_SECONDS (15 s by default), over the environment's settings: what a version does not name stays as the environment says. Versions are checked, stored, audited and can be rolled back." }
        pre { (active.text) }
        p { a href="/console/mapping/designer" { "Open the mapping designer" } " — drag the order's fields onto the PaymentIntent and see the exact Stripe request." }
        h2 { "Versions" }
        table {
            thead { tr { th { "version" } th { "author" } th { "created" } th { "comment" } th { "" } } }
            tbody {
                @for version in &versions {
                    (version_row(operator, active.version, version.version, &version.author, &version.created_at, &version.comment))
                }
                (version_row(operator, active.version, 0, "the environment", "", "what the environment's settings amount to"))
            }
        }
        h2 { "Publish a new version" }
        (publish_form(operator, &active.text, "", "", &[]))
        h2 { "Audit trail" }
        table {
            thead { tr { th { "at" } th { "author" } th { "action" } th { "from → to" } th { "comment" } } }
            tbody {
                @for line in &audit {
                    tr { td { (line.at) } td { (line.author) } td { (line.action.as_str()) } td { (line.previous) " → " (line.version) } td { (line.comment) } }
                }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Mapping", HERE, Some(operator), body),
    )
}

fn version_row(
    operator: &Operator,
    active: u32,
    version: u32,
    author: &str,
    created: &str,
    comment: &str,
) -> Markup {
    html! {
        tr {
            td { (version) @if version == active { " " span.switch.on { "active" } } }
            td { (author) } td { (created) } td { (comment) }
            td {
                @if version != active {
                    a href={"/console/mapping/diff?version=" (version)} { "diff" } " "
                    form.inline method="post" action="/console/mapping/activate" {
                        (csrf_field(operator))
                        input type="hidden" name="version" value=(version);
                        button type="submit" { "Activate…" }
                    }
                }
            }
        }
    }
}

fn publish_form(
    operator: &Operator,
    document: &str,
    author: &str,
    comment: &str,
    problems: &[paybridge::mapping_doc::validate::Problem],
) -> Markup {
    html! {
        @if !problems.is_empty() {
            div.message {
                p.bad { "The document has " (problems.len()) " problem(s); nothing was stored:" }
                ul.problems {
                    @for problem in problems {
                        li { code { @if problem.path.is_empty() { "(document)" } @else { (problem.path) } } ": " (problem.message) }
                    }
                }
            }
        }
        form method="post" action="/console/mapping/publish" {
            (csrf_field(operator))
            p { textarea name="document" spellcheck="false" aria-label="the mapping document (JSON)" { (document) } }
            p {
                label { "Author " input type="text" name="author" value=(author) placeholder=(operator.label) maxlength="80"; } " "
                label { "Comment " input type="text" name="comment" value=(comment) required maxlength="500"; } " "
                button.primary type="submit" { "Check and show the diff" }
            }
        }
    }
}

/// The active version and version `version`'s text, or the page saying why not (404 for a
/// version that is not stored, 503 for a store that did not answer).
async fn active_and(
    state: &ConsoleState,
    operator: &Operator,
    version: u32,
) -> Result<(super::Active, String), Box<Response>> {
    let active = match active(state).await {
        Ok(active) => active,
        Err(error) => {
            let page = unavailable(Some(operator), HERE, "the active mapping", &error);
            return Err(Box::new(page));
        }
    };
    let page = match version_text(state, version).await {
        Ok(Some(text)) => return Ok((active, text)),
        Ok(None) => layout::message(
            StatusCode::NOT_FOUND,
            "No such version",
            Some(operator),
            &format!("There is no version {version}."),
            (HERE, "Mapping"),
        ),
        Err(error) => unavailable(Some(operator), HERE, "the version", &error),
    };
    Err(Box::new(page))
}

/// `?version=N`.
#[derive(Deserialize)]
pub struct VersionQuery {
    version: u32,
}

/// `GET /console/mapping/diff?version=N`: version N against the active one.
pub async fn diff(
    State(state): State<ConsoleState>,
    who: Who,
    Query(query): Query<VersionQuery>,
) -> Response {
    let operator = &who.0;
    let (active, text) = match active_and(&state, operator, query.version).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let body = html! {
        h1 { "Version " (query.version) " against the active version " (active.version) }
        p.muted { "- lines only in the active version, + lines only in version " (query.version) "." }
        (diff_view(&active.text, &text))
        form method="post" action="/console/mapping/activate" {
            (csrf_field(operator))
            input type="hidden" name="version" value=(query.version);
            button type="submit" { "Activate version " (query.version) "…" }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page("Diff", HERE, Some(operator), body),
    )
}

/// The activate form.
#[derive(Deserialize)]
pub struct Activate {
    version: u32,
    #[serde(default)]
    expected: Option<u32>,
}

/// `POST /console/mapping/activate`: the confirmation.
pub async fn activate(
    State(state): State<ConsoleState>,
    who: Who,
    Form(form): Form<Activate>,
) -> Response {
    let operator = &who.0;
    let (active, text) = match active_and(&state, operator, form.version).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let explanation = html! {
        p { "Version " (form.version) " becomes the active mapping instead of version " (active.version) "."
            @if form.version == 0 { " Version 0 is what the environment's settings amount to." } }
        (diff_view(&active.text, &text))
    };
    layout::confirm(
        operator,
        HERE,
        &format!("Activate version {}?", form.version),
        explanation,
        "/console/mapping/activate/confirm",
        &[
            ("version", form.version.to_string()),
            ("expected", active.version.to_string()),
        ],
        &format!("Activate version {}", form.version),
    )
}

/// `POST /console/mapping/activate/confirm`.
pub async fn activate_confirmed(
    State(state): State<ConsoleState>,
    who: Who,
    Form(form): Form<Activate>,
) -> Response {
    let operator = &who.0;
    let store = state.backend.mappings();
    let expected = match form.expected {
        Some(expected) => expected,
        None => match store.active().await {
            Ok((active, _)) => active,
            Err(error) => {
                return unavailable(
                    Some(operator),
                    HERE,
                    "the active mapping",
                    &error.to_string(),
                );
            }
        },
    };
    let comment = format!("version {} activated in the console", form.version);
    match store
        .activate(
            form.version,
            &operator.label,
            &comment,
            expected,
            time::OffsetDateTime::now_utc(),
        )
        .await
    {
        Ok(change) => change_answer(operator, change, HERE),
        Err(error) => unavailable(Some(operator), HERE, "activating", &error.to_string()),
    }
}

/// The publish form.
#[derive(Deserialize)]
pub struct Publish {
    document: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    expected: Option<u32>,
}

impl Publish {
    fn author(&self, operator: &Operator) -> String {
        match self.author.trim() {
            "" => operator.label.clone(),
            author => author.to_string(),
        }
    }
}

/// Checks a document: its problems on the page (422), or the document pretty-printed.
fn check(operator: &Operator, form: &Publish) -> Result<(MappingDocument, String), Box<Response>> {
    let problems = match MappingDocument::parse(&form.document) {
        Ok(document) => match serde_json::to_string_pretty(&document) {
            Ok(text) => return Ok((document, text)),
            Err(error) => vec![paybridge::mapping_doc::validate::Problem {
                path: String::new(),
                message: error.to_string(),
            }],
        },
        Err(problems) => problems,
    };
    let body = html! {
        h1 { "The document has problems" }
        (publish_form(operator, &form.document, &form.author, &form.comment, &problems))
    };
    Err(Box::new(layout::respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        layout::page("Mapping", HERE, Some(operator), body),
    )))
}

/// Replays `document` on the sample order events against `active`: what it found, or the page
/// refusing a version that breaks an order the active version maps (422, nothing stored).
async fn replayed(
    state: &ConsoleState,
    operator: &Operator,
    form: &Publish,
    active: &super::Active,
    document: &MappingDocument,
) -> Result<Replayed, Box<Response>> {
    let replayed = match replay::replay(state, active, document).await {
        Ok(replayed) => replayed,
        Err(error) => {
            let page = unavailable(Some(operator), HERE, "the environment's settings", &error);
            return Err(Box::new(page));
        }
    };
    if replayed.regressions().is_empty() {
        return Ok(replayed);
    }
    tracing::info!(
        author = %operator.label,
        broken = replayed.regressions().len(),
        "console publish refused: the document breaks sample orders"
    );
    let body = html! {
        h1 { "This version would break orders" }
        p.bad { "Nothing was stored: sample orders that the active version " (active.version) " maps would no longer map." }
        (replay::view(&replayed))
        (publish_form(operator, &form.document, &form.author, &form.comment, &[]))
    };
    Err(Box::new(layout::respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        layout::page("Mapping", HERE, Some(operator), body),
    )))
}

/// `POST /console/mapping/publish`: the problems, or the diff against the active version and
/// a confirm button.
pub async fn publish(
    State(state): State<ConsoleState>,
    who: Who,
    Form(form): Form<Publish>,
) -> Response {
    let operator = &who.0;
    let (document, text) = match check(operator, &form) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => return unavailable(Some(operator), HERE, "the active mapping", &error),
    };
    let replayed = match replayed(&state, operator, &form, &active, &document).await {
        Ok(replayed) => replayed,
        Err(page) => return *page,
    };
    let comment = match form.comment.trim() {
        "" => "published in the console".to_string(),
        comment => comment.to_string(),
    };
    let explanation = html! {
        p { "No problem found. Publishing makes this the next version and the active one, instead of version " (active.version) "." }
        p { "Author: " strong { (form.author(operator)) } " · comment: " (comment) }
        (replay::view(&replayed))
        (diff_view(&active.text, &text))
    };
    layout::confirm(
        operator,
        HERE,
        "Publish this document?",
        explanation,
        "/console/mapping/publish/confirm",
        &[
            ("document", text.clone()),
            ("author", form.author(operator)),
            ("comment", comment),
            ("expected", active.version.to_string()),
        ],
        "Publish",
    )
}

/// `POST /console/mapping/publish/confirm`: checks again and publishes, if the active version
/// is still the one the diff was made against.
pub async fn publish_confirmed(
    State(state): State<ConsoleState>,
    who: Who,
    Form(form): Form<Publish>,
) -> Response {
    let operator = &who.0;
    let (document, text) = match check(operator, &form) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    let Some(expected) = form.expected else {
        return layout::message(
            StatusCode::BAD_REQUEST,
            "Which version?",
            Some(operator),
            "Publish from the diff page, which says which version it was made against.",
            (HERE, "Mapping"),
        );
    };
    // Replayed again: the journal may hold new orders since the diff, and the store refuses
    // the publish anyway when another version became active meanwhile.
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => return unavailable(Some(operator), HERE, "the active mapping", &error),
    };
    if let Err(page) = replayed(&state, operator, &form, &active, &document).await {
        return *page;
    }
    let change = state
        .backend
        .mappings()
        .publish(
            &text,
            &form.author(operator),
            &form.comment,
            expected,
            time::OffsetDateTime::now_utc(),
        )
        .await;
    match change {
        Ok(change) => change_answer(operator, change, HERE),
        Err(error) => unavailable(Some(operator), HERE, "publishing", &error.to_string()),
    }
}
