//! The mapping designer (`/console/mapping/designer`): a working document and a sample Kentico
//! order event; the sample's fields on the left, a target object's rules on the right (the
//! PaymentIntent, the Checkout Session, the Kentico order status write, the Stripe Customer),
//! a source dragged (or picked with the keyboard, or chosen in the form) onto a target maps it;
//! the exact Stripe request below, checked against Stripe's limits. Without JavaScript every
//! change is a form POST answering the page with the updated working document; "Review and
//! publish" hands the document to the Mapping page's publish → diff → confirm.

pub mod check;
mod edit;
pub mod objects;
pub mod sources;
mod view;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use paybridge::config::flow::FlowSettings;
use paybridge::mapping_doc::{AppliedMapping, MappingDocument};
use serde::Deserialize;
use serde_json::Value;

use super::super::auth::Operator;
use super::super::{ConsoleState, Who};
use super::{active, unavailable};
use edit::Target;
use objects::Object;

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
    /// The target object the right-hand panel shows.
    pub object: Object,
    /// What the last action did, or why it did nothing.
    pub said: Option<Result<String, String>>,
}

/// `GET /console/mapping/designer`'s query.
#[derive(Deserialize)]
pub struct PageQuery {
    /// The target object (unless said: the one the deployment's payment mode sends).
    #[serde(default)]
    object: Option<String>,
}

/// `GET /console/mapping/designer[?object=…]`: the active version's document and the
/// built-in sample, on the target object.
pub async fn page(
    State(state): State<ConsoleState>,
    who: Who,
    Query(query): Query<PageQuery>,
) -> Response {
    let operator = &who.0;
    let active = match active(&state).await {
        Ok(active) => active,
        Err(error) => return unavailable(Some(operator), HERE, "the active mapping", &error),
    };
    let working = Working {
        text: active.text,
        sample: sources::BUILT_IN.to_string(),
        pasted: String::new(),
        object: Object::parse(
            query.object.as_deref().unwrap_or_default(),
            state.settings.base_settings.as_ref(),
        ),
        said: None,
    };
    render(&state, operator, working, StatusCode::OK).await
}

/// `POST /console/mapping/designer`: `action` = `map` (source, target, key, transform,
/// argument), `transform@{target}`, `remove@{target}`, `description`, `statuses`
/// (`status.{state}`, `canceled_statuses`), `owners` (`owner.{field}`), `sample` or `object`,
/// with the working `document`, `sample`, `pasted` and `object`.
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
        object: Object::parse(&field("object"), state.settings.base_settings.as_ref()),
        said: None,
    };
    let action = field("action");
    if action == "sample" {
        working.said = Some(Ok("sample changed".into()));
        return render(&state, operator, working, StatusCode::OK).await;
    }
    if action == "object" {
        working.said = Some(Ok(format!("showing the {}", working.object.label())));
        return render(&state, operator, working, StatusCode::OK).await;
    }
    // The statuses and the owners are edited where their problems show: a document whose only
    // problems are there can be fixed by the same form.
    let lenient = matches!(action.as_str(), "statuses" | "owners");
    let parsed = MappingDocument::parse(&working.text)
        .or_else(|problems| draft(&working.text).filter(|_| lenient).ok_or(problems));
    let mut document = match parsed {
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
    if action == "statuses" {
        return objects::set_statuses(document, field);
    }
    if action == "owners" {
        return objects::set_owners(document, field);
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

/// The document as it reads, unchecked (the statuses and owners editors show a document with
/// problems there, to fix them).
fn draft(text: &str) -> Option<MappingDocument> {
    serde_json::from_str(text).ok()
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
    let (version, base) = match next_version(state).await {
        Ok(found) => found,
        Err(error) => {
            return unavailable(Some(operator), HERE, "the mapping versions", &error);
        }
    };
    let checked = match &event {
        Ok(event) => Some(check::check(
            &working.text,
            event,
            version,
            &base,
            working.object.mode(),
        )),
        Err(_) => None,
    };
    let document = MappingDocument::parse(&working.text).ok();
    let applied = (document.as_ref()).map(|d| AppliedMapping::new(version, d, &base));
    let draft = draft(&working.text);
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
            draft: draft.as_ref(),
            base: &base,
            applied: applied.as_ref(),
            event: event.as_ref().ok(),
        },
        status,
    )
}
