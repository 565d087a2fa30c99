//! What a webhook ingress needs: the source's signing secrets, the signature tolerance, the
//! queue's message size limit, and (in Lambda) the queue URL.

use super::aws::queue_variables;
use super::mode::StripeMode;
use super::{ConfigError, Env, SecretSetting, getter, parse_number};
use crate::secret::SecretString;
use crate::webhook::Source;
use crate::webhook::signature::DEFAULT_TOLERANCE_SECONDS;

/// SQS's largest message since 2025 (1 MiB); a queue's `MaximumMessageSize` may set less.
pub const SQS_MAX_MESSAGE_BYTES: usize = 1_048_576;
/// SQS's smallest allowed `MaximumMessageSize`.
const SQS_MIN_MESSAGE_BYTES: usize = 1_024;
/// Stripe's tolerance is 300 s; more than an hour would make replays too easy.
const MAX_TOLERANCE_SECONDS: u64 = 3_600;
/// A shared secret shorter than this is too easy to guess.
const MIN_KENTICO_SECRET_CHARS: usize = 16;

/// The environment variable names for one source's ingress.
#[derive(Debug, Clone, Copy)]
pub struct IngressVariables {
    /// The queue URL variable.
    pub queue_url: &'static str,
    /// The plain secrets variable (comma-separated).
    pub secrets: &'static str,
    /// The Secrets Manager ARN variable.
    pub secret_arn: &'static str,
}

impl IngressVariables {
    /// The names for `source`.
    pub fn of(source: Source) -> Self {
        match source {
            Source::Kentico => Self {
                queue_url: queue_variables(source).0,
                secrets: "KENTICO_WEBHOOK_SECRETS",
                secret_arn: "KENTICO_WEBHOOK_SECRET_ARN",
            },
            // The reconciler has no ingress; its events are Stripe-shaped.
            Source::Stripe | Source::Reconciler => Self {
                queue_url: queue_variables(source).0,
                secrets: "STRIPE_WEBHOOK_SECRETS",
                secret_arn: "STRIPE_WEBHOOK_SECRET_ARN",
            },
        }
    }
}

/// The tolerance variable, shared by both sources.
pub const VAR_TOLERANCE: &str = "WEBHOOK_TOLERANCE_SECONDS";
/// The message size limit variable, set by template.yaml to the queue's `MaximumMessageSize`.
pub const VAR_MAX_MESSAGE_BYTES: &str = "QUEUE_MAX_MESSAGE_BYTES";

/// How one source's webhooks are verified and sized: what `serve` reads (its queue is its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Which webhooks.
    pub source: Source,
    /// The webhook secrets, or where to read them.
    pub webhook_secrets: SecretSetting,
    /// Signature timestamp tolerance, either side of now.
    pub tolerance_seconds: u64,
    /// The largest message the queue takes.
    pub max_message_bytes: usize,
    /// Stripe's webhooks only: the deployment's mode, when known; events of the other mode
    /// are acknowledged and ignored.
    pub stripe_mode: Option<StripeMode>,
}

/// Whether a source's webhooks are configured at all (`serve` answers 503 for one that is not).
pub fn webhooks_configured(source: Source, env: Env<'_>) -> bool {
    let vars = IngressVariables::of(source);
    let get = getter(env);
    get(vars.secrets).is_some() || get(vars.secret_arn).is_some()
}

impl WebhookSettings {
    /// Reads `source`'s webhook settings through `env`.
    pub fn from_env(source: Source, env: Env<'_>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let settings = Self::read(source, &getter(env), &mut problems);
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError { problems })
        }
    }

    fn read(
        source: Source,
        get: &dyn Fn(&str) -> Option<String>,
        problems: &mut Vec<String>,
    ) -> Self {
        let webhook_secrets = webhook_secret_setting(source, get, problems);
        let tolerance_seconds = parse_number(
            get(VAR_TOLERANCE),
            VAR_TOLERANCE,
            DEFAULT_TOLERANCE_SECONDS,
            1..=MAX_TOLERANCE_SECONDS,
            problems,
        );
        let max_message_bytes = parse_number(
            get(VAR_MAX_MESSAGE_BYTES),
            VAR_MAX_MESSAGE_BYTES,
            SQS_MAX_MESSAGE_BYTES as u64,
            SQS_MIN_MESSAGE_BYTES as u64..=SQS_MAX_MESSAGE_BYTES as u64,
            problems,
        ) as usize;
        let stripe_mode = match source {
            Source::Stripe | Source::Reconciler => super::mode::read(get, problems),
            Source::Kentico => None,
        };
        Self {
            source,
            webhook_secrets,
            tolerance_seconds,
            max_message_bytes,
            stripe_mode,
        }
    }
}

/// What an ingress Lambda needs: the webhook settings and the SQS queue it sends to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressConfig {
    /// The SQS queue URL it sends to.
    pub queue_url: String,
    /// Verification and size limits.
    pub webhooks: WebhookSettings,
}

impl IngressConfig {
    /// Reads the configuration for `source` through `env` (normally `std::env::var`).
    pub fn from_env(source: Source, env: Env<'_>) -> Result<Self, ConfigError> {
        let vars = IngressVariables::of(source);
        let get = getter(env);
        let mut problems = Vec::new();
        let queue_url = get(vars.queue_url).unwrap_or_else(|| {
            problems.push(format!(
                "{} is not set (the SQS queue URL to send events to)",
                vars.queue_url
            ));
            String::new()
        });
        let webhooks = WebhookSettings::read(source, &get, &mut problems);
        if problems.is_empty() {
            Ok(Self {
                queue_url,
                webhooks,
            })
        } else {
            Err(ConfigError { problems })
        }
    }
}

/// Reads `source`'s webhook secrets setting: the plain list (checked) or the Secrets Manager
/// ARN. Also what the workers read on Xperience by Kentico, whose package verifies paybridge's
/// requests with the secrets it signs its events with.
pub(super) fn webhook_secret_setting(
    source: Source,
    get: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> SecretSetting {
    let vars = IngressVariables::of(source);
    match (get(vars.secrets), get(vars.secret_arn)) {
        (Some(plain), _) => match parse_webhook_secrets(source, vars.secrets, &plain) {
            Ok(secrets) => SecretSetting::Plain(secrets),
            Err(mut found) => {
                problems.append(&mut found);
                SecretSetting::Plain(Vec::new())
            }
        },
        (None, Some(arn)) if arn.starts_with("arn:") => SecretSetting::SecretsManager { arn },
        (None, Some(_)) => {
            problems.push(format!(
                "{} is not an ARN (arn:aws:secretsmanager:…)",
                vars.secret_arn
            ));
            SecretSetting::Plain(Vec::new())
        }
        (None, None) => {
            problems.push(format!(
                "neither {} nor {} is set (the webhook signing secrets)",
                vars.secrets, vars.secret_arn
            ));
            SecretSetting::Plain(Vec::new())
        }
    }
}

/// Splits a comma-separated list of webhook secrets and checks each one's shape.
/// Problems name the variable and the position, never the secret.
pub fn parse_webhook_secrets(
    source: Source,
    variable: &str,
    raw: &str,
) -> Result<Vec<SecretString>, Vec<String>> {
    let mut problems = Vec::new();
    let mut secrets = Vec::new();
    for (index, secret) in raw.split(',').map(str::trim).enumerate() {
        let position = index + 1;
        if secret.is_empty() {
            continue;
        }
        match source {
            Source::Kentico if secret.chars().count() < MIN_KENTICO_SECRET_CHARS => problems.push(format!(
                "{variable}: secret #{position} is shorter than {MIN_KENTICO_SECRET_CHARS} characters"
            )),
            Source::Stripe | Source::Reconciler if !secret.starts_with("whsec_") => problems.push(format!(
                "{variable}: secret #{position} does not start with whsec_ (use the endpoint's signing secret, not an API key)"
            )),
            Source::Kentico | Source::Stripe | Source::Reconciler => {
                secrets.push(SecretString::new(secret))
            }
        }
    }
    if secrets.is_empty() && problems.is_empty() {
        problems.push(format!("{variable} holds no secret"));
    }
    if problems.is_empty() {
        Ok(secrets)
    } else {
        Err(problems)
    }
}

/// A source's webhook secret list with one secret added: what `paybridge setup` stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretList {
    /// The comma-separated list to store (it holds secrets: never print it).
    pub value: SecretString,
    /// Secrets of the old list kept beside the new one (a rotation without a gap).
    pub kept: usize,
    /// Old entries dropped because they are no secret of this source (a placeholder).
    pub dropped: usize,
}

/// `existing` (a comma-separated list, if any) with `new` appended: the old secrets stay valid
/// until the sender uses the new one; entries the ingress would refuse (the template's
/// generated placeholder) and a repeat of `new` are dropped.
pub fn add_webhook_secret(
    source: Source,
    existing: Option<&str>,
    new: &SecretString,
) -> SecretList {
    let vars = IngressVariables::of(source);
    let mut kept = Vec::new();
    let mut dropped = 0;
    for entry in existing.unwrap_or_default().split(',').map(str::trim) {
        if entry.is_empty() || entry == new.expose() || kept.contains(&entry) {
            continue;
        }
        match parse_webhook_secrets(source, vars.secrets, entry) {
            Ok(_) => kept.push(entry),
            Err(_) => dropped += 1,
        }
    }
    let count = kept.len();
    kept.push(new.expose());
    SecretList {
        value: SecretString::new(kept.join(",")),
        kept: count,
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_env as env;

    #[test]
    fn reads_a_complete_stripe_configuration_with_defaults() {
        let config = IngressConfig::from_env(
            Source::Stripe,
            &env(&[
                ("STRIPE_EVENTS_QUEUE_URL", "http://q"),
                ("STRIPE_WEBHOOK_SECRETS", "whsec_a, whsec_b"),
            ]),
        )
        .unwrap();
        assert_eq!(config.queue_url, "http://q");
        assert_eq!(
            config.webhooks.webhook_secrets,
            SecretSetting::Plain(vec![
                SecretString::new("whsec_a"),
                SecretString::new("whsec_b")
            ])
        );
        assert_eq!(config.webhooks.tolerance_seconds, 300);
        assert_eq!(config.webhooks.max_message_bytes, 1_048_576);
    }

    #[test]
    fn the_plain_variable_wins_over_the_arn() {
        let config = IngressConfig::from_env(
            Source::Kentico,
            &env(&[
                ("KENTICO_EVENTS_QUEUE_URL", "http://q"),
                ("KENTICO_WEBHOOK_SECRETS", "0123456789abcdef"),
                (
                    "KENTICO_WEBHOOK_SECRET_ARN",
                    "arn:aws:secretsmanager:eu-west-1:1:secret:x",
                ),
            ]),
        )
        .unwrap();
        assert!(matches!(
            config.webhooks.webhook_secrets,
            SecretSetting::Plain(_)
        ));
    }

    #[test]
    fn uses_the_arn_when_no_plain_secret_is_set() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe-AbC";
        let config = IngressConfig::from_env(
            Source::Stripe,
            &env(&[
                ("STRIPE_EVENTS_QUEUE_URL", "http://q"),
                ("STRIPE_WEBHOOK_SECRET_ARN", arn),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.webhooks.webhook_secrets,
            SecretSetting::SecretsManager { arn: arn.into() }
        );
    }

    #[test]
    fn lists_every_problem_at_once_without_leaking_secrets() {
        let err = IngressConfig::from_env(
            Source::Stripe,
            &env(&[
                ("STRIPE_WEBHOOK_SECRETS", "sk_live_oops,whsec_ok"),
                ("WEBHOOK_TOLERANCE_SECONDS", "-5"),
                ("QUEUE_MAX_MESSAGE_BYTES", "5000000"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        let text = err.to_string();
        assert!(text.contains("STRIPE_EVENTS_QUEUE_URL is not set"));
        assert!(text.contains("secret #1 does not start with whsec_"));
        assert!(text.contains("WEBHOOK_TOLERANCE_SECONDS='-5'"));
        assert!(text.contains("QUEUE_MAX_MESSAGE_BYTES='5000000'"));
        assert!(!text.contains("sk_live_oops"));
    }

    #[test]
    fn refuses_short_kentico_secrets_and_missing_ones() {
        let err = IngressConfig::from_env(
            Source::Kentico,
            &env(&[
                ("KENTICO_EVENTS_QUEUE_URL", "http://q"),
                ("KENTICO_WEBHOOK_SECRETS", "short"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            err.problems,
            vec!["KENTICO_WEBHOOK_SECRETS: secret #1 is shorter than 16 characters"]
        );
        let err =
            IngressConfig::from_env(Source::Kentico, &env(&[("KENTICO_EVENTS_QUEUE_URL", "q")]))
                .unwrap_err();
        assert!(
            err.problems[0]
                .starts_with("neither KENTICO_WEBHOOK_SECRETS nor KENTICO_WEBHOOK_SECRET_ARN")
        );
    }

    #[test]
    fn a_new_secret_is_appended_and_a_placeholder_dropped() {
        let new = SecretString::new("whsec_new");
        let first = add_webhook_secret(Source::Stripe, None, &new);
        assert_eq!(
            (first.value.expose(), first.kept, first.dropped),
            ("whsec_new", 0, 0)
        );
        let rotated = add_webhook_secret(
            Source::Stripe,
            Some(" whsec_old , GeneratedPlaceholder48chars,whsec_new,"),
            &new,
        );
        assert_eq!(rotated.value.expose(), "whsec_old,whsec_new");
        assert_eq!((rotated.kept, rotated.dropped), (1, 1));
        assert!(parse_webhook_secrets(Source::Stripe, "X", rotated.value.expose()).is_ok());
    }
}
