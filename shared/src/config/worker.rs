//! Typed configuration of the workers (order-worker, payment-worker), every problem at once.
//!
//! Three parts: where the queue and table are (Lambda only), how messages are retried, and the
//! connectors (Stripe, Kentico) with the flow settings. `paybridge serve` reads the last two and
//! tolerates missing credentials; a Lambda requires everything.

use super::aws::{VAR_LEDGER_TABLE, VAR_TABLE, queue_variables};
use super::mode::StripeMode;
use super::{ConfigError, Env, Getter, SecretSetting, SecretValue, getter};
use crate::config::flow::{FlowSettings, PaymentMode};
use crate::idempotency::guard::{DEFAULT_EXPIRY_SECONDS, MIN_EXPIRY_SECONDS};
use crate::mapping::KenticoPlatform;
use crate::mapping::money::Currency;
use crate::mapping::payment_status::StatusMapping;
use crate::queue::MAX_VISIBILITY_SECONDS;
use crate::secret::SecretString;
use crate::webhook::Source;
use crate::worker::Backoff;
use crate::worker::budget::{KENTICO_TIMEOUT, STRIPE_TIMEOUT, TimeBudget};

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

    /// Whose events the worker drains: the order worker Kentico's, the payment worker Stripe's.
    pub fn source(self) -> Source {
        match self {
            Self::Order => Source::Kentico,
            Self::Payment => Source::Stripe,
        }
    }

    /// Both workers.
    pub const ALL: [WorkerKind; 2] = [Self::Order, Self::Payment];
}

/// Stripe's API base unless a test or proxy says otherwise.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// How messages are processed and retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeSettings {
    /// Business keys processed at once per batch.
    pub concurrency: usize,
    /// Retry schedule.
    pub backoff: Backoff,
    /// The queue's redrive `maxReceiveCount`.
    pub max_receive_count: u32,
    /// Idempotency record lifetime.
    pub idempotency_expiry_seconds: u64,
    /// How long the event journal keeps what it saw (`JOURNAL_RETENTION_DAYS`).
    pub journal_retention_days: u32,
    /// How long a worker uses the mapping version it read before reading the active one again
    /// (`MAPPING_REFRESH_SECONDS`).
    pub mapping_refresh_seconds: u64,
}

/// How often a worker reads the active mapping version unless `MAPPING_REFRESH_SECONDS` says
/// otherwise: a publish or a rollback is in force everywhere within this.
pub const DEFAULT_MAPPING_REFRESH_SECONDS: u64 = 15;

/// The journal's retention unless `JOURNAL_RETENTION_DAYS` says otherwise.
pub const DEFAULT_JOURNAL_RETENTION_DAYS: u32 = 30;

/// Stripe's connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSettings {
    /// `STRIPE_API_BASE`.
    pub api_base: String,
    /// `STRIPE_SECRET_KEY` or its secret.
    pub secret_key: SecretValue,
    /// `STRIPE_API_VERSION` (pinned).
    pub api_version: String,
    /// `STRIPE_MODE`, or the plain key's mode: a key read later must be of this mode.
    pub mode: Option<StripeMode>,
}

/// Kentico's connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KenticoSettings {
    /// `KENTICO_BASE_URL`: the Kentico 13 admin app root, or the Xperience by Kentico app root.
    pub base_url: String,
    /// How paybridge reaches the shop, by `KENTICO_PLATFORM`.
    pub access: KenticoAccess,
}

/// How paybridge reaches a Kentico shop's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KenticoAccess {
    /// Kentico 13's REST service, with Basic auth (`KENTICO_PLATFORM=k13`, the default).
    Rest {
        /// `KENTICO_USERNAME`.
        username: String,
        /// `KENTICO_PASSWORD` or its secret.
        password: SecretValue,
        /// `KENTICO_ORDER_STATUSES` (`Name=ID` pairs), raw.
        order_statuses: Option<String>,
    },
    /// The paybridge package's signed endpoints in an Xperience by Kentico app
    /// (`KENTICO_PLATFORM=xbyk`).
    Package {
        /// The secrets paybridge signs its requests with (one `v1` each).
        secrets: PackageSecrets,
    },
}

/// What paybridge signs its requests to the Xperience by Kentico package with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSecrets {
    /// `KENTICO_API_SECRET` (or its ARN): a secret of the package's own `Paybridge:ApiSecrets`,
    /// comma-separated for a rotation.
    Api(SecretValue),
    /// Without it, the Kentico webhook secrets (`KENTICO_WEBHOOK_SECRETS` or its ARN), which
    /// the package also signs its events with.
    Webhook(SecretSetting),
}

/// The connectors and what the flows do with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorSettings {
    /// Stripe, when configured.
    pub stripe: Option<StripeSettings>,
    /// Kentico, when configured.
    pub kentico: Option<KenticoSettings>,
    /// Flow behaviour.
    pub flow: FlowSettings,
    /// Where posted ledger entries are delivered, when configured.
    pub ledger_sink: Option<super::ledger::LedgerSinkSettings>,
    /// QuickBooks Online, when configured.
    pub quickbooks: Option<super::ledger::QuickBooksSettings>,
    /// The connectors' timeouts (`STRIPE_TIMEOUT_SECONDS`, `KENTICO_TIMEOUT_SECONDS`).
    pub budget: TimeBudget,
}

impl ConnectorSettings {
    /// What is not configured, one line each (empty when both connectors are).
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.stripe.is_none() {
            missing.push("Stripe (set STRIPE_SECRET_KEY)".to_string());
        }
        if self.kentico.is_none() {
            missing.push(match self.flow.kentico_platform {
                KenticoPlatform::K13 => {
                    "Kentico (set KENTICO_BASE_URL, KENTICO_USERNAME, KENTICO_PASSWORD)".to_string()
                }
                KenticoPlatform::Xbyk => {
                    "Kentico (set KENTICO_BASE_URL and KENTICO_WEBHOOK_SECRETS)".to_string()
                }
            });
        }
        missing
    }
}

/// Everything a worker Lambda needs.
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
    /// The ledger table (the payment worker posts there).
    pub ledger_table: Option<String>,
    /// The KMS key sealing the journal's envelopes (`JOURNAL_KMS_KEY_ID`), if any.
    pub journal_key: Option<String>,
    /// Retries and concurrency.
    pub runtime: RuntimeSettings,
    /// Stripe and Kentico (both present: a Lambda requires them).
    pub connectors: ConnectorSettings,
}

impl WorkerConfig {
    /// Reads the configuration of `kind` through `env`; every setting is required.
    pub fn from_env(kind: WorkerKind, env: Env<'_>) -> Result<Self, ConfigError> {
        let get = getter(env);
        let mut problems = Vec::new();
        let mut required = |name: &str, what: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is not set ({what})"));
                String::new()
            })
        };
        let (queue_var, dlq_var) = queue_variables(kind.source());
        let queue_url = required(queue_var, "the queue this worker drains");
        let dlq_url = required(dlq_var, "its dead-letter queue");
        let table = required(
            VAR_TABLE,
            "the DynamoDB table for idempotency records and order links",
        );
        let ledger_table = match kind {
            WorkerKind::Payment => Some(required(
                VAR_LEDGER_TABLE,
                "the DynamoDB table ledger entries are posted to",
            )),
            WorkerKind::Order => None,
        };
        let runtime = runtime_settings(&get, &mut problems);
        let connectors = connector_settings(&get, true, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Self {
            kind,
            queue_url,
            dlq_url,
            table,
            ledger_table,
            journal_key: get(super::aws::VAR_JOURNAL_KEY),
            runtime,
            connectors,
        })
    }
}

/// Reads the retry settings and the connectors for `paybridge serve`: a connector whose
/// credentials are all absent is `None` (its worker waits); a malformed setting is an error.
pub fn serve_settings(env: Env<'_>) -> Result<(RuntimeSettings, ConnectorSettings), ConfigError> {
    let get = getter(env);
    let mut problems = Vec::new();
    let runtime = runtime_settings(&get, &mut problems);
    let connectors = connector_settings(&get, false, &mut problems);
    if problems.is_empty() {
        Ok((runtime, connectors))
    } else {
        Err(ConfigError { problems })
    }
}

fn runtime_settings(get: &Getter<'_>, problems: &mut Vec<String>) -> RuntimeSettings {
    let mut number = |name: &str, default: u64, min: u64, max: u64| match get(name) {
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
    RuntimeSettings {
        concurrency: number("WORKER_CONCURRENCY", 8, 1, 64) as usize,
        backoff: Backoff {
            base_seconds: number(
                "RETRY_BASE_SECONDS",
                u64::from(defaults.base_seconds),
                0,
                3_600,
            ) as u32,
            cap_seconds: number(
                "RETRY_CAP_SECONDS",
                u64::from(defaults.cap_seconds),
                1,
                u64::from(MAX_VISIBILITY_SECONDS),
            ) as u32,
            ..defaults
        },
        max_receive_count: number("MAX_RECEIVE_COUNT", 25, 1, 1_000) as u32,
        journal_retention_days: number(
            "JOURNAL_RETENTION_DAYS",
            u64::from(DEFAULT_JOURNAL_RETENTION_DAYS),
            1,
            3_650,
        ) as u32,
        idempotency_expiry_seconds: number(
            "IDEMPOTENCY_EXPIRY_SECONDS",
            DEFAULT_EXPIRY_SECONDS,
            MIN_EXPIRY_SECONDS,
            365 * 86_400,
        ),
        mapping_refresh_seconds: number(
            "MAPPING_REFRESH_SECONDS",
            DEFAULT_MAPPING_REFRESH_SECONDS,
            0,
            3_600,
        ),
    }
}

fn connector_settings(
    get: &Getter<'_>,
    required: bool,
    problems: &mut Vec<String>,
) -> ConnectorSettings {
    let stripe_present =
        get("STRIPE_SECRET_KEY").is_some() || get("STRIPE_SECRET_KEY_SECRET_ARN").is_some();
    let stripe = (required || stripe_present).then(|| {
        let secret_key = secret(get, "STRIPE_SECRET_KEY", problems);
        if let SecretValue::Plain(key) = &secret_key
            && !key.expose().is_empty()
            && let Err(problem) = check_stripe_key(key.expose())
        {
            problems.push(problem);
        }
        let api_base =
            get("STRIPE_API_BASE").unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_string());
        check_https("STRIPE_API_BASE", &api_base, problems);
        StripeSettings {
            api_base,
            secret_key,
            mode: super::mode::read(get, problems),
            api_version: get("STRIPE_API_VERSION")
                .unwrap_or_else(|| crate::connectors::stripe::DEFAULT_API_VERSION.to_string()),
        }
    });
    let flow = flow_settings(get, problems);
    let platform = flow.kentico_platform;
    let kentico_names: &[&str] = match platform {
        KenticoPlatform::K13 => &[
            "KENTICO_BASE_URL",
            "KENTICO_USERNAME",
            "KENTICO_PASSWORD",
            "KENTICO_PASSWORD_SECRET_ARN",
        ],
        // The webhook secrets alone say nothing: serve's ingress reads them too.
        KenticoPlatform::Xbyk => &["KENTICO_BASE_URL"],
    };
    let kentico_present = kentico_names.iter().any(|name| get(name).is_some());
    let kentico = (required || kentico_present).then(|| {
        let base_url = get("KENTICO_BASE_URL").unwrap_or_else(|| {
            problems.push(match platform {
                KenticoPlatform::K13 => "KENTICO_BASE_URL is not set (the Kentico admin app root, \
                                         REST calls go to {KENTICO_BASE_URL}/rest/…)"
                    .to_string(),
                KenticoPlatform::Xbyk => "KENTICO_BASE_URL is not set (the Xperience by Kentico \
                                          app root, where the paybridge package answers \
                                          /paybridge/…)"
                    .to_string(),
            });
            String::new()
        });
        if !base_url.is_empty() {
            check_https("KENTICO_BASE_URL", &base_url, problems);
        }
        let access = match platform {
            KenticoPlatform::K13 => KenticoAccess::Rest {
                username: get("KENTICO_USERNAME").unwrap_or_else(|| {
                    problems.push(
                        "KENTICO_USERNAME is not set (the Kentico REST service user)".to_string(),
                    );
                    String::new()
                }),
                password: secret(get, "KENTICO_PASSWORD", problems),
                order_statuses: get("KENTICO_ORDER_STATUSES"),
            },
            KenticoPlatform::Xbyk => {
                for k13_only in ["KENTICO_USERNAME", "KENTICO_ORDER_STATUSES"] {
                    if get(k13_only).is_some() {
                        problems.push(format!(
                            "{k13_only} is for Kentico 13's REST service; with KENTICO_PLATFORM=xbyk \
                             the package's endpoints are used (unset it)"
                        ));
                    }
                }
                let api_secret = get(VAR_KENTICO_API_SECRET).is_some()
                    || get(&format!("{VAR_KENTICO_API_SECRET}_SECRET_ARN")).is_some();
                let secrets = if api_secret {
                    let value = secret(get, VAR_KENTICO_API_SECRET, problems);
                    if let SecretValue::Plain(plain) = &value
                        && let Err(mut found) = super::ingress::parse_webhook_secrets(
                            Source::Kentico,
                            VAR_KENTICO_API_SECRET,
                            plain.expose(),
                        )
                    {
                        problems.append(&mut found);
                    }
                    PackageSecrets::Api(value)
                } else {
                    PackageSecrets::Webhook(super::ingress::webhook_secret_setting(
                        Source::Kentico,
                        get,
                        problems,
                    ))
                };
                KenticoAccess::Package { secrets }
            }
        };
        KenticoSettings { base_url, access }
    });
    let ledger_sink = get(super::ledger::VAR_LEDGER_WEBHOOK_URL).map(|url| {
        check_https(super::ledger::VAR_LEDGER_WEBHOOK_URL, &url, problems);
        super::ledger::LedgerSinkSettings {
            url,
            secret: secret(get, super::ledger::VAR_LEDGER_WEBHOOK_SECRET, problems),
        }
    });
    ConnectorSettings {
        stripe,
        kentico,
        flow,
        ledger_sink,
        quickbooks: quickbooks_settings(get, required, problems),
        budget: time_budget(get, problems),
    }
}

/// The connectors' timeouts: each may only be lowered (a shorter Lambda timeout, a test), from
/// 1 s up to its default, which is what fits the worker Lambdas' 60 s.
fn time_budget(get: &Getter<'_>, problems: &mut Vec<String>) -> TimeBudget {
    let mut seconds = |name: &str, default: std::time::Duration| {
        let max = default.as_secs();
        match get(name) {
            None => default,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => std::time::Duration::from_secs(n),
                _ => {
                    problems.push(format!(
                        "{name}='{raw}' must be a whole number of seconds from 1 to {max} \
                         (it can only lower the default, which fits the worker's 60 s)"
                    ));
                    default
                }
            },
        }
    };
    TimeBudget {
        stripe: seconds(VAR_STRIPE_TIMEOUT, STRIPE_TIMEOUT),
        kentico: seconds(VAR_KENTICO_TIMEOUT, KENTICO_TIMEOUT),
    }
}

/// Lowers Stripe's per-request timeout (seconds).
pub const VAR_STRIPE_TIMEOUT: &str = "STRIPE_TIMEOUT_SECONDS";
/// Lowers Kentico's per-request timeout (seconds).
pub const VAR_KENTICO_TIMEOUT: &str = "KENTICO_TIMEOUT_SECONDS";
/// Which Kentico the shop runs: `k13` (default) or `xbyk`.
pub const VAR_KENTICO_PLATFORM: &str = "KENTICO_PLATFORM";
/// The secret(s) paybridge signs its requests to the Xperience by Kentico package with, when not
/// the Kentico webhook secrets.
pub const VAR_KENTICO_API_SECRET: &str = "KENTICO_API_SECRET";
/// The currency of Xperience by Kentico orders that carry none (ISO 4217).
pub const VAR_KENTICO_CURRENCY: &str = "KENTICO_CURRENCY";

/// QuickBooks, when `QUICKBOOKS_REALM_ID` is set. A Lambda keeps the rotating refresh token in
/// Secrets Manager (it has nowhere else to keep it); `serve` may take it plain and keep it.
fn quickbooks_settings(
    get: &Getter<'_>,
    lambda: bool,
    problems: &mut Vec<String>,
) -> Option<super::ledger::QuickBooksSettings> {
    use super::ledger::*;
    let realm_id = get(VAR_QUICKBOOKS_REALM_ID)?;
    let mut need = |name: &str| {
        get(name).unwrap_or_else(|| {
            problems.push(format!("{name} is not set (the QuickBooks sink needs it)"));
            String::new()
        })
    };
    let client_id = need(VAR_QUICKBOOKS_CLIENT_ID);
    let raw_accounts = need(VAR_QUICKBOOKS_ACCOUNTS);
    let accounts = match parse_quickbooks_accounts(&raw_accounts) {
        Ok(accounts) => accounts,
        Err(found) if !raw_accounts.is_empty() => {
            problems.extend(found);
            Default::default()
        }
        Err(_) => Default::default(), // already said: not set
    };
    let client_secret = secret(get, VAR_QUICKBOOKS_CLIENT_SECRET, problems);
    let refresh_token = match (
        get(VAR_QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN),
        get(VAR_QUICKBOOKS_REFRESH_TOKEN),
    ) {
        (Some(arn), _) if arn.starts_with("arn:") => RefreshTokenSetting::SecretsManager { arn },
        (Some(_), _) => {
            problems.push(format!(
                "{VAR_QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN} is not an ARN (arn:aws:secretsmanager:…)"
            ));
            RefreshTokenSetting::Plain(SecretString::new(""))
        }
        (None, Some(_)) if lambda => {
            problems.push(format!(
                "{VAR_QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN} is not set: QuickBooks rotates the refresh token, and a Lambda keeps the new one only in Secrets Manager"
            ));
            RefreshTokenSetting::Plain(SecretString::new(""))
        }
        (None, Some(token)) => RefreshTokenSetting::Plain(SecretString::new(token)),
        (None, None) => {
            problems.push(format!(
                "neither {VAR_QUICKBOOKS_REFRESH_TOKEN} nor {VAR_QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN} is set"
            ));
            RefreshTokenSetting::Plain(SecretString::new(""))
        }
    };
    let url = |name: &str, default: &str, problems: &mut Vec<String>| {
        let url = get(name).unwrap_or_else(|| default.to_string());
        check_https(name, &url, problems);
        url
    };
    let api_base = url(
        VAR_QUICKBOOKS_API_BASE,
        crate::ledger::quickbooks::DEFAULT_API_BASE,
        problems,
    );
    let token_url = url(
        VAR_QUICKBOOKS_TOKEN_URL,
        crate::ledger::quickbooks::DEFAULT_TOKEN_URL,
        problems,
    );
    Some(QuickBooksSettings {
        realm_id,
        client_id,
        client_secret,
        refresh_token,
        accounts,
        api_base,
        token_url,
    })
}

fn flow_settings(get: &Getter<'_>, problems: &mut Vec<String>) -> FlowSettings {
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
    let refund_double_payments = match get("REFUND_DOUBLE_PAYMENTS").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            problems.push(format!(
                "REFUND_DOUBLE_PAYMENTS='{other}' must be true or false"
            ));
            false
        }
    };
    let payment_retry_url = get("PAYMENT_RETRY_URL");
    if let Some(url) = &payment_retry_url
        && !url.starts_with("https://")
        && !url.starts_with("http://")
    {
        problems.push(format!(
            "PAYMENT_RETRY_URL='{url}' must be an http(s) URL (placeholders {{order_id}}, {{order_guid}})"
        ));
    }
    let checkout_success_url = get("CHECKOUT_SUCCESS_URL");
    if payment_mode == PaymentMode::Checkout && checkout_success_url.is_none() {
        problems.push("CHECKOUT_SUCCESS_URL is required with PAYMENT_MODE=checkout (where Stripe sends the paying customer)".into());
    }
    let kentico_platform = match get(VAR_KENTICO_PLATFORM) {
        None => KenticoPlatform::K13,
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "k13" => KenticoPlatform::K13,
            "xbyk" => KenticoPlatform::Xbyk,
            _ => {
                problems.push(format!(
                    "{VAR_KENTICO_PLATFORM}='{raw}' must be k13 (Kentico Xperience 13) or xbyk \
                     (Xperience by Kentico)"
                ));
                KenticoPlatform::K13
            }
        },
    };
    let kentico_currency = get(VAR_KENTICO_CURRENCY).and_then(|raw| {
        match Currency::parse(VAR_KENTICO_CURRENCY, &raw) {
            Ok(currency) => Some(currency),
            Err(error) => {
                problems.push(format!("{VAR_KENTICO_CURRENCY}='{raw}': {error}"));
                None
            }
        }
    });
    if kentico_currency.is_some() && kentico_platform == KenticoPlatform::K13 {
        problems.push(format!(
            "{VAR_KENTICO_CURRENCY} is for Xperience by Kentico (KENTICO_PLATFORM=xbyk); \
             Kentico 13 orders carry their currency"
        ));
    }
    let defaults = FlowSettings::default();
    FlowSettings {
        kentico_platform,
        kentico_currency,
        payment_mode,
        capture_method,
        automatic_payment_methods: get("AUTOMATIC_PAYMENT_METHODS").as_deref() != Some("false"),
        checkout_success_url,
        checkout_cancel_url: get("CHECKOUT_CANCEL_URL"),
        cancel_status_names: get("KENTICO_CANCELED_STATUSES")
            .map(|raw| {
                raw.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or(defaults.cancel_status_names),
        status_mapping,
        refund_double_payments,
        payment_retry_url,
        ledger_accounts: match get(super::ledger::VAR_LEDGER_ACCOUNTS) {
            None => defaults.ledger_accounts,
            Some(raw) => super::ledger::parse_accounts(&raw).unwrap_or_else(|mut found| {
                problems.append(&mut found);
                crate::ledger::Accounts::default()
            }),
        },
        customer_field_owners: match get(super::customers::VAR_CUSTOMER_FIELD_OWNERS) {
            None => defaults.customer_field_owners,
            Some(raw) => super::customers::parse_field_owners(&raw).unwrap_or_else(|mut found| {
                problems.append(&mut found);
                super::customers::FieldOwners::default()
            }),
        },
    }
}

/// An address paybridge sends money data or credentials to must be https (http only to this
/// machine, for local runs and tests).
fn check_https(name: &str, url: &str, problems: &mut Vec<String>) {
    if !is_https_or_loopback(url) {
        problems.push(format!(
            "{name}='{url}' must be an https:// URL (http:// only to a loopback address: \
             credentials would cross the network in clear)"
        ));
    }
}

/// Whether `url` is `https://…`, or `http://` to this machine (`localhost`, `127.0.0.0/8`,
/// `[::1]`): the only addresses a key, a password or a signed entry may be sent to in clear.
pub fn is_https_or_loopback(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => !host.is_empty(),
        "http" => loopback,
        _ => false,
    }
}

/// The shape of a Stripe secret or restricted key (`sk_…`, `rk_…`, test or live), however it was
/// given: a placeholder (such as the template's generated secret) is refused at start-up.
pub fn check_stripe_key(key: &str) -> Result<(), String> {
    let shaped = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
        .iter()
        .any(|p| key.starts_with(p) && key.len() > p.len());
    match shaped {
        true => Ok(()),
        false => Err(
            "STRIPE_SECRET_KEY does not look like a Stripe secret or restricted key \
             (sk_… / rk_…): put the key from the Stripe Dashboard in its place"
                .into(),
        ),
    }
}

/// A secret from its plain variable, or else from `<NAME>_SECRET_ARN`.
fn secret(get: &Getter<'_>, name: &str, problems: &mut Vec<String>) -> SecretValue {
    let arn_variable = format!("{name}_SECRET_ARN");
    match (get(name), get(&arn_variable)) {
        (Some(plain), _) => SecretValue::Plain(SecretString::new(plain)),
        (None, Some(arn)) if arn.starts_with("arn:") => SecretValue::SecretsManager {
            arn,
            key: name.to_string(),
        },
        (None, Some(_)) => {
            problems.push(format!(
                "{arn_variable} is not an ARN (arn:aws:secretsmanager:…)"
            ));
            SecretValue::Plain(SecretString::new(""))
        }
        (None, None) => {
            problems.push(format!("neither {name} nor {arn_variable} is set"));
            SecretValue::Plain(SecretString::new(""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_env as env;

    #[test]
    fn the_connector_timeouts_may_only_be_lowered() {
        let (_, settings) = serve_settings(&env(&[])).unwrap();
        assert_eq!(settings.budget, TimeBudget::default());

        let (_, settings) = serve_settings(&env(&[
            ("STRIPE_TIMEOUT_SECONDS", "5"),
            ("KENTICO_TIMEOUT_SECONDS", "4"),
        ]))
        .unwrap();
        assert_eq!(settings.budget.stripe, std::time::Duration::from_secs(5));
        assert_eq!(settings.budget.kentico, std::time::Duration::from_secs(4));
        assert_eq!(
            settings.budget.start_reserve(),
            std::time::Duration::from_secs(11)
        );

        for (name, raw) in [
            ("STRIPE_TIMEOUT_SECONDS", "21"),
            ("STRIPE_TIMEOUT_SECONDS", "0"),
            ("KENTICO_TIMEOUT_SECONDS", "16"),
            ("KENTICO_TIMEOUT_SECONDS", "2.5"),
        ] {
            let err = serve_settings(&env(&[(name, raw)])).unwrap_err();
            assert!(
                err.problems[0].starts_with(&format!("{name}='{raw}' must be")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn quickbooks_needs_its_settings_and_a_lambda_needs_the_token_in_secrets_manager() {
        let base = [
            ("QUICKBOOKS_REALM_ID", "9130"),
            ("QUICKBOOKS_CLIENT_ID", "AB-client"),
            ("QUICKBOOKS_CLIENT_SECRET", "client-secret"),
            (
                "QUICKBOOKS_ACCOUNTS",
                "clearing=35,revenue=79,fees=112,refunds=80,disputes=113,bank=36",
            ),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            pairs
        };
        let serve = with(&[("QUICKBOOKS_REFRESH_TOKEN", "AB11-token")]);
        let (_, settings) = serve_settings(&env(&serve)).unwrap();
        let quickbooks = settings.quickbooks.unwrap();
        assert_eq!(quickbooks.accounts["fees"], "112");
        assert_eq!(quickbooks.api_base, "https://quickbooks.api.intuit.com");
        assert!(matches!(
            quickbooks.refresh_token,
            crate::config::ledger::RefreshTokenSetting::Plain(_)
        ));

        let mut problems = Vec::new();
        let serve_env = env(&serve);
        quickbooks_settings(&getter(&serve_env), true, &mut problems);
        assert!(
            problems[0].contains("QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN is not set"),
            "{problems:?}"
        );

        let arn = with(&[(
            "QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:1:secret:qb",
        )]);
        let mut problems = Vec::new();
        let arn_env = env(&arn);
        let found = quickbooks_settings(&getter(&arn_env), true, &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(matches!(
            found.refresh_token,
            crate::config::ledger::RefreshTokenSetting::SecretsManager { .. }
        ));

        let err = serve_settings(&env(&[
            ("QUICKBOOKS_REALM_ID", "9130"),
            ("QUICKBOOKS_API_BASE", "http://intuit.example"),
        ]))
        .unwrap_err()
        .to_string();
        for expected in [
            "QUICKBOOKS_CLIENT_ID",
            "QUICKBOOKS_CLIENT_SECRET",
            "QUICKBOOKS_ACCOUNTS",
            "QUICKBOOKS_REFRESH_TOKEN",
            "QUICKBOOKS_API_BASE",
        ] {
            assert!(err.contains(expected), "{expected} missing from: {err}");
        }
        let (_, off) = serve_settings(&env(&[("QUICKBOOKS_REALM_ID", "")])).unwrap();
        assert_eq!(off.quickbooks, None, "an empty realm leaves the sink off");
    }

    #[test]
    fn keys_and_passwords_go_only_over_https_or_to_this_machine() {
        for secure in [
            "https://api.stripe.com",
            "http://127.0.0.1:8080",
            "http://127.8.9.1",
            "http://localhost:9000/x",
            "http://LOCALHOST",
            "http://[::1]:4000",
        ] {
            assert!(is_https_or_loopback(secure), "{secure}");
        }
        for clear in [
            "http://api.stripe.com",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://10.0.0.1",
            "ftp://localhost",
            "https://",
            "api.stripe.com",
        ] {
            assert!(!is_https_or_loopback(clear), "{clear}");
        }
        let err = serve_settings(&env(&[
            ("STRIPE_SECRET_KEY", "sk_test_123"),
            ("STRIPE_API_BASE", "http://stripe.proxy.example"),
            ("KENTICO_BASE_URL", "http://kentico.example"),
            ("KENTICO_USERNAME", "paybridge"),
            ("KENTICO_PASSWORD", "pw"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("STRIPE_API_BASE='http://stripe.proxy.example' must be an https://"),
            "{err}"
        );
        assert!(
            err.contains("KENTICO_BASE_URL='http://kentico.example' must be an https://"),
            "{err}"
        );
    }

    #[test]
    fn only_a_stripe_shaped_key_is_taken() {
        for key in [
            "sk_test_51abc",
            "sk_live_51abc",
            "rk_test_51abc",
            "rk_live_51abc",
        ] {
            assert_eq!(check_stripe_key(key), Ok(()), "{key}");
        }
        for key in [
            "",
            "sk_test_",
            "pk_test_51abc",
            "whsec_abc",
            "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE1fG3",
        ] {
            assert!(check_stripe_key(key).is_err(), "{key}");
        }
    }

    #[test]
    fn a_lambda_worker_lists_every_missing_setting_at_once() {
        let err = WorkerConfig::from_env(WorkerKind::Payment, &env(&[("PAYMENT_MODE", "iframe")]))
            .unwrap_err();
        let text = err.to_string();
        for expected in [
            "STRIPE_EVENTS_QUEUE_URL",
            "STRIPE_EVENTS_DLQ_URL",
            "IDEMPOTENCY_TABLE_NAME",
            "neither STRIPE_SECRET_KEY nor STRIPE_SECRET_KEY_SECRET_ARN",
            "KENTICO_BASE_URL",
            "KENTICO_USERNAME",
            "neither KENTICO_PASSWORD nor KENTICO_PASSWORD_SECRET_ARN",
            "PAYMENT_MODE='iframe'",
        ] {
            assert!(text.contains(expected), "{expected} missing from: {text}");
        }
    }

    #[test]
    fn refuses_an_api_key_that_is_not_a_stripe_key_without_printing_it() {
        let err =
            serve_settings(&env(&[("STRIPE_SECRET_KEY", "pk_live_publishable")])).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(!err.to_string().contains("pk_live_publishable"));
    }

    #[test]
    fn serve_starts_with_no_credentials_and_says_what_is_missing() {
        let (_, connectors) = serve_settings(&env(&[])).unwrap();
        assert_eq!(connectors.stripe, None);
        assert_eq!(connectors.kentico, None);
        assert_eq!(connectors.missing().len(), 2);
    }

    #[test]
    fn serve_requires_the_whole_kentico_connector_once_part_of_it_is_set() {
        let err = serve_settings(&env(&[("KENTICO_BASE_URL", "https://shop.example/admin")]))
            .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn checkout_mode_needs_a_success_url() {
        let err = serve_settings(&env(&[("PAYMENT_MODE", "checkout")])).unwrap_err();
        assert!(err.problems[0].starts_with("CHECKOUT_SUCCESS_URL is required"));
    }
}

#[cfg(test)]
mod platform_tests {
    use super::*;
    use crate::config::test_env as env;

    #[test]
    fn kentico_13_is_the_default_and_needs_the_rest_credentials() {
        let (_, settings) = serve_settings(&env(&[
            ("KENTICO_BASE_URL", "https://shop.example/admin"),
            ("KENTICO_USERNAME", "paybridge"),
            ("KENTICO_PASSWORD", "pw"),
        ]))
        .unwrap();
        assert_eq!(settings.flow.kentico_platform, KenticoPlatform::K13);
        let kentico = settings.kentico.unwrap();
        assert!(
            matches!(kentico.access, KenticoAccess::Rest { ref username, .. } if username == "paybridge")
        );

        let err = serve_settings(&env(&[("KENTICO_BASE_URL", "https://shop.example/admin")]))
            .unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.starts_with("KENTICO_USERNAME is not set")),
            "{err:?}"
        );
    }

    #[test]
    fn xbyk_signs_with_the_webhook_secrets_and_takes_a_currency() {
        let (_, settings) = serve_settings(&env(&[
            ("KENTICO_PLATFORM", "xbyk"),
            ("KENTICO_BASE_URL", "https://shop.example"),
            ("KENTICO_WEBHOOK_SECRETS", "0123456789abcdef0123"),
            ("KENTICO_CURRENCY", "eur"),
        ]))
        .unwrap();
        assert_eq!(settings.flow.kentico_platform, KenticoPlatform::Xbyk);
        assert_eq!(
            settings.flow.kentico_currency.map(|c| c.code()),
            Some("EUR")
        );
        let kentico = settings.kentico.unwrap();
        assert!(matches!(
            kentico.access,
            KenticoAccess::Package { secrets: PackageSecrets::Webhook(SecretSetting::Plain(ref s)) } if s.len() == 1
        ));

        // A separate secret for the requests, plain (checked like the webhook secrets) or by ARN.
        let (_, settings) = serve_settings(&env(&[
            ("KENTICO_PLATFORM", "xbyk"),
            ("KENTICO_BASE_URL", "https://shop.example"),
            (
                "KENTICO_API_SECRET_SECRET_ARN",
                "arn:aws:secretsmanager:eu-west-1:1:secret:api",
            ),
            ("KENTICO_CURRENCY", "EUR"),
        ]))
        .unwrap();
        assert!(matches!(
            settings.kentico.unwrap().access,
            KenticoAccess::Package { secrets: PackageSecrets::Api(SecretValue::SecretsManager { ref key, .. }) }
                if key == "KENTICO_API_SECRET"
        ));
        let err = serve_settings(&env(&[
            ("KENTICO_PLATFORM", "xbyk"),
            ("KENTICO_BASE_URL", "https://shop.example"),
            ("KENTICO_API_SECRET", "short"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.problems,
            ["KENTICO_API_SECRET: secret #1 is shorter than 16 characters"]
        );
    }

    #[test]
    fn every_platform_mistake_is_named() {
        let err = serve_settings(&env(&[
            ("KENTICO_PLATFORM", "xperience"),
            ("KENTICO_CURRENCY", "EUR"),
        ]))
        .unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.starts_with("KENTICO_PLATFORM='xperience' must be k13")),
            "{err:?}"
        );
        assert!(
            err.problems
                .iter()
                .any(|p| p.starts_with("KENTICO_CURRENCY is for Xperience by Kentico")),
            "{err:?}"
        );

        let err = serve_settings(&env(&[
            ("KENTICO_PLATFORM", "xbyk"),
            ("KENTICO_BASE_URL", "https://shop.example"),
            ("KENTICO_USERNAME", "paybridge"),
            ("KENTICO_ORDER_STATUSES", "Paid=6"),
            ("KENTICO_CURRENCY", "XAU"),
        ]))
        .unwrap_err();
        let text = err.problems.join("\n");
        for expected in [
            "KENTICO_USERNAME is for Kentico 13's REST service",
            "KENTICO_ORDER_STATUSES is for Kentico 13's REST service",
            "KENTICO_CURRENCY='XAU'",
            "neither KENTICO_WEBHOOK_SECRETS nor KENTICO_WEBHOOK_SECRET_ARN is set",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
    }

    #[test]
    fn the_missing_connector_names_the_platforms_settings() {
        let settings = ConnectorSettings {
            stripe: None,
            kentico: None,
            flow: FlowSettings {
                kentico_platform: KenticoPlatform::Xbyk,
                ..FlowSettings::default()
            },
            ledger_sink: None,
            quickbooks: None,
            budget: TimeBudget::default(),
        };
        assert_eq!(
            settings.missing()[1],
            "Kentico (set KENTICO_BASE_URL and KENTICO_WEBHOOK_SECRETS)"
        );
    }
}
