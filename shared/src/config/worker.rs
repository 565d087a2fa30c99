//! Typed configuration of the worker functions (order-worker, payment-worker), all problems at once.

use crate::config::{ConfigError, SecretValue};
use crate::flows::settings::{FlowSettings, PaymentMode};
use crate::flows::status::StatusMapping;
use crate::idempotency::guard::{DEFAULT_EXPIRY_SECONDS, MIN_EXPIRY_SECONDS};
use crate::worker::Backoff;
use crate::worker::backoff::MAX_VISIBILITY_SECONDS;

/// Which worker: each drains one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerKind {
    /// Kentico events → Stripe PaymentIntents.
    Order,
    /// Stripe payment events → Kentico order statuses.
    Payment,
}

impl WorkerKind {
    /// The worker's name (metrics, idempotency keys, logs).
    pub fn name(self) -> &'static str {
        match self {
            Self::Order => "order-worker",
            Self::Payment => "payment-worker",
        }
    }

    fn queue_variables(self) -> (&'static str, &'static str) {
        match self {
            Self::Order => ("KENTICO_EVENTS_QUEUE_URL", "KENTICO_EVENTS_DLQ_URL"),
            Self::Payment => ("STRIPE_EVENTS_QUEUE_URL", "STRIPE_EVENTS_DLQ_URL"),
        }
    }
}

/// Stripe's API base unless a test or proxy says otherwise.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// Everything a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Which worker.
    pub kind: WorkerKind,
    /// The queue it drains (for visibility changes).
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dlq_url: String,
    /// The idempotency / links table.
    pub table: String,
    /// Business keys processed at once per batch.
    pub concurrency: usize,
    /// Retry schedule.
    pub backoff: Backoff,
    /// The queue's redrive `maxReceiveCount`.
    pub max_receive_count: u32,
    /// Idempotency record lifetime.
    pub idempotency_expiry_seconds: u64,
    /// `STRIPE_API_BASE`.
    pub stripe_api_base: String,
    /// `STRIPE_SECRET_KEY` or its secret.
    pub stripe_secret_key: SecretValue,
    /// `STRIPE_API_VERSION` (pinned).
    pub stripe_api_version: String,
    /// `KENTICO_BASE_URL`.
    pub kentico_base_url: String,
    /// `KENTICO_USERNAME`.
    pub kentico_username: String,
    /// `KENTICO_PASSWORD` or its secret.
    pub kentico_password: SecretValue,
    /// `KENTICO_ORDER_STATUSES` (`Name=ID` pairs), raw.
    pub kentico_order_statuses: Option<String>,
    /// Flow behaviour.
    pub flow: FlowSettings,
}

impl WorkerConfig {
    /// Reads the configuration of `kind` through `env`.
    pub fn from_env(
        kind: WorkerKind,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let mut required = |name: &str, what: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is not set ({what})"));
                String::new()
            })
        };
        let (queue_var, dlq_var) = kind.queue_variables();
        let queue_url = required(queue_var, "the queue this worker drains");
        let dlq_url = required(dlq_var, "its dead-letter queue");
        let table = required(
            "IDEMPOTENCY_TABLE_NAME",
            "the DynamoDB table for idempotency records and order links",
        );
        let kentico_base_url = required(
            "KENTICO_BASE_URL",
            "the Kentico admin app root, REST calls go to {KENTICO_BASE_URL}/rest/…",
        );
        let kentico_username = required("KENTICO_USERNAME", "the Kentico REST service user");
        let stripe_secret_key = secret(&get, "STRIPE_SECRET_KEY", &mut problems);
        let kentico_password = secret(&get, "KENTICO_PASSWORD", &mut problems);
        if let SecretValue::Plain(key) = &stripe_secret_key
            && !["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
                .iter()
                .any(|p| key.expose().starts_with(p))
        {
            problems.push("STRIPE_SECRET_KEY does not look like a Stripe secret or restricted key (sk_… / rk_…)".into());
        }
        if !kentico_base_url.is_empty()
            && !kentico_base_url.starts_with("http://")
            && !kentico_base_url.starts_with("https://")
        {
            problems.push(format!("KENTICO_BASE_URL='{kentico_base_url}' must start with https:// (or http:// locally)"));
        }

        let number =
            |name: &str, default: u64, min: u64, max: u64, problems: &mut Vec<String>| match get(
                name,
            ) {
                None => default,
                Some(raw) => match raw.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        problems.push(format!(
                            "{name}='{raw}' must be a whole number from {min} to {max}"
                        ));
                        default
                    }
                },
            };
        let defaults = Backoff::default();
        let concurrency = number("WORKER_CONCURRENCY", 8, 1, 64, &mut problems) as usize;
        let backoff = Backoff {
            base_seconds: number(
                "RETRY_BASE_SECONDS",
                u64::from(defaults.base_seconds),
                0,
                3_600,
                &mut problems,
            ) as u32,
            cap_seconds: number(
                "RETRY_CAP_SECONDS",
                u64::from(defaults.cap_seconds),
                1,
                u64::from(MAX_VISIBILITY_SECONDS),
                &mut problems,
            ) as u32,
            ..defaults
        };
        let max_receive_count = number("MAX_RECEIVE_COUNT", 25, 1, 1_000, &mut problems) as u32;
        let idempotency_expiry_seconds = number(
            "IDEMPOTENCY_EXPIRY_SECONDS",
            DEFAULT_EXPIRY_SECONDS,
            MIN_EXPIRY_SECONDS,
            365 * 86_400,
            &mut problems,
        );

        let payment_mode = match get("PAYMENT_MODE").as_deref() {
            None | Some("payment_element") => PaymentMode::PaymentElement,
            Some("checkout") => PaymentMode::Checkout,
            Some(other) => {
                problems.push(format!(
                    "PAYMENT_MODE='{other}' must be payment_element or checkout"
                ));
                PaymentMode::PaymentElement
            }
        };
        let capture_method = match get("CAPTURE_METHOD").as_deref() {
            None => "automatic".to_string(),
            Some(m @ ("automatic" | "automatic_async" | "manual")) => m.to_string(),
            Some(other) => {
                problems.push(format!(
                    "CAPTURE_METHOD='{other}' must be automatic, automatic_async or manual"
                ));
                "automatic".to_string()
            }
        };
        let status_mapping = match get("KENTICO_STATUS_MAP") {
            None => StatusMapping::default(),
            Some(raw) => StatusMapping::parse(&raw).unwrap_or_else(|mut found| {
                problems.append(&mut found);
                StatusMapping::default()
            }),
        };
        let checkout_success_url = get("CHECKOUT_SUCCESS_URL");
        if payment_mode == PaymentMode::Checkout && checkout_success_url.is_none() {
            problems.push("CHECKOUT_SUCCESS_URL is required with PAYMENT_MODE=checkout (where Stripe sends the paying customer)".into());
        }
        let cancel_status_names = get("KENTICO_CANCELED_STATUSES")
            .map(|raw| {
                raw.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["Canceled".to_string(), "Cancelled".to_string()]);
        let flow = FlowSettings {
            payment_mode,
            capture_method,
            automatic_payment_methods: get("AUTOMATIC_PAYMENT_METHODS").as_deref() != Some("false"),
            checkout_success_url,
            checkout_cancel_url: get("CHECKOUT_CANCEL_URL"),
            cancel_status_names,
            status_mapping,
        };

        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Self {
            kind,
            queue_url,
            dlq_url,
            table,
            concurrency,
            backoff,
            max_receive_count,
            idempotency_expiry_seconds,
            stripe_api_base: get("STRIPE_API_BASE")
                .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_string()),
            stripe_secret_key,
            stripe_api_version: get("STRIPE_API_VERSION")
                .unwrap_or_else(|| crate::connectors::stripe::DEFAULT_API_VERSION.to_string()),
            kentico_base_url,
            kentico_username,
            kentico_password,
            kentico_order_statuses: get("KENTICO_ORDER_STATUSES"),
            flow,
        })
    }
}

/// A secret from its plain variable, or else from `<NAME>_SECRET_ARN`.
fn secret(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    problems: &mut Vec<String>,
) -> SecretValue {
    let arn_variable = format!("{name}_SECRET_ARN");
    match (get(name), get(&arn_variable)) {
        (Some(plain), _) => SecretValue::Plain(crate::secret::SecretString::new(plain)),
        (None, Some(arn)) if arn.starts_with("arn:") => SecretValue::SecretsManager {
            arn,
            key: name.to_string(),
        },
        (None, Some(_)) => {
            problems.push(format!(
                "{arn_variable} is not an ARN (arn:aws:secretsmanager:…)"
            ));
            SecretValue::Plain(crate::secret::SecretString::new(""))
        }
        (None, None) => {
            problems.push(format!("neither {name} nor {arn_variable} is set"));
            SecretValue::Plain(crate::secret::SecretString::new(""))
        }
    }
}
