//! The designer's live preview: a working document and a sample event → the document's
//! problems (with their JSON paths), or the exact Stripe request the order worker would send
//! under it as the next version, with Stripe's limits checked where they occur
//! (`POST /console/api/preview`, and the page itself without JavaScript).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paybridge::config::flow::PaymentMode;
use paybridge::flows::preview::{Preview, preview_order, preview_order_as};
use paybridge::mapping_doc::{AppliedMapping, MappingDocument, Problem};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::super::ConsoleState;
use super::super::super::mask::mask_field;
use super::objects::Object;
use super::sources;

/// Stripe's bounds of a PaymentIntent's `amount`, in minor units.
const MIN_AMOUNT: i64 = 1;
const MAX_AMOUNT: i64 = 99_999_999;
/// Stripe's longest `description`; paybridge cuts a longer one to it, ending in `…`.
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// What the designer shows of a document and a sample.
#[derive(Debug, Serialize)]
pub struct Checked {
    /// The document's problems, or the limits the request meets, each at its JSON path.
    pub problems: Vec<Problem>,
    /// The request, when the document is valid and the order maps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
    /// Why the event makes no request (not an order, flow off, a mismatch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks `text` (a document) on `event` as version `version`, in payment mode `mode` (none:
/// the deployment's).
pub fn check(
    text: &str,
    event: &Value,
    version: u32,
    base: &paybridge::config::flow::FlowSettings,
    mode: Option<PaymentMode>,
) -> Checked {
    let document = match MappingDocument::parse(text) {
        Ok(document) => document,
        Err(problems) => {
            return Checked {
                problems,
                preview: None,
                error: None,
            };
        }
    };
    let mapping = AppliedMapping::new(version, &document, base);
    let preview = match mode {
        Some(mode) => preview_order_as(&mapping, event, mode),
        None => preview_order(&mapping, event),
    };
    match preview {
        Ok(preview) => Checked {
            problems: limits(&document, &preview),
            preview: Some(masked(preview)),
            error: None,
        },
        Err(error) => Checked {
            problems: path_of(&error.to_string())
                .map(|path| {
                    vec![Problem {
                        path,
                        message: error.to_string(),
                    }]
                })
                .unwrap_or_default(),
            preview: None,
            error: Some(error.to_string()),
        },
    }
}

/// The preview with personal data masked, each field by its innermost name
/// (`shipping[address][line1]` as `line1`): the body is the exact one but for the masked values.
fn masked(preview: Preview) -> Preview {
    preview.masked(|name, value| {
        let key = name
            .rsplit('[')
            .next()
            .unwrap_or(name)
            .trim_end_matches(']');
        mask_field(key, value)
    })
}

/// The rule a mismatch names (`payment_intent.metadata[2] (key): …` → its path).
fn path_of(message: &str) -> Option<String> {
    let start = message.find("payment_intent.")?;
    let path: String = message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ':')
        .collect();
    Some(path)
}

/// Stripe's limits the request meets: the amount's bounds, a description cut to 1000
/// characters, metadata values cut to 500 (the preview's notes).
fn limits(document: &MappingDocument, preview: &Preview) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, value) in &preview.fields {
        let is_amount = name == "amount" || name.ends_with("[price_data][unit_amount]");
        if is_amount {
            let amount: i64 = value.parse().unwrap_or(0);
            if !(MIN_AMOUNT..=MAX_AMOUNT).contains(&amount) {
                problems.push(Problem {
                    path: "amount".into(),
                    message: format!(
                        "{name} = {value}: Stripe takes {MIN_AMOUNT} to {MAX_AMOUNT} minor units"
                    ),
                });
            }
        }
        let is_description = name == "description" || name.ends_with("[description]");
        if is_description && value.chars().count() >= MAX_DESCRIPTION_CHARS && value.ends_with('…')
        {
            problems.push(Problem {
                path: "payment_intent.description".into(),
                message: format!("cut to Stripe's {MAX_DESCRIPTION_CHARS} characters"),
            });
        }
    }
    for note in &preview.notes {
        let rule =
            (document.payment_intent.metadata.iter()).position(|rule| note.contains(&rule.key));
        problems.push(Problem {
            path: rule
                .map(|index| format!("payment_intent.metadata[{index}]"))
                .unwrap_or_default(),
            message: note.clone(),
        });
    }
    problems
}

/// `POST /console/api/preview`'s body: the document's text (or the document itself) and the
/// event, or a sample's picker value (`builtin`, `journal:{event_id}`), and the target object
/// (`payment_intent`: the PaymentIntent's request, `checkout_session`: the Checkout
/// Session's; `order_status`, `customer` or none: the request the deployment's mode makes).
#[derive(Deserialize)]
pub struct PreviewRequest {
    document: Value,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    event: Option<Value>,
    #[serde(default)]
    sample: Option<String>,
}

/// `POST /console/api/preview`: 200 with [`Checked`]; 422 when the document has problems.
pub async fn api(
    State(state): State<ConsoleState>,
    Json(request): Json<PreviewRequest>,
) -> Response {
    let mode = match request.object.as_deref() {
        None => None,
        Some(value) => match Object::from_value(value) {
            Some(object) => object.mode(),
            None => {
                let message = format!(
                    "'{value}' is not a target object (payment_intent, checkout_session, \
                     order_status, customer)"
                );
                return refuse(StatusCode::BAD_REQUEST, "console_bad_object", &message);
            }
        },
    };
    let text = match &request.document {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let event = match (request.event, request.sample.as_deref()) {
        (Some(event), _) => event,
        (None, sample) => {
            match sources::resolve(&state.backend, sample.unwrap_or(sources::BUILT_IN), "").await {
                Ok(event) => event,
                Err(message) => {
                    return refuse(StatusCode::BAD_REQUEST, "console_no_sample", &message);
                }
            }
        }
    };
    let (version, base) = match super::next_version(&state).await {
        Ok(found) => found,
        Err(message) => {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "console_unavailable",
                &message,
            );
        }
    };
    let checked = check(&text, &event, version, &base, mode);
    let status = if checked.preview.is_none() && checked.error.is_none() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, Json(checked)).into_response()
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    (status, Json(body)).into_response()
}
