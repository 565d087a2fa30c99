//! Start-up: secrets from Secrets Manager (moto) when no plain secret is set; every problem listed.

use std::sync::Arc;

use integration_tests::{apigw, moto, now_unix, sqs, unique_name};
use paybridge::app::LambdaEnv;
use paybridge::clock::SystemClock;
use paybridge::config::StartupError;
use paybridge::ingress::lambda::handle;
use paybridge::metrics::InMemoryMetrics;
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;

async fn create_secret(value: &str) -> String {
    let sdk = moto::sdk_config().await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(unique_name("webhook-secret"))
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret")
        .arn
        .expect("an ARN")
}

#[tokio::test]
async fn reads_the_webhook_secrets_from_secrets_manager_when_no_plain_secret_is_set() {
    let sdk = moto::sdk_config().await;
    let sqs_client = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs::create_queue(&sqs_client, "from-secret").await;
    let arn = create_secret(r#"{"STRIPE_WEBHOOK_SECRETS":"whsec_from_secrets_manager"}"#).await;
    let env = |k: &str| match k {
        "STRIPE_EVENTS_QUEUE_URL" => Some(queue_url.clone()),
        "STRIPE_WEBHOOK_SECRET_ARN" => Some(arn.clone()),
        _ => None,
    };
    let handler = paybridge::app::lambda::ingress_with(
        Source::Stripe,
        &LambdaEnv {
            env: &env,
            sdk: sdk.clone(),
            metrics: Arc::new(InMemoryMetrics::new()),
            clock: Arc::new(SystemClock),
        },
    )
    .await
    .expect("starts with the secret from Secrets Manager");
    let body = br#"{"id":"evt_sm","type":"charge.succeeded","created":1764417612}"#;
    let signature = sign_header(&["whsec_from_secrets_manager"], now_unix(), body);
    let event = apigw::event(
        "POST",
        "/webhooks/stripe",
        &[("stripe-signature", &signature)],
        body,
        false,
    );

    let response = handle(&handler, apigw::request(&event)).await;

    assert_eq!(response.status(), 202);
    assert_eq!(sqs::receive_all(&sqs_client, &queue_url).await.len(), 1);
}

#[tokio::test]
async fn refuses_to_start_with_an_unusable_secret_and_says_why() {
    let sdk = moto::sdk_config().await;
    let arn = create_secret("sk_live_not_a_signing_secret").await;
    let env = |k: &str| match k {
        "STRIPE_EVENTS_QUEUE_URL" => Some("http://queue".to_string()),
        "STRIPE_WEBHOOK_SECRET_ARN" => Some(arn.clone()),
        _ => None,
    };
    let result = paybridge::app::lambda::ingress_with(
        Source::Stripe,
        &LambdaEnv {
            env: &env,
            sdk: sdk.clone(),
            metrics: Arc::new(InMemoryMetrics::new()),
            clock: Arc::new(SystemClock),
        },
    )
    .await;
    let Err(error) = result else {
        panic!("started with an API key as webhook secret")
    };
    assert!(matches!(error, StartupError::Config(_)));
    let text = error.to_string();
    assert!(text.contains("does not start with whsec_"), "{text}");
    assert!(
        !text.contains("sk_live_not_a_signing_secret"),
        "leaked: {text}"
    );
}

#[tokio::test]
async fn refuses_to_start_when_the_secret_cannot_be_read() {
    let sdk = moto::sdk_config().await;
    let env = |k: &str| match k {
        "KENTICO_EVENTS_QUEUE_URL" => Some("http://queue".to_string()),
        "KENTICO_WEBHOOK_SECRET_ARN" => {
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf".to_string())
        }
        _ => None,
    };
    let result = paybridge::app::lambda::ingress_with(
        Source::Kentico,
        &LambdaEnv {
            env: &env,
            sdk: sdk.clone(),
            metrics: Arc::new(InMemoryMetrics::new()),
            clock: Arc::new(SystemClock),
        },
    )
    .await;
    let Err(StartupError::Secret(message)) = result else {
        panic!("expected a secret error")
    };
    assert!(message.contains("missing-AbCdEf"), "{message}");
}

#[tokio::test]
async fn lists_every_configuration_problem_in_one_error() {
    let sdk = moto::sdk_config().await;
    let env = |k: &str| match k {
        "WEBHOOK_TOLERANCE_SECONDS" => Some("five minutes".to_string()),
        _ => None,
    };
    let result = paybridge::app::lambda::ingress_with(
        Source::Kentico,
        &LambdaEnv {
            env: &env,
            sdk: sdk.clone(),
            metrics: Arc::new(InMemoryMetrics::new()),
            clock: Arc::new(SystemClock),
        },
    )
    .await;
    let Err(StartupError::Config(error)) = result else {
        panic!("expected a configuration error")
    };
    assert_eq!(error.problems.len(), 3, "{error}");
}
