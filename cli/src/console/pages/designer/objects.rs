//! The designer's target objects beside the PaymentIntent: the picker, the Checkout Session
//! (the PaymentIntent's rules, previewed as a session), the Kentico order status write (the
//! document's `statuses` and `canceled_statuses`) and the Stripe Customer (its
//! `customer_field_owners`).

use maud::{Markup, html};
use paybridge::config::customers::{FIELDS, Owner};
use paybridge::config::flow::{FlowSettings, PaymentMode};
use paybridge::mapping::payment_status::{AfterPayment, PaymentState};
use paybridge::mapping_doc::{AppliedMapping, MappingDocument, Problem};
use serde_json::Value;

/// The object the right-hand panel maps onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The PaymentIntent (Payment Element mode).
    PaymentIntent,
    /// The Checkout Session (Checkout mode), filled by the PaymentIntent's rules.
    CheckoutSession,
    /// The Kentico order status paybridge writes for each payment state.
    OrderStatus,
    /// The Stripe Customer: which side owns each field.
    Customer,
}

impl Object {
    /// Every object, in the picker's order.
    pub const ALL: [Object; 4] = [
        Object::PaymentIntent,
        Object::CheckoutSession,
        Object::OrderStatus,
        Object::Customer,
    ];

    /// Reads the picker's value; anything else (or nothing) is the object the deployment's
    /// payment mode sends: the Checkout Session in Checkout mode, else the PaymentIntent.
    pub fn parse(text: &str, base: Result<&FlowSettings, &String>) -> Object {
        Object::from_value(text).unwrap_or(match base {
            Ok(settings) if settings.payment_mode == PaymentMode::Checkout => {
                Object::CheckoutSession
            }
            _ => Object::PaymentIntent,
        })
    }

    /// The object a value names, if it names one.
    pub fn from_value(text: &str) -> Option<Object> {
        (Object::ALL.into_iter()).find(|object| object.value() == text)
    }

    /// The picker's value (`object=`).
    pub fn value(self) -> &'static str {
        match self {
            Object::PaymentIntent => "payment_intent",
            Object::CheckoutSession => "checkout_session",
            Object::OrderStatus => "order_status",
            Object::Customer => "customer",
        }
    }

    /// What the picker calls it.
    pub fn label(self) -> &'static str {
        match self {
            Object::PaymentIntent => "Stripe PaymentIntent",
            Object::CheckoutSession => "Stripe Checkout Session",
            Object::OrderStatus => "Kentico order status write",
            Object::Customer => "Stripe Customer",
        }
    }

    /// The payment mode its preview is made in, for the Stripe requests of an order.
    pub fn mode(self) -> Option<PaymentMode> {
        match self {
            Object::PaymentIntent => Some(PaymentMode::PaymentElement),
            Object::CheckoutSession => Some(PaymentMode::Checkout),
            Object::OrderStatus | Object::Customer => None,
        }
    }
}

/// A state a document names (`statuses.{key}`), its environment's name.
pub struct StateRow {
    /// `succeeded`, `refunded`, …
    pub key: &'static str,
    /// Whether it is a PaymentIntent state (else after the payment: refunds, disputes).
    pub payment: bool,
    /// The environment's name (`KENTICO_STATUS_MAP` or the built-in one).
    pub environment: String,
}

/// Every state, the PaymentIntent's first, with the environment's names.
pub fn state_rows(base: &FlowSettings) -> Vec<StateRow> {
    let mapping = &base.status_mapping;
    (PaymentState::ALL.iter())
        .map(|state| StateRow {
            key: state.key(),
            payment: true,
            environment: mapping.name(*state).to_string(),
        })
        .chain(AfterPayment::ALL.iter().map(|state| StateRow {
            key: state.key(),
            payment: false,
            environment: mapping.after_name(*state).to_string(),
        }))
        .collect()
}

/// The names the working document's statuses make under `mapping`, per state.
fn written_names(mapping: &AppliedMapping) -> Vec<(&'static str, String)> {
    let names = &mapping.status_mapping;
    (PaymentState::ALL.iter())
        .map(|state| (state.key(), names.name(*state).to_string()))
        .chain(
            AfterPayment::ALL
                .iter()
                .map(|state| (state.key(), names.after_name(*state).to_string())),
        )
        .collect()
}

/// Every state key a `statuses` form sends (`status.{key}`).
pub fn state_keys() -> Vec<&'static str> {
    (PaymentState::ALL.iter().map(|s| s.key()))
        .chain(AfterPayment::ALL.iter().map(|s| s.key()))
        .collect()
}

/// `action=statuses`: each `status.{state}` input's name, when not empty and not the one the
/// document gives, goes into the document; an empty one takes the state out of it (the
/// environment's name applies). `canceled_statuses` holds one name a line (none: the
/// environment's).
pub fn set_statuses(
    document: &mut MappingDocument,
    field: &dyn Fn(&str) -> String,
) -> Result<String, String> {
    let mut changed = Vec::new();
    for key in state_keys() {
        let name = field(&format!("status.{key}"));
        if name.trim().is_empty() {
            if document.statuses.remove(key).is_some() {
                changed.push(format!("{key} unnamed"));
            }
            continue;
        }
        if document.statuses.get(key) != Some(&name) {
            document.statuses.insert(key.to_string(), name);
            changed.push(format!("{key} named"));
        }
    }
    let canceled: Vec<String> = (field("canceled_statuses").lines())
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    if canceled != document.canceled_statuses {
        document.canceled_statuses = canceled;
        changed.push("canceled statuses set".into());
    }
    Ok(match changed.is_empty() {
        true => "the statuses are as they were".into(),
        false => changed.join(", "),
    })
}

/// `action=owners`: each `owner.{field}` (`kentico`, `stripe`, or empty: the environment's).
pub fn set_owners(
    document: &mut MappingDocument,
    field: &dyn Fn(&str) -> String,
) -> Result<String, String> {
    let mut changed = Vec::new();
    for name in FIELDS {
        let owner = field(&format!("owner.{name}"));
        match owner.as_str() {
            "" => {
                if document.customer_field_owners.remove(name).is_some() {
                    changed.push(format!("{name}: the environment's owner"));
                }
            }
            "kentico" | "stripe" => {
                if document.customer_field_owners.get(name) != Some(&owner) {
                    changed.push(format!("{name} owned by {owner}"));
                    document
                        .customer_field_owners
                        .insert(name.to_string(), owner);
                }
            }
            other => return Err(format!("'{other}' is not kentico or stripe")),
        }
    }
    Ok(match changed.is_empty() {
        true => "the owners are as they were".into(),
        false => changed.join(", "),
    })
}

/// The picker, in the right-hand panel: its select and button belong to the `#designer-pick`
/// form (which carries the working document, the sample and the pasted event), so switching
/// objects keeps the working document, without JavaScript too.
pub fn picker(current: Object) -> Markup {
    html! {
        div.object-picker {
            label for="designer-object" { "Target object " }
            select #designer-object form="designer-pick" name="object" {
                @for object in Object::ALL {
                    option value=(object.value()) selected[object == current] { (object.label()) }
                }
            }
            " " button #designer-object-show form="designer-pick" type="submit" name="action" value="object" { "Show" }
        }
    }
}

fn problems_at(path: &str, problems: &[Problem]) -> Markup {
    let here = problems.iter().filter(|p| {
        p.path == path
            || p.path.starts_with(&format!("{path}["))
            || p.path.starts_with(&format!("{path}."))
    });
    html! { ul.problems data-problems-for=(path) { @for p in here { li { code { (p.path) } ": " (p.message) } } } }
}

/// The order status editor: a row per state with the document's name (the environment's as
/// the placeholder), the canceled statuses, each with its problems.
pub fn statuses_editor(
    document: Option<&MappingDocument>,
    base: Option<&FlowSettings>,
    problems: &[Problem],
) -> Markup {
    let rows = base.map(state_rows).unwrap_or_default();
    let named = |key: &str| -> String {
        (document.and_then(|d| d.statuses.get(key)))
            .cloned()
            .unwrap_or_default()
    };
    let canceled = document
        .map(|d| d.canceled_statuses.join("\n"))
        .unwrap_or_default();
    let environment_canceled = base
        .map(|b| b.cancel_status_names.join("\n"))
        .unwrap_or_default();
    html! {
        p.muted { "The Kentico order status paybridge writes when the order's payment reaches a state. An empty name is not named in the document: the environment's name (shown greyed) applies." }
        table.statuses {
            thead { tr { th scope="col" { "state" } th scope="col" { "Kentico status name" } } }
            tbody {
                @for row in &rows {
                    tr data-path={ "statuses." (row.key) } {
                        th scope="row" {
                            label for={ "status-" (row.key) } { code { (row.key) } }
                            @if !row.payment { span.muted { " (after the payment)" } }
                        }
                        td {
                            input id={ "status-" (row.key) } type="text" name={ "status." (row.key) }
                                value=(named(row.key)) placeholder=(row.environment) maxlength="200";
                            (problems_at(&format!("statuses.{}", row.key), problems))
                        }
                    }
                }
            }
        }
        div.target-row data-path="canceled_statuses" {
            label for="designer-canceled" { "Kentico statuses that cancel the order's payments (one a line; none: the environment's)" }
            br;
            textarea #designer-canceled name="canceled_statuses" rows="3" placeholder=(environment_canceled) { (canceled) }
            (problems_at("canceled_statuses", problems))
        }
        button #designer-statuses .primary type="submit" name="action" value="statuses" { "Set the statuses" }
    }
}

/// What paybridge would write to the sample order under the working document, per state.
/// The write itself (`ecommerce.order` status ID, custom data) needs Kentico's status list,
/// looked up live, so the name is what is shown.
pub fn statuses_preview(mapping: Option<&AppliedMapping>, event: Option<&Value>) -> Markup {
    let order = event.and_then(|e| e.pointer("/data/object"));
    let id = order.and_then(|o| o.get("OrderID")).map(|v| match v {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    });
    let now = order
        .and_then(|o| o.get("OrderStatusName"))
        .and_then(Value::as_str);
    html! {
        h2 { "The Kentico status write" }
        @match mapping {
            None => p.bad { "The working document has problems: see each state." },
            Some(mapping) => {
                p {
                    "Order " (id.as_deref().unwrap_or("(the sample)"))
                    @if let Some(now) = now { " (now '" (now) "')" }
                    " would be written, as version " (mapping.version) ":"
                }
                table.fields #designer-status-names {
                    thead { tr { th scope="col" { "payment state" } th scope="col" { "status name written" } } }
                    tbody { @for (key, name) in written_names(mapping) {
                        tr { td { code { (key) } } td { (name) } }
                    } }
                }
                p.muted { "Canceled in Kentico: " (mapping.cancel_status_names.join(", ")) }
                p.muted { "paybridge resolves the name to Kentico's status ID when it writes (a live lookup), and writes the payment's state to the order's custom data beside it." }
            }
        }
    }
}

/// The Customer's field owners: one select per field.
pub fn owners_editor(
    document: Option<&MappingDocument>,
    base: Option<&FlowSettings>,
    problems: &[Problem],
) -> Markup {
    let environment = |field: &str| match base.map(|b| b.customer_field_owners.owner(field)) {
        Some(Owner::Stripe) => "stripe",
        _ => "kentico",
    };
    html! {
        p.muted { "Which side owns each field of the Stripe Customer: Kentico's value is written to Stripe, or Stripe's changes are written back to Kentico. Not named in the document: the environment's owner (CUSTOMER_FIELD_OWNERS)." }
        table.owners {
            thead { tr { th scope="col" { "field" } th scope="col" { "owner" } } }
            tbody {
                @for field in FIELDS {
                    @let current = document.and_then(|d| d.customer_field_owners.get(field)).map(String::as_str).unwrap_or("");
                    tr data-path={ "customer_field_owners." (field) } {
                        th scope="row" { label for={ "owner-" (field) } { code { (field) } } }
                        td {
                            select id={ "owner-" (field) } name={ "owner." (field) } {
                                option value="" selected[current.is_empty()] { "the environment's (" (environment(field)) ")" }
                                option value="kentico" selected[current == "kentico"] { "kentico" }
                                option value="stripe" selected[current == "stripe"] { "stripe" }
                            }
                            (problems_at(&format!("customer_field_owners.{field}"), problems))
                        }
                    }
                }
            }
        }
        button #designer-owners .primary type="submit" name="action" value="owners" { "Set the owners" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_object_is_the_one_the_payment_mode_sends_and_each_value_reads_back() {
        let element = FlowSettings::default();
        let checkout = FlowSettings {
            payment_mode: PaymentMode::Checkout,
            ..FlowSettings::default()
        };
        let unreadable = Err("no settings".to_string());
        assert_eq!(element.payment_mode, PaymentMode::PaymentElement);
        assert_eq!(
            Object::parse("nonsense", Ok(&element)),
            Object::PaymentIntent
        );
        assert_eq!(Object::parse("", Ok(&checkout)), Object::CheckoutSession);
        assert_eq!(
            Object::parse("", unreadable.as_ref()),
            Object::PaymentIntent
        );
        for object in Object::ALL {
            assert_eq!(Object::parse(object.value(), Ok(&checkout)), object);
        }
        assert_eq!(Object::CheckoutSession.mode(), Some(PaymentMode::Checkout));
        assert_eq!(Object::OrderStatus.mode(), None);
    }

    #[test]
    fn statuses_write_changed_names_and_unname_empty_ones() {
        let mut document = MappingDocument::parse(
            r#"{"schema": 1, "statuses": {"processing": "Pending", "canceled": "Storno"}}"#,
        )
        .unwrap();
        let field = |name: &str| -> String {
            match name {
                "status.succeeded" => "Paid in full".into(),
                "status.processing" => "Pending".into(),
                "canceled_statuses" => "Storno\n\n Void \n".into(),
                _ => String::new(),
            }
        };
        set_statuses(&mut document, &field).unwrap();
        assert_eq!(document.statuses["succeeded"], "Paid in full");
        assert_eq!(document.statuses["processing"], "Pending");
        assert!(!document.statuses.contains_key("canceled"));
        assert_eq!(document.canceled_statuses, ["Storno", "Void"]);
    }
}
