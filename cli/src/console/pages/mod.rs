//! The console's pages, one file per nav section, and what they share: the active mapping
//! document, and the answer to a store failure.

pub mod designer;
pub mod dlq;
pub mod events;
pub mod flows;
pub mod mapping;
pub mod numbers;
pub mod replay;
pub mod suggestions;

use axum::http::StatusCode;
use axum::response::Response;
use paybridge::mapping_doc::MappingDocument;
use paybridge::mapping_doc::store::MappingChange;

use paybridge::app::Backend;

use super::auth::Operator;
use super::layout;
use super::{ConsoleSettings, ConsoleState};

/// The active mapping version: its number, its document, and its pretty JSON.
pub struct Active {
    /// 0: the environment's.
    pub version: u32,
    /// The document.
    pub document: MappingDocument,
    /// Pretty-printed, as the diff compares it.
    pub text: String,
}

/// The active version (version 0 is built from the environment when no other is active).
pub async fn active(state: &ConsoleState) -> Result<Active, String> {
    active_in(&state.backend, &state.settings).await
}

/// The active version of `backend`'s mapping store, version 0 as `settings` have it.
pub async fn active_in(backend: &Backend, settings: &ConsoleSettings) -> Result<Active, String> {
    let (version, stored) = (backend.mappings().active().await).map_err(|e| e.to_string())?;
    let document = match stored {
        Some(stored) => MappingDocument::parse(&stored.document).map_err(|problems| {
            format!(
                "version {version} no longer reads as a document: {}",
                problems
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        })?,
        None => settings.environment_document.clone()?,
    };
    let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    Ok(Active {
        version,
        document,
        text,
    })
}

/// Version `version`'s pretty JSON (0: the environment's), or `None` when it is not stored.
pub async fn version_text(state: &ConsoleState, version: u32) -> Result<Option<String>, String> {
    if version == 0 {
        let document = state.settings.environment_document.clone()?;
        return serde_json::to_string_pretty(&document)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    let stored = (state.backend.mappings().get(version).await).map_err(|e| e.to_string())?;
    Ok(stored.map(|s| layout::pretty(&s.document)))
}

/// 503 with what failed (a store that did not answer): the operator sees why, the log has it.
pub fn unavailable(operator: Option<&Operator>, back: &str, what: &str, error: &str) -> Response {
    tracing::warn!(what, %error, "console read failed");
    layout::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Not available",
        operator,
        &format!("{what}: {error}"),
        (back, "Back"),
    )
}

/// The page after a mapping change: done (a redirect to `done`), or why nothing was written.
pub fn change_answer(operator: &Operator, change: MappingChange, done: &str) -> Response {
    match change {
        MappingChange::Done(version) => {
            tracing::info!(version, author = %operator.label, "mapping version active (console)");
            axum::response::IntoResponse::into_response(axum::response::Redirect::to(done))
        }
        MappingChange::Conflict { active } => layout::message(
            StatusCode::CONFLICT,
            "Someone else changed the mapping",
            Some(operator),
            &format!(
                "Version {active} became active meanwhile: nothing was written. Look at it and \
                 make your change again."
            ),
            ("/console/mapping", "Mapping"),
        ),
        MappingChange::Unknown(version) => layout::message(
            StatusCode::NOT_FOUND,
            "No such version",
            Some(operator),
            &format!("There is no version {version}: nothing was written."),
            ("/console/mapping", "Mapping"),
        ),
        MappingChange::TooLarge { bytes, limit } => layout::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            Some(operator),
            &format!("The document is {bytes} bytes; a version holds at most {limit}."),
            ("/console/mapping", "Mapping"),
        ),
    }
}
