//! Typed configuration from the environment, every problem listed at once. The variables'
//! names are a contract (docs/CONTRACTS.md#configuration): they are written here, and only here.
//!
//! `ingress` (the webhook Lambdas and `serve`'s HTTP side), `worker` (the worker Lambdas and
//! `serve`'s workers: retries, connectors), `flow` (what the flows do), `aws` (where the queues
//! and the table are). The composition root (`crate::app`) turns these into running parts.

pub mod aws;
pub mod cli;
pub mod customers;
pub mod flow;
pub mod ingress;
pub mod ledger;
pub mod mode;
pub mod reconcile;
pub mod worker;

use crate::secret::SecretString;

/// Every configuration problem found, so an operator fixes them all in one go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration ({} problem(s)):\n  - {}", .problems.len(), .problems.join("\n  - "))]
pub struct ConfigError {
    /// One line per problem, naming the variable.
    pub problems: Vec<String>,
}

/// Where the webhook secrets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSetting {
    /// Given in the plain variable (local runs, tests): wins over an ARN.
    Plain(Vec<SecretString>),
    /// To be read from AWS Secrets Manager at cold start.
    SecretsManager {
        /// The secret's ARN.
        arn: String,
    },
}

/// A single secret: given in its plain variable, or to be read from Secrets Manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    /// Given in the plain variable: wins over an ARN.
    Plain(SecretString),
    /// To be read at cold start; `key` names the field when the secret holds JSON.
    SecretsManager {
        /// The secret's ARN.
        arn: String,
        /// The plain variable's name, used as JSON key inside the secret.
        key: String,
    },
}

/// Why a function could not start. Logged once, with every problem, before the process exits.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The environment is incomplete or wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A secret could not be read or is unusable.
    #[error("{0}")]
    Secret(String),
    /// The queues or the state store cannot be opened.
    #[error("{0}")]
    Backend(String),
}

/// How configuration reads a variable: `std::env::var` in a process, a map in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A variable reader with trimming and empty-as-unset applied (see [`getter`]).
pub(crate) type Getter<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// `env` with values trimmed and empty values treated as unset.
pub(crate) fn getter<'a>(env: Env<'a>) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

/// An environment of `pairs`, for tests.
#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

/// The process environment, as configuration reads it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub(crate) fn parse_number(
    raw: Option<String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    problems: &mut Vec<String>,
) -> u64 {
    let Some(raw) = raw else { return default };
    match raw.parse::<u64>() {
        Ok(n) if range.contains(&n) => n,
        _ => {
            problems.push(format!(
                "{name}='{raw}' must be a whole number from {} to {}",
                range.start(),
                range.end()
            ));
            default
        }
    }
}
