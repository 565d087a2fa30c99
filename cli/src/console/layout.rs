//! The shared page layout (head, nav, main) and the small pieces every page uses: a form with
//! its CSRF field, a confirmation page, a message page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::auth::Operator;

/// The sections of the nav, in order: (path, label).
pub const NAV: [(&str, &str); 6] = [
    ("/console/", "Flows"),
    ("/console/mapping", "Mapping"),
    ("/console/mapping/designer", "Designer"),
    ("/console/suggestions", "Suggestions"),
    ("/console/events", "Events"),
    ("/console/dlq", "Dead letters"),
];

/// A page in the layout: `active` is the nav path it belongs to.
pub fn page(title: &str, active: &str, operator: Option<&Operator>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · paybridge console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/console/" { "paybridge" }
                    span.what { "operator console of this Stripe ⇄ Kentico integration" }
                    nav {
                        @for (path, label) in NAV {
                            a href=(path) class=[(path == active).then_some("active")] { (label) }
                        }
                    }
                    @if let Some(operator) = operator {
                        @if operator.label != "console" {
                            form.logout method="post" action="/console/logout" {
                                (csrf_field(operator))
                                span { (operator.label) }
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(operator: &Operator) -> Markup {
    html! { input type="hidden" name="csrf" value=(operator.csrf); }
}

/// A page answered with `status`.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}

/// A short page saying something (an error, a refusal, a result) with a way back.
pub fn message(
    status: StatusCode,
    title: &str,
    operator: Option<&Operator>,
    text: &str,
    back: (&str, &str),
) -> Response {
    let body = html! {
        h1 { (title) }
        p.message { (text) }
        p { a href=(back.0) { (back.1) } }
    };
    respond(status, page(title, back.0, operator, body))
}

/// A confirmation step: what will happen, and a button posting `fields` to `action`.
pub fn confirm(
    operator: &Operator,
    active: &str,
    title: &str,
    explanation: Markup,
    action: &str,
    fields: &[(&str, String)],
    button: &str,
) -> Response {
    let body = html! {
        h1 { (title) }
        div.confirm {
            (explanation)
            form method="post" action=(action) {
                (csrf_field(operator))
                @for (name, value) in fields {
                    input type="hidden" name=(name) value=(value);
                }
                button.danger type="submit" { (button) }
                " "
                a href=(active) { "Cancel" }
            }
        }
    };
    respond(StatusCode::OK, page(title, active, Some(operator), body))
}

/// Pretty JSON of a text (as it is when it is not JSON).
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| text.to_string())
}

/// An en dash, for empty cells.
pub fn dash() -> Markup {
    PreEscaped("&#8211;".to_string())
}
