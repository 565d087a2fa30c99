//! The operator console of this integration: server-rendered pages (Flows, Mapping, Events,
//! Dead letters, Suggestions) over the same [`Backend`] the operator commands use, served alone by
//! `paybridge console` or at `/console` by `paybridge serve`. Every page works without
//! JavaScript; everything shown is escaped (maud) and personal data in payloads is masked.

mod auth;
mod command;
mod diff;
mod gate;
mod layout;
mod mask;
mod pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use paybridge::app::Backend;
use paybridge::config::cli::VAR_CONSOLE_TOKEN;
use paybridge::config::flow::FlowSettings;
use paybridge::config::mode::StripeMode;
use paybridge::mapping_doc::MappingDocument;

use auth::Operator;
pub use auth::{Access, Gate};
pub use command::{ConsoleArgs, run};
pub(crate) use pages::suggestions::gather::{Gathered, gather as suggestions};

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
    /// The environment's flow settings, which a document applies over (the designer's
    /// preview), or why they could not be read.
    pub base_settings: Result<FlowSettings, String>,
    /// The deployment's Stripe mode (`STRIPE_MODE`, or the key's), when known: which Stripe
    /// Dashboard the order page links to.
    pub stripe_mode: Option<StripeMode>,
}

impl ConsoleSettings {
    /// The settings from this process's environment.
    pub fn from_environment() -> Self {
        Self {
            environment_document: crate::mapping::environment_document(),
            base_settings: crate::mapping::environment_settings(),
            stripe_mode: crate::mapping::environment_stripe_mode(),
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
    /// The Flows page's journal counts, reused for a few seconds.
    pub outcomes: Arc<pages::numbers::OutcomeCache>,
}

/// The console's routes, all under `/console`, behind the gate and with the security headers.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::flows::page))
        .route("/console/api/flows", get(pages::numbers::api))
        .route("/console/flows/switch", post(pages::flows::switch))
        .route(
            "/console/flows/switch/confirm",
            post(pages::flows::switch_confirmed),
        )
        .route("/console/mapping", get(pages::mapping::page))
        .route(
            "/console/mapping/designer",
            get(pages::designer::page).post(pages::designer::act),
        )
        .route("/console/api/preview", post(pages::designer::check::api))
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
        .route("/console/orders/{id}", get(pages::events::order::order))
        .route("/console/reconciliation", get(pages::events::reports::page))
        .route("/console/dlq", get(pages::dlq::list))
        .route("/console/dlq/message", get(pages::dlq::show))
        .route("/console/dlq/action", post(pages::dlq::action))
        .route(
            "/console/dlq/action/confirm",
            post(pages::dlq::action_confirmed),
        )
        .route("/console/suggestions", get(pages::suggestions::page))
        .route("/console/api/suggestions", get(pages::suggestions::api))
        .route(
            "/console/suggestions/correct",
            post(pages::suggestions::correct),
        )
        .route(
            "/console/suggestions/correct/confirm",
            post(pages::suggestions::correct_confirmed),
        )
        .route(
            "/console/suggestions/field",
            post(pages::suggestions::field),
        )
        .route(
            "/console/suggestions/field/confirm",
            post(pages::suggestions::field_confirmed),
        )
        .route("/console/login", get(gate::login_page).post(gate::login))
        .route("/console/logout", post(gate::logout))
        .route("/console/assets/{name}", get(asset))
        .layer(middleware::from_fn_with_state(state.clone(), gate::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
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
        outcomes: Arc::default(),
    })
}

#[cfg(test)]
mod tests;
