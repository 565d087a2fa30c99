//! Every entry point's parts, built from a test configuration exactly as production builds them.

use std::collections::HashMap;
use std::sync::Arc;

use super::BackendKind;
use super::lambda::{LambdaEnv, ingress_with, worker_with};
use super::serve::{ServeEnv, build, operator_backend};
use crate::clock::FixedClock;
use crate::config::StartupError;
use crate::config::worker::WorkerKind;
use crate::flows::{customer_events, order_events};
use crate::metrics::InMemoryMetrics;
use crate::webhook::Source;

/// A complete configuration: both queues, the table, both webhook secrets, both connectors.
fn complete() -> HashMap<String, String> {
    [
        (
            "STRIPE_EVENTS_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/stripe-events",
        ),
        (
            "STRIPE_EVENTS_DLQ_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/stripe-events-dlq",
        ),
        (
            "KENTICO_EVENTS_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/kentico-events",
        ),
        (
            "KENTICO_EVENTS_DLQ_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/kentico-events-dlq",
        ),
        ("IDEMPOTENCY_TABLE_NAME", "paybridge-state"),
        ("LEDGER_TABLE_NAME", "paybridge-ledger"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_composition_test"),
        ("KENTICO_WEBHOOK_SECRETS", "kentico_composition_test_secret"),
        ("STRIPE_SECRET_KEY", "sk_test_composition"),
        ("STRIPE_API_BASE", "http://127.0.0.1:9"),
        ("KENTICO_BASE_URL", "http://127.0.0.1:9/admin"),
        ("KENTICO_USERNAME", "paybridge"),
        ("KENTICO_PASSWORD", "composition-test-password"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// AWS's configuration without any network: building clients never calls AWS.
fn offline_sdk() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .build()
}

fn lambda<'a>(env: &'a dyn Fn(&str) -> Option<String>) -> LambdaEnv<'a> {
    LambdaEnv {
        env,
        sdk: offline_sdk(),
        metrics: Arc::new(InMemoryMetrics::new()),
        clock: Arc::new(FixedClock::at_unix(1_764_417_600)),
    }
}

fn sorted(types: &[&'static str]) -> Vec<&'static str> {
    let mut types = types.to_vec();
    types.sort_unstable();
    types
}

#[tokio::test]
async fn each_lambda_is_built_from_its_configuration() {
    let settings = complete();
    let env = |name: &str| settings.get(name).cloned();
    let lambda = lambda(&env);
    for source in Source::ALL {
        let handler = ingress_with(source, &lambda)
            .await
            .expect("the ingress starts");
        assert_eq!(handler.source(), source);
    }
    for (kind, routes) in [
        (WorkerKind::Order, {
            let mut routes = sorted(&order_events::EVENT_TYPES);
            routes.extend(customer_events::EVENT_TYPES);
            routes.sort_unstable();
            routes
        }),
        (WorkerKind::Payment, crate::flows::stripe_event_types()),
    ] {
        let processor = worker_with(kind, &lambda).await.expect("the worker starts");
        assert_eq!(processor.event_types(), routes, "{}", kind.name());
    }
}

#[tokio::test]
async fn the_reconciler_lambda_is_built_from_the_payment_workers_configuration_and_its_window() {
    let mut settings = complete();
    let env = |name: &str| settings.get(name).cloned();
    let (_, window) = super::lambda::reconciler_with(&lambda(&env)).await.unwrap();
    assert_eq!(window, 48, "the default window");

    settings.insert("RECONCILE_WINDOW_HOURS".into(), "6".into());
    let env = |name: &str| settings.get(name).cloned();
    let (_, window) = super::lambda::reconciler_with(&lambda(&env)).await.unwrap();
    assert_eq!(window, 6);

    settings.insert("RECONCILE_WINDOW_HOURS".into(), "forever".into());
    settings.remove("LEDGER_TABLE_NAME");
    let env = |name: &str| settings.get(name).cloned();
    let Err(error) = super::lambda::reconciler_with(&lambda(&env)).await else {
        panic!("a reconciler started without its ledger table")
    };
    assert!(error.to_string().contains("LEDGER_TABLE_NAME"), "{error}");
}

#[tokio::test]
async fn a_lambda_without_its_settings_names_every_missing_one() {
    let env = |_: &str| None;
    let lambda = lambda(&env);
    let Err(StartupError::Config(error)) = worker_with(WorkerKind::Payment, &lambda).await else {
        panic!("a worker started without configuration")
    };
    for name in [
        "STRIPE_EVENTS_QUEUE_URL",
        "IDEMPOTENCY_TABLE_NAME",
        "KENTICO_BASE_URL",
    ] {
        assert!(
            error.to_string().contains(name),
            "{name} missing from: {error}"
        );
    }
    let Err(StartupError::Config(error)) = ingress_with(Source::Kentico, &lambda).await else {
        panic!("an ingress started without configuration")
    };
    assert!(
        error.to_string().contains("KENTICO_EVENTS_QUEUE_URL"),
        "{error}"
    );
}

fn serve_env<'a>(
    env: &'a dyn Fn(&str) -> Option<String>,
    data_dir: &'a std::path::Path,
) -> ServeEnv<'a> {
    ServeEnv {
        backend: None,
        data_dir,
        env,
        metrics: Arc::new(InMemoryMetrics::new()),
        clock: Arc::new(FixedClock::at_unix(1_764_417_600)),
    }
}

#[tokio::test]
async fn serve_is_built_from_its_configuration_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let settings = complete();
    let env = |name: &str| settings.get(name).cloned();
    let serve = serve_env(&env, dir.path());
    assert_eq!(serve.backend_kind(), BackendKind::Embedded);

    let parts = build(&serve).await.expect("serve starts");

    assert_eq!(parts.backend.name(), "embedded");
    for source in Source::ALL {
        let handler = parts.ingress[&source].as_ref().expect("configured");
        assert_eq!(handler.source(), source);
    }
    let workers: Vec<_> = parts
        .workers
        .iter()
        .map(|(kind, p)| (*kind, p.is_ok()))
        .collect();
    assert_eq!(
        workers,
        vec![(WorkerKind::Order, true), (WorkerKind::Payment, true)]
    );
    assert_eq!(
        parts.backend.depths().await.len(),
        4,
        "both queues and both DLQs answer"
    );
    assert!(dir.path().join(super::backend::DATABASE_FILE).exists());
}

#[tokio::test]
async fn serve_parks_what_is_not_configured_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let settings: HashMap<String, String> = complete()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("KENTICO_"))
        .collect();
    let env = |name: &str| settings.get(name).cloned();

    let parts = build(&serve_env(&env, dir.path()))
        .await
        .expect("serve starts");

    assert!(parts.ingress[&Source::Stripe].is_ok());
    let why = parts.ingress[&Source::Kentico]
        .as_ref()
        .err()
        .expect("parked");
    assert!(why.contains("KENTICO_WEBHOOK_SECRETS"), "{why}");
    for (kind, processor) in &parts.workers {
        let why = processor
            .as_ref()
            .err()
            .expect("both workers wait for Kentico");
        assert!(
            why.starts_with("waiting: not configured"),
            "{}: {why}",
            kind.name()
        );
    }
}

#[tokio::test]
async fn operator_commands_open_the_store_serve_writes() {
    let dir = tempfile::tempdir().unwrap();
    let env = |_: &str| None;
    let serve = serve_env(&env, dir.path());
    let backend = operator_backend(&serve).await.expect("opens");
    assert_eq!(backend.name(), "embedded");
    assert!(
        backend
            .dead_letters()
            .list(None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(backend.links().by_order(1).await.unwrap().is_none());
    assert!(
        backend
            .journal()
            .entries("order:1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(backend.check_state().await.is_ok());
}

#[tokio::test]
async fn the_aws_backend_is_chosen_by_an_endpoint_and_needs_every_name() {
    let dir = tempfile::tempdir().unwrap();
    let env = |name: &str| (name == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:9".to_string());
    let serve = serve_env(&env, dir.path());
    assert_eq!(serve.backend_kind(), BackendKind::Aws);
    let Err(StartupError::Config(error)) = operator_backend(&serve).await else {
        panic!("opened AWS without its names")
    };
    assert_eq!(error.problems.len(), 6, "{error}");
}

/// A Secrets Manager that answers every ARN with one value.
struct OneSecret(&'static str);

#[async_trait::async_trait]
impl super::secrets::SecretsReader for OneSecret {
    async fn read(
        &self,
        _arn: &str,
    ) -> Result<crate::secret::SecretString, super::secrets::SecretsError> {
        Ok(crate::secret::SecretString::new(self.0))
    }
}

/// Connects the clients of a worker whose Stripe key is read by ARN and turns out to be `key`,
/// with `STRIPE_MODE` set to `mode`, if any.
async fn connect_with_key_from_secrets_manager(
    mode: Option<&'static str>,
    key: &'static str,
) -> Result<super::clients::Clients, crate::config::StartupError> {
    let env = move |name: &str| {
        let value = match name {
            "STRIPE_SECRET_KEY_SECRET_ARN" => "arn:aws:secretsmanager:eu-west-1:1:secret:stripe",
            "STRIPE_MODE" => return mode.map(str::to_string),
            "KENTICO_BASE_URL" => "https://admin.shop.example",
            "KENTICO_USERNAME" => "paybridge",
            "KENTICO_PASSWORD" => "kentico-pass",
            _ => return None,
        };
        Some(value.to_string())
    };
    let (_, connectors) = crate::config::worker::serve_settings(&env).unwrap();
    super::clients::Clients::connect(
        &connectors,
        &super::secrets::Secrets::new(Arc::new(OneSecret(key))),
        crate::metrics::CallLatency::default(),
        Arc::new(FixedClock::at_unix(1_764_417_600)),
        None,
    )
    .await
}

#[tokio::test]
async fn a_placeholder_stripe_key_from_secrets_manager_is_refused_at_start_up() {
    let connect = |key| connect_with_key_from_secrets_manager(None, key);
    // What the template's GenerateSecretString leaves there until the operator replaces it.
    let Err(refused) = connect("aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE1fG3").await else {
        panic!("a placeholder key must not start a worker");
    };
    let text = refused.to_string();
    assert!(
        text.contains("does not look like a Stripe secret"),
        "{text}"
    );
    assert!(!text.contains("aB3dE5"), "the value is never shown: {text}");
    assert!(connect("sk_test_51placeholderreplaced").await.is_ok());
}

#[tokio::test]
async fn a_stripe_key_of_the_other_mode_from_secrets_manager_is_refused_at_start_up() {
    let connect = |key| connect_with_key_from_secrets_manager(Some("live"), key);
    let Err(refused) = connect("sk_test_51stillthetestkey").await else {
        panic!("a test key must not start a live deployment");
    };
    let text = refused.to_string();
    assert!(
        text.contains("STRIPE_MODE=live but STRIPE_SECRET_KEY is a test-mode key"),
        "{text}"
    );
    assert!(!text.contains("51stillthetestkey"), "{text}");
    assert!(connect("rk_live_51thelivekey").await.is_ok());
}

#[cfg(feature = "embedded")]
#[tokio::test]
async fn a_lost_journal_key_stops_the_embedded_store_instead_of_being_replaced() {
    use crate::journal::JournalEntry;
    let dir = tempfile::tempdir().unwrap();
    let backend = super::Backend::embedded(dir.path(), 25).unwrap();
    let entry = JournalEntry {
        at: "2026-12-01T00:00:00Z".into(),
        source: "stripe".into(),
        event_id: "evt_sealed".into(),
        event_type: "payment_intent.succeeded".into(),
        worker: "payment-worker".into(),
        outcome: "done".into(),
        detail: String::new(),
        receive_count: 1,
    };
    (backend.journal())
        .record("order:1", &entry, "{\"email\":\"ada@example.com\"}")
        .await
        .unwrap();
    drop(backend);
    // Reopened with its key: the envelope reads.
    let reopened = super::Backend::embedded(dir.path(), 25).unwrap();
    assert!(
        reopened
            .journal()
            .envelope("stripe", "evt_sealed")
            .await
            .unwrap()
            .is_some()
    );
    drop(reopened);

    std::fs::remove_file(dir.path().join(super::backend::JOURNAL_KEY_FILE)).unwrap();
    let Err(refused) = super::Backend::embedded(dir.path(), 25) else {
        panic!("a new key would make every sealed envelope unreadable");
    };
    let text = refused.to_string();
    assert!(text.contains("journal.key is missing"), "{text}");
    assert!(!dir.path().join(super::backend::JOURNAL_KEY_FILE).exists());
}
