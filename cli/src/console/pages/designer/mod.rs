//! The mapping designer (`/console/mapping/designer`): a working document and a sample Kentico
//! order event; the sample's fields on the left, the PaymentIntent's rules on the right, a
//! source dragged (or picked with the keyboard, or chosen in the form) onto a target maps it;
//! the exact Stripe request below, checked against Stripe's limits. Without JavaScript every
//! change is a form POST answering the page with the updated working document; "Review and
//! publish" hands the document to the Mapping page's publish → diff → confirm.

pub mod check;
mod edit;
pub mod sources;
mod view;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use paybridge::config::flow::FlowSettings;
use paybridge::mapping_doc::MappingDocument;
use serde_json::Value;

use super::super::auth::Operator;
use super::super::{ConsoleState, Who};
use super::{active, unavailable};
use edit::Target;

const HERE: &str = "/console/mapping/designer";

/// The version a published working document would become, and the settings it applies over.
pub async fn next_version(state: &ConsoleState) -> Result<(u32, FlowSettings), String> {
    let (version, _) = (state.backend.mappings().active().await).map_err(|e| e.to_string())?;
    let base = state.settings.base_settings.clone()?;
    Ok((version.saturating_add(1), base))
}

/// What the page shows: the working document, the sample, what happened last.
pub struct Working {
    /// The document's text (pretty JSON when it parses).
    pub text: String,
    /// The sample's picker value.
    pub sample: String,
    /// The pasted event (kept when the pasted sample is picked).
    pub pasted: String,
    /// What the last action did, or why it did nothing.
    pub said: Option<Result<String, String>>,
}

/// `GET /console/mapping/designer`: the active version's document and the built-in sample.
pub async fn page(State(state): State<ConsoleState>, who: Who) -> Response {
    let operator = &who.0;
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => return unavailable(Some(operator), HERE, "the active mapping", &error),
    };
    let working = Working {
        text: active.text,
        sample: sources::BUILT_IN.to_string(),
        pasted: String::new(),
        said: None,
    };
    render(&state, operator, working, StatusCode::OK).await
}

/// `POST /console/mapping/designer`: `action` = `map` (source, target, key, transform,
/// argument), `transform@{target}`, `remove@{target}` or `sample`, with the working
/// `document`, `sample` and `pasted`.
pub async fn act(
    State(state): State<ConsoleState>,
    who: Who,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let operator = &who.0;
    let field = |name: &str| -> String {
        (fields.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut working = Working {
        text: field("document"),
        sample: match field("sample").as_str() {
            "" => sources::BUILT_IN.to_string(),
            sample => sample.to_string(),
        },
        pasted: field("pasted"),
        said: None,
    };
    let action = field("action");
    if action == "sample" {
        working.said = Some(Ok("sample changed".into()));
        return render(&state, operator, working, StatusCode::OK).await;
    }
    let mut document = match MappingDocument::parse(&working.text) {
        Ok(document) => document,
        Err(problems) => {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            working.said = Some(Err(format!(
                "the working document has problems; fix them first: {first}"
            )));
            return render(&state, operator, working, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let done = apply(&mut document, &action, &field);
    let status = match &done {
        Ok(_) => {
            if let Ok(text) = serde_json::to_string_pretty(&document) {
                working.text = text;
            }
            StatusCode::OK
        }
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    working.said = Some(done);
    render(&state, operator, working, status).await
}

fn apply(
    document: &mut MappingDocument,
    action: &str,
    field: &dyn Fn(&str) -> String,
) -> Result<String, String> {
    if action == "map" {
        let target = Target::parse(&field("target"))?;
        let steps = edit::transform(&field("transform"), &field("argument"))?;
        return edit::map(document, &field("source"), &target, &field("key"), steps);
    }
    if let Some(target) = action.strip_prefix("transform@") {
        let steps = edit::transform(
            &field(&format!("transform.{target}")),
            &field(&format!("argument.{target}")),
        )?;
        return edit::set_transform(document, &Target::parse(target)?, steps);
    }
    if let Some(target) = action.strip_prefix("remove@") {
        return edit::remove(document, &Target::parse(target)?);
    }
    if action == "description" {
        let template = field("description.template");
        if template.trim().is_empty() {
            return edit::remove(document, &Target::Description);
        }
        document.payment_intent.description =
            Some(paybridge::mapping_doc::document::DescriptionRule {
                template,
                item: field("description.item"),
                separator: field("description.separator"),
            });
        return Ok("description set".into());
    }
    Err(format!("'{action}' is not something the designer does"))
}

async fn render(
    state: &ConsoleState,
    operator: &Operator,
    working: Working,
    status: StatusCode,
) -> Response {
    let event: Result<Value, String> =
        sources::resolve(&state.backend, &working.sample, &working.pasted).await;
    let journal = sources::journal_samples(&state.backend)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "the designer's journal samples");
            Vec::new()
        });
    let checked = match (&event, next_version(state).await) {
        (Ok(event), Ok((version, base))) => {
            Some(check::check(&working.text, event, version, &base))
        }
        (_, Err(error)) => {
            return unavailable(Some(operator), HERE, "the mapping versions", &error);
        }
        (Err(_), _) => None,
    };
    let document = MappingDocument::parse(&working.text).ok();
    let fields = event
        .as_ref()
        .map(sources::source_fields)
        .unwrap_or_default();
    view::page(
        operator,
        &working,
        view::Parts {
            document: document.as_ref(),
            event_problem: event.as_ref().err().map(String::as_str),
            fields: &fields,
            journal: &journal,
            checked: checked.as_ref(),
        },
        status,
    )
}
