//! The gate in front of every console route (HTTP side of `auth`): the session or the refusal,
//! the CSRF and same-site check of every POST, the security headers; and the login pages.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use paybridge::config::cli::{VAR_CONSOLE_TOKEN, VAR_HOST};

use super::auth::{self, Decision};
use super::{BODY_LIMIT, ConsoleState, layout};

/// How long a form's body may take to arrive: a sender that never finishes cannot hold a
/// connection for ever.
const BODY_TIME: std::time::Duration = std::time::Duration::from_secs(20);

/// The gate in front of every route: assets are public; the login page needs no session;
/// everything else an operator; every POST the CSRF token and a same-site origin. Adds the
/// security headers to every answer.
pub async fn guard(State(state): State<ConsoleState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let is_asset = path.starts_with("/console/assets/");
    let mut response = if is_asset {
        next.run(request).await
    } else {
        checked(&state, request, next, &path).await
    };
    auth::security_headers(response.headers_mut(), is_asset);
    response
}

async fn checked(state: &ConsoleState, request: Request, next: Next, path: &str) -> Response {
    let is_login = path == "/console/login";
    let decision = state.access.decide(request.headers(), Instant::now());
    let operator = match decision {
        Decision::NoToken => return no_token(),
        Decision::ForeignHost => {
            return layout::message(
                StatusCode::FORBIDDEN,
                "Not this machine's name",
                None,
                "This console is bound to loopback and answers only to localhost, 127.0.0.1 or \
                 [::1] in the address bar (a page from another site may not reach it through a \
                 DNS name that points here).",
                ("/console/", "Try again"),
            );
        }
        Decision::Login if is_login => None,
        Decision::Login => return login_needed(request.method(), path),
        Decision::Allow(operator) => Some(operator),
    };
    let expected = match &operator {
        Some(operator) => operator.csrf.clone(),
        None => state.access.process_csrf().to_string(),
    };
    let (parts, body) = request.into_parts();
    let mut request = if parts.method == Method::POST {
        let read = tokio::time::timeout(BODY_TIME, axum::body::to_bytes(body, BODY_LIMIT));
        let bytes = match read.await {
            Ok(Ok(bytes)) => bytes,
            Err(_) => {
                return layout::message(
                    StatusCode::REQUEST_TIMEOUT,
                    "Too slow",
                    operator.as_ref(),
                    "The form took too long to arrive.",
                    ("/console/", "Flows"),
                );
            }
            Ok(Err(_)) => {
                return layout::message(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    operator.as_ref(),
                    &format!("A console form carries at most {BODY_LIMIT} bytes."),
                    ("/console/", "Flows"),
                );
            }
        };
        let sent = csrf_of(&bytes).or_else(|| {
            // The script's JSON POSTs carry the page's token in a header.
            (parts.headers.get(CSRF_HEADER))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        if let Err(why) =
            auth::check_post(&parts.method, &parts.headers, sent.as_deref(), &expected)
        {
            tracing::warn!(path, reason = ?why, "console POST refused");
            let text = match why {
                auth::Forbidden::CrossSite => {
                    "This request came from another site: the console only takes its own forms."
                }
                auth::Forbidden::Csrf => {
                    "This form has no valid CSRF token (an old page, or not one of the console's \
                     forms): reload the page and try again."
                }
            };
            return layout::message(
                StatusCode::FORBIDDEN,
                "Refused",
                operator.as_ref(),
                text,
                ("/console/", "Flows"),
            );
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        Request::from_parts(parts, body)
    };
    if let Some(operator) = operator {
        request.extensions_mut().insert(operator);
    }
    next.run(request).await
}

/// The header a script's POST carries the CSRF token in.
const CSRF_HEADER: &str = "x-csrf-token";

/// The `csrf` field of a urlencoded form.
fn csrf_of(body: &Bytes) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value)
}

fn no_token() -> Response {
    layout::message(
        StatusCode::FORBIDDEN,
        "Set a console token",
        None,
        &format!(
            "This console is bound beyond loopback, where it needs a login: start it with \
             --token or set {VAR_CONSOLE_TOKEN} (a long random value, e.g. `openssl rand -hex 32`), \
             then log in with that token. Or bind it to 127.0.0.1 ({VAR_HOST}) and reach it \
             through an SSH tunnel."
        ),
        ("/console/login", "Log in"),
    )
}

/// A page asked for without a session: the login page for a browser's GET, 401 for the JSON
/// (a script cannot log in) and for anything else.
fn login_needed(method: &Method, path: &str) -> Response {
    if path.starts_with("/console/api/") {
        let body = serde_json::json!({"error": {"code": "console_login_needed", "message": "log in at /console/login"}});
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    } else if method == Method::GET || method == Method::HEAD {
        Redirect::to("/console/login").into_response()
    } else {
        layout::message(
            StatusCode::UNAUTHORIZED,
            "Log in first",
            None,
            "Your session is over (or never began): log in and try again.",
            ("/console/login", "Log in"),
        )
    }
}

pub async fn login_page(State(state): State<ConsoleState>) -> Response {
    login_form(&state, StatusCode::OK, None)
}

fn login_form(state: &ConsoleState, status: StatusCode, problem: Option<&str>) -> Response {
    if !state.access.needs_login() {
        return Redirect::to("/console/").into_response();
    }
    let body = html! {
        h1 { "Log in" }
        @if let Some(problem) = problem { p.bad { (problem) } }
        form.confirm method="post" action="/console/login" {
            input type="hidden" name="csrf" value=(state.access.process_csrf());
            p { label { "Token " input type="password" name="token" autocomplete="current-password" required; } }
            p { label { "Your name (kept as the author of changes) " input type="text" name="label" maxlength="40"; } }
            button.primary type="submit" { "Log in" }
        }
        p.muted { "The token is " code { (VAR_CONSOLE_TOKEN) } " of the machine running the console." }
    };
    layout::respond(status, layout::page("Log in", "/console/login", None, body))
}

/// The login form.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
    #[serde(default)]
    label: String,
}

pub async fn login(
    State(state): State<ConsoleState>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    match state.access.login(&form.token, &form.label, Instant::now()) {
        Ok(session) => {
            tracing::info!(label = %form.label, "console login");
            let mut response = Redirect::to("/console/").into_response();
            if let Ok(cookie) = HeaderValue::from_str(&auth::session_cookie(&session)) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(auth::Refused::WrongToken) => {
            tracing::warn!("console login refused: wrong token");
            login_form(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("That is not the token."),
            )
        }
        Err(auth::Refused::TooManyFailures) => {
            tracing::warn!("console login refused: too many failed logins in the last minute");
            login_form(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                Some("Too many failed logins in the last minute: wait a minute and try again."),
            )
        }
    }
}

pub async fn logout(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    state.access.logout(&headers);
    let mut response = Redirect::to("/console/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::expired_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}
