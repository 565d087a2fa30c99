//! The designer's page: the sample picker, the source chips, the target object picker, the
//! object's rows (the PaymentIntent's and the Checkout Session's rules with their transforms,
//! the order statuses, the Customer's field owners) with their problems, the form that maps
//! without dragging, the preview, and "Review and publish".

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use paybridge::config::customers::{FIELDS, Owner};
use paybridge::config::flow::{FlowSettings, PaymentMode};
use paybridge::mapping_doc::document::Transform;
use paybridge::mapping_doc::{AppliedMapping, MappingDocument, Problem};
use serde_json::Value;

use super::super::super::auth::Operator;
use super::super::super::layout::{self, csrf_field};
use super::check::Checked;
use super::edit::TRANSFORMS;
use super::objects::{self, Object};
use super::sources::{BUILT_IN, JournalSample, PASTED};
use super::{HERE, Working};

/// What the page is made of besides the working document.
pub struct Parts<'a> {
    /// The working document, when it parses.
    pub document: Option<&'a MappingDocument>,
    /// Why the sample could not be read.
    pub event_problem: Option<&'a str>,
    /// The sample's source fields (path, masked value).
    pub fields: &'a [(String, String)],
    /// The journal's samples.
    pub journal: &'a [JournalSample],
    /// The preview, when there is a sample.
    pub checked: Option<&'a Checked>,
    /// The working document as it reads, problems or not (the statuses and owners editors).
    pub draft: Option<&'a MappingDocument>,
    /// The environment's settings the document applies over.
    pub base: &'a FlowSettings,
    /// The working document applied as the next version, when it is valid.
    pub applied: Option<&'a AppliedMapping>,
    /// The sample event.
    pub event: Option<&'a Value>,
}

/// The designer page.
pub fn page(
    operator: &Operator,
    working: &Working,
    parts: Parts<'_>,
    status: StatusCode,
) -> Response {
    let problems: &[Problem] = parts.checked.map(|c| c.problems.as_slice()).unwrap_or(&[]);
    let rows = parts
        .document
        .map(|d| d.payment_intent.metadata.len())
        .unwrap_or(0);
    let object = working.object;
    let rules = matches!(object, Object::PaymentIntent | Object::CheckoutSession);
    let body = html! {
        h1 { "Mapping designer" }
        p.muted { "Map the fields of a Kentico order onto what paybridge makes of it: drag a source field onto a target of the PaymentIntent or the Checkout Session (or press it, then press the target; or use the form below), pick a transform, and read the exact Stripe request; or name the Kentico order statuses paybridge writes, or say who owns the Stripe Customer's fields. Nothing is stored until you review the diff and publish. " a href="/console/mapping" { "Back to Mapping" } }
        (sample_form(operator, working, parts.journal))
        form #designer-pick method="post" action=(HERE) {
            (csrf_field(operator))
            input type="hidden" name="document" value=(working.text);
            input type="hidden" name="sample" value=(working.sample);
            input type="hidden" name="pasted" value=(working.pasted);
        }
        @if let Some(problem) = parts.event_problem { p.bad { "The sample: " (problem) } }
        form #designer method="post" action=(HERE) {
            (csrf_field(operator))
            input #designer-document type="hidden" name="document" value=(working.text);
            input type="hidden" name="sample" value=(working.sample);
            input type="hidden" name="pasted" value=(working.pasted);
            input type="hidden" name="object" value=(object.value());
            div #designer-live .said role="status" aria-live="polite" {
                @match &working.said {
                    Some(Ok(text)) => span.ok { (text) },
                    Some(Err(text)) => span.bad { (text) },
                    None => {},
                }
            }
            div.designer {
                section.sources aria-label="Source fields of the sample order" {
                    h2 { "Kentico order (data.object)" }
                    ul.chips {
                        @for (path, value) in parts.fields {
                            li { button.chip type="button" data-source=(path) aria-pressed="false"
                                aria-label={ "source field " (path) ", value " (value) ": press to pick it up" } {
                                code { (path) } " " span.value { (value) }
                            } }
                        }
                    }
                }
                section.targets aria-label={ "Target: the " (object.label()) } data-object=(object.value()) {
                    (objects::picker(object))
                    h2 { (object.label()) }
                    @match object {
                        Object::PaymentIntent => p.muted { "In Checkout mode the same rules fill the Checkout Session's payment_intent_data[…]." },
                        Object::CheckoutSession => p.muted #designer-shared { "These rules are shared with the PaymentIntent: all of them apply to the Checkout Session (its metadata and payment_intent_data[metadata], payment_intent_data[description] and the line item's name, payment_intent_data[statement_descriptor_suffix]). A change here changes the PaymentIntent too." },
                        Object::OrderStatus => (objects::statuses_editor(parts.draft, Some(parts.base), problems)),
                        Object::Customer => (objects::owners_editor(parts.draft, Some(parts.base), problems)),
                    }
                    @if rules && object.mode() != Some(parts.base.payment_mode) {
                        p.muted #designer-mode {
                            @match parts.base.payment_mode {
                                PaymentMode::Checkout => "This deployment runs in Checkout mode (PAYMENT_MODE): its order worker sends the Checkout Session's request, not this one.",
                                PaymentMode::PaymentElement => "This deployment runs in Payment Element mode (PAYMENT_MODE): its order worker sends the PaymentIntent's request; this is what Checkout mode would send.",
                            }
                        }
                    }
                    @if rules {
                        @if let Some(document) = parts.document {
                            (intent_rows(document, problems))
                        }
                    }
                    (other_problems(problems, rows, object))
                }
            }
            @if rules {
                fieldset.map {
                    legend { "Map without dragging" }
                    label { "Source " select name="source" { @for (path, _) in parts.fields { option value=(path) { (path) } } } } " "
                    label { "Target " select name="target" {
                        option value="metadata:new" { "new metadata key (named above)" }
                        @if let Some(document) = parts.document {
                            @for (index, rule) in document.payment_intent.metadata.iter().enumerate() {
                                option value={ "metadata:" (index) } { "metadata[" (rule.key) "]" }
                            }
                        }
                        option value="statement_descriptor_suffix" { "statement_descriptor_suffix" }
                    } } " "
                    (transform_picker("transform", "argument", None))
                    " " button #designer-map .primary type="submit" name="action" value="map" { "Map" }
                }
            }
        }
        section #designer-preview aria-live="polite" aria-label={ "The preview of the " (object.label()) } {
            @match object {
                Object::PaymentIntent | Object::CheckoutSession => (preview(parts.checked)),
                Object::OrderStatus => (objects::statuses_preview(parts.applied, parts.event)),
                Object::Customer => (owners_preview(parts.applied)),
            }
        }
        h2 { "Review and publish" }
        form.publish method="post" action="/console/mapping/publish" {
            (csrf_field(operator))
            input type="hidden" name="document" value=(working.text);
            label { "Comment " input type="text" name="comment" value="designed in the console" maxlength="500"; } " "
            button #designer-publish .primary type="submit" { "Review and publish" }
        }
        details { summary { "The working document" } pre { (working.text) } }
    };
    layout::respond(
        status,
        layout::page("Mapping designer", HERE, Some(operator), body),
    )
}

/// The PaymentIntent's rules (the Checkout Session's too): the new key, the metadata rows, the
/// statement descriptor suffix, the description.
fn intent_rows(document: &MappingDocument, problems: &[Problem]) -> Markup {
    html! {
        div.target-row.new data-path="payment_intent.metadata" {
            button.target type="button" data-target="metadata:new" aria-label="new metadata key: drop or place a source here" { "+ new metadata key" }
            label { " key " input #designer-key type="text" name="key" maxlength="40" placeholder="buyer_email" aria-label="the new metadata key's name"; }
            (row_problems("payment_intent.metadata", problems, true))
        }
        @for (index, rule) in document.payment_intent.metadata.iter().enumerate() {
            (row(&format!("metadata:{index}"), &format!("payment_intent.metadata[{index}]"),
                &format!("metadata[{}]", rule.key), &rule.from, &rule.transform, problems))
        }
        @match &document.payment_intent.statement_descriptor_suffix {
            Some(rule) => (row("statement_descriptor_suffix", "payment_intent.statement_descriptor_suffix", "statement_descriptor_suffix", &rule.from, &rule.transform, problems)),
            None => div.target-row data-path="payment_intent.statement_descriptor_suffix" {
                button.target type="button" data-target="statement_descriptor_suffix" aria-label="statement descriptor suffix: drop or place a source here" { "statement_descriptor_suffix" }
                span.muted { " not mapped (at most 22 characters, with a letter)" }
            },
        }
        (description(document, problems))
    }
}

/// Who owns each Customer field under the working document.
fn owners_preview(applied: Option<&AppliedMapping>) -> Markup {
    html! {
        h2 { "The Customer's field owners" }
        @match applied {
            None => p.bad { "The working document has problems: see each field." },
            Some(mapping) => table.fields #designer-owner-table {
                thead { tr { th scope="col" { "field" } th scope="col" { "owner, as version " (mapping.version) } } }
                tbody { @for field in FIELDS {
                    tr { td { code { (field) } } td { @match mapping.customer_field_owners.owner(field) {
                        Owner::Kentico => "kentico: Kentico's value is written to Stripe",
                        Owner::Stripe => "stripe: Stripe's changes are written to Kentico",
                    } } }
                } }
            },
        }
    }
}

fn sample_form(operator: &Operator, working: &Working, journal: &[JournalSample]) -> Markup {
    html! {
        form.sample method="post" action=(HERE) {
            (csrf_field(operator))
            input type="hidden" name="document" value=(working.text);
            input type="hidden" name="object" value=(working.object.value());
            label { "Sample " select #designer-sample name="sample" {
                option value=(BUILT_IN) selected[working.sample == BUILT_IN] { "built-in order (events/kentico-webhook-valid.json)" }
                @for sample in journal {
                    option value=(sample.value) selected[working.sample == sample.value] { (sample.label) }
                }
                option value=(PASTED) selected[working.sample == PASTED] { "the event pasted below" }
            } }
            " " button type="submit" name="action" value="sample" { "Use this sample" }
            details open[working.sample == PASTED] {
                summary { "Paste an event" }
                textarea #designer-pasted name="pasted" spellcheck="false" aria-label="a Kentico order event (JSON)" { (working.pasted) }
            }
        }
    }
}

fn row(
    target: &str,
    path: &str,
    label: &str,
    from: &[String],
    steps: &[Transform],
    problems: &[Problem],
) -> Markup {
    html! {
        div.target-row data-path=(path) {
            button.target type="button" data-target=(target) aria-label={ (label) ": drop or place a source here" } { (label) }
            span.from { " ← " code { (from.join(" + ")) } }
            span.steps { @for step in steps { " · " (step_text(step)) } }
            " "
            (transform_picker(&format!("transform.{target}"), &format!("argument.{target}"), steps.first()))
            button type="submit" name="action" value={ "transform@" (target) } aria-label={ "set the transform of " (label) } { "Set" }
            " "
            button type="submit" name="action" value={ "remove@" (target) } aria-label={ "remove " (label) } { "Remove" }
            (row_problems(path, problems, false))
        }
    }
}

fn description(document: &MappingDocument, problems: &[Problem]) -> Markup {
    let rule = document.payment_intent.description.as_ref();
    html! {
        div.target-row data-path="payment_intent.description" {
            span.target-name { "description" } span.muted { " (≤ 1000 characters; {items}, {order_id}, {order_number}; each item {quantity}, {name}, {sku})" }
            br;
            label { "template " input type="text" name="description.template" value=(rule.map(|r| r.template.as_str()).unwrap_or("")) placeholder="{items}"; } " "
            label { "item " input type="text" name="description.item" value=(rule.map(|r| r.item.as_str()).unwrap_or("{quantity}× {name}")); } " "
            label { "separator " input type="text" name="description.separator" value=(rule.map(|r| r.separator.as_str()).unwrap_or(", ")); } " "
            button type="submit" name="action" value="description" { "Set" } " "
            button type="submit" name="action" value="remove@description" aria-label="the built-in description" { "Remove" }
            (row_problems("payment_intent.description", problems, false))
        }
    }
}

fn transform_picker(name: &str, argument: &str, current: Option<&Transform>) -> Markup {
    let chosen = current.map(step_choice).unwrap_or("none");
    html! {
        select name=(name) aria-label="transform" {
            @for (value, label) in TRANSFORMS { option value=(value) selected[value == chosen] { (label) } }
        }
        " " input type="text" name=(argument) size="10" placeholder="N / template / a=b; c=d" aria-label="the transform's argument";
    }
}

fn step_choice(step: &Transform) -> &'static str {
    match step {
        Transform::Concat { .. } => "none",
        Transform::Template { .. } => "template",
        Transform::Lookup { .. } => "lookup",
        Transform::Upper => "upper",
        Transform::Lower => "lower",
        Transform::Trim => "trim",
        Transform::Truncate { .. } => "truncate",
        Transform::MinorUnits { .. } => "minor_units",
    }
}

fn step_text(step: &Transform) -> String {
    match step {
        Transform::Concat { separator } => format!("concat '{separator}'"),
        Transform::Template { template } => format!("template '{template}'"),
        Transform::Lookup { table, .. } => format!("lookup ({} entries)", table.len()),
        Transform::Truncate { length } => format!("truncate {length}"),
        Transform::MinorUnits { currency_from } => format!("minor_units of {currency_from}"),
        other => step_choice(other).to_string(),
    }
}

/// The problems at `path` (or under it), next to its row.
fn row_problems(path: &str, problems: &[Problem], exact: bool) -> Markup {
    let here = problems.iter().filter(|p| {
        p.path == path
            || (!exact
                && (p.path.starts_with(&format!("{path}."))
                    || p.path.starts_with(&format!("{path}["))))
    });
    html! { ul.problems data-problems-for=(path) { @for p in here { li { code { (p.path) } ": " (p.message) } } } }
}

/// Problems no row of the object shows: the amount, the document's other parts.
fn other_problems(problems: &[Problem], rows: usize, object: Object) -> Markup {
    let shown = |path: &str| match object {
        Object::PaymentIntent | Object::CheckoutSession => {
            path == "payment_intent.metadata"
                || path.starts_with("payment_intent.statement_descriptor_suffix")
                || path.starts_with("payment_intent.description")
                || (0..rows).any(|i| path.starts_with(&format!("payment_intent.metadata[{i}]")))
        }
        Object::OrderStatus => {
            (objects::state_keys().iter()).any(|key| path == format!("statuses.{key}"))
                || path.starts_with("canceled_statuses")
        }
        Object::Customer => FIELDS
            .iter()
            .any(|field| path == format!("customer_field_owners.{field}")),
    };
    html! { ul.problems #designer-other-problems { @for p in problems.iter().filter(|p| !shown(&p.path)) {
        li { code { @if p.path.is_empty() { "(document)" } @else { (p.path) } } ": " (p.message) }
    } } }
}

/// The request, or why there is none.
pub fn preview(checked: Option<&Checked>) -> Markup {
    html! {
        h2 { "The Stripe request" }
        @match checked {
            None => p.muted { "Pick a sample to see the request." },
            Some(Checked { preview: Some(preview), .. }) => {
                p { code.request { (preview.request) } " (as version " (preview.version) ")" }
                pre.body { (preview.body) }
                table.fields { thead { tr { th { "field" } th { "value" } } } tbody {
                    @for (name, value) in &preview.fields { tr { td { code { (name) } } td { (value) } } }
                } }
                @for (field, spelling, code) in &preview.aliases { p.muted { "alias: " (field) " '" (spelling) "' → " (code) } }
                @for note in &preview.notes { p.bad { (note) } }
            },
            Some(Checked { error: Some(error), .. }) => p.bad { "No request: " (error) },
            Some(checked) => p.bad { "The working document has " (checked.problems.len()) " problem(s): see each target." },
        }
    }
}
