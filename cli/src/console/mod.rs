//! The operator console of this integration: server-rendered pages (Flows, Mapping, Events,
//! Dead letters) over the same [`Backend`] the operator commands use, served alone by
//! `paybridge console` or at `/console` by `paybridge serve`. Every page works without
//! JavaScript; everything shown is escaped (maud) and personal data in payloads is masked.

mod auth;
mod diff;
mod layout;
mod mask;
mod pages;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use clap::Args;
use maud::html;
use paybridge::app::Backend;
use paybridge::config::cli::{VAR_CONSOLE_TOKEN, VAR_HOST};
use paybridge::mapping_doc::MappingDocument;

pub use auth::{Access, Gate};
use auth::{Decision, Operator};

use crate::backend::BackendArgs;

/// The most a console form carries (a mapping document with its author and comment).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Live numbers of the process serving the console (`serve`'s counters); a console on its own
/// has none.
pub trait LiveMetrics: Send + Sync {
    /// The counters, as Prometheus text.
    fn prometheus_text(&self) -> String;
}

/// What the console knows beyond the backend.
#[derive(Debug)]
pub struct ConsoleSettings {
    /// Version 0: the mapping document the environment's settings amount to, or why it could
    /// not be built.
    pub environment_document: Result<MappingDocument, String>,
}

impl ConsoleSettings {
    /// The settings from this process's environment.
    pub fn from_environment() -> Self {
        Self {
            environment_document: crate::mapping::environment_document(),
        }
    }
}

/// What every console route shares.
#[derive(Clone)]
pub struct ConsoleState {
    /// Queues, dead letters, journal, links, mapping versions.
    pub backend: Backend,
    /// Version 0 and whatever else comes from the environment.
    pub settings: Arc<ConsoleSettings>,
    /// Who may use it.
    pub access: Arc<Access>,
    /// `serve`'s counters, when the console runs inside it.
    pub metrics: Option<Arc<dyn LiveMetrics>>,
}

/// The console's routes, all under `/console`, behind the gate and with the security headers.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::flows::page))
        .route("/console/api/flows", get(pages::flows::api))
        .route("/console/flows/switch", post(pages::flows::switch))
        .route(
            "/console/flows/switch/confirm",
            post(pages::flows::switch_confirmed),
        )
        .route("/console/mapping", get(pages::mapping::page))
        .route("/console/mapping/diff", get(pages::mapping::diff))
        .route("/console/mapping/activate", post(pages::mapping::activate))
        .route(
            "/console/mapping/activate/confirm",
            post(pages::mapping::activate_confirmed),
        )
        .route("/console/mapping/publish", post(pages::mapping::publish))
        .route(
            "/console/mapping/publish/confirm",
            post(pages::mapping::publish_confirmed),
        )
        .route("/console/events", get(pages::events::search))
        .route("/console/orders/{id}", get(pages::events::order))
        .route("/console/dlq", get(pages::dlq::list))
        .route("/console/dlq/message", get(pages::dlq::show))
        .route("/console/dlq/action", post(pages::dlq::action))
        .route(
            "/console/dlq/action/confirm",
            post(pages::dlq::action_confirmed),
        )
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/assets/{name}", get(asset))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The gate in front of every route: assets are public; the login page needs no session;
/// everything else an operator; every POST the CSRF token and a same-site origin. Adds the
/// security headers to every answer.
async fn guard(State(state): State<ConsoleState>, request: Request, next: Next) -> Response {
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
        Decision::Login => return login_needed(request.method()),
        Decision::Allow(operator) => Some(operator),
    };
    let expected = match &operator {
        Some(operator) => operator.csrf.clone(),
        None => state.access.process_csrf().to_string(),
    };
    let (parts, body) = request.into_parts();
    let mut request = if parts.method == Method::POST {
        let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return layout::message(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    operator.as_ref(),
                    &format!("A console form carries at most {BODY_LIMIT} bytes."),
                    ("/console/", "Flows"),
                );
            }
        };
        let sent = csrf_of(&bytes);
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

fn login_needed(method: &Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
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

async fn login_page(State(state): State<ConsoleState>) -> Response {
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

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    label: String,
}

async fn login(
    State(state): State<ConsoleState>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    match state.access.login(&form.token, &form.label, Instant::now()) {
        Some(session) => {
            tracing::info!(label = %form.label, "console login");
            let mut response = Redirect::to("/console/").into_response();
            if let Ok(cookie) = HeaderValue::from_str(&auth::session_cookie(&session)) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        None => {
            tracing::warn!("console login refused: wrong token");
            login_form(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("That is not the token."),
            )
        }
    }
}

async fn logout(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    state.access.logout(&headers);
    let mut response = Redirect::to("/console/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::expired_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The stylesheet and the script, built into the binary (the console works offline).
async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (content_type, body): (&str, &'static [u8]) = match name.as_str() {
        "console.css" => (
            "text/css; charset=utf-8",
            include_bytes!("assets/console.css"),
        ),
        "console.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("assets/console.js"),
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The operator of a request that passed the gate (the guard puts it there).
pub(crate) type Who = axum::Extension<Operator>;

/// Arguments of `console`.
#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Address to bind. Loopback (the default): no login. Anything else: a login with --token.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// The token operators log in with when bound beyond loopback.
    #[arg(long, env = VAR_CONSOLE_TOKEN, hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs `console` until Ctrl-C.
pub fn run(args: ConsoleArgs) -> Result<(), (u8, String)> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    runtime.block_on(serve_console(args))
}

async fn serve_console(args: ConsoleArgs) -> Result<(), (u8, String)> {
    let backend = args.backend.open().await?;
    let gate = Gate::for_bind(args.host, args.token.as_deref());
    let state = state(backend, gate, None).map_err(|e| (1, e))?;
    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| (1, format!("cannot listen on {address}: {e}")))?;
    let app = Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .merge(router(state));
    tracing::info!(%address, "paybridge console: http://{address}/console/");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| (1, format!("server error: {e}")))
}

/// The console's state over `backend` behind `gate`, with version 0 from the environment.
pub fn state(
    backend: Backend,
    gate: Gate,
    metrics: Option<Arc<dyn LiveMetrics>>,
) -> Result<ConsoleState, String> {
    if matches!(gate, Gate::NoToken) {
        tracing::warn!(
            "the console is bound beyond loopback without {VAR_CONSOLE_TOKEN}: every page answers 403"
        );
    }
    let access = Access::new(gate).map_err(|e| format!("no randomness from the system: {e}"))?;
    Ok(ConsoleState {
        backend,
        settings: Arc::new(ConsoleSettings::from_environment()),
        access: Arc::new(access),
        metrics,
    })
}

#[cfg(test)]
mod tests;
