//! Runs an [`IngressHandler`] as a Lambda behind API Gateway (HTTP API, payload v2).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::{IngressHandler, IngressResponse};
use crate::clock::{Clock, SystemClock};
use crate::config::secrets::{SecretsManagerReader, SecretsReader, secret_text};
use crate::config::{
    ConfigError, IngressConfig, IngressVariables, SecretSetting, parse_webhook_secrets,
};
use crate::metrics::{EmfMetrics, Metrics};
use crate::queue::SqsQueuePublisher;
use crate::webhook::{SignatureVerifier, Source};

pub use crate::config::StartupError;

/// Builds the ingress for `source` from the process environment and the default AWS
/// configuration (region, credentials and `AWS_ENDPOINT_URL` from the environment).
pub async fn bootstrap(source: Source) -> Result<IngressHandler, StartupError> {
    let env = |name: &str| std::env::var(name).ok();
    let sdk_config = aws_config::load_from_env().await;
    let result = bootstrap_with(
        source,
        &env,
        &sdk_config,
        Arc::new(EmfMetrics),
        Arc::new(SystemClock),
    )
    .await;
    if let Err(error) = &result {
        tracing::error!(source = %source, error = %error, "cannot start");
    }
    result
}

/// Builds the ingress for `source` from `env` and `sdk_config`: what [`bootstrap`] does,
/// with the environment, the metrics sink and the clock given (tests, `serve`).
pub async fn bootstrap_with(
    source: Source,
    env: &dyn Fn(&str) -> Option<String>,
    sdk_config: &aws_config::SdkConfig,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
) -> Result<IngressHandler, StartupError> {
    let config = IngressConfig::from_env(source, env)?;
    let secrets = match config.webhook_secrets {
        SecretSetting::Plain(secrets) => secrets,
        SecretSetting::SecretsManager { arn } => {
            let reader = SecretsManagerReader::new(aws_sdk_secretsmanager::Client::new(sdk_config));
            let variable = IngressVariables::of(source).secrets;
            let value = reader
                .read(&arn)
                .await
                .map_err(|e| StartupError::Secret(e.to_string()))?;
            let text = secret_text(&value, variable)
                .map_err(|reason| StartupError::Secret(format!("secret {arn}: {reason}")))?;
            parse_webhook_secrets(source, &format!("secret {arn}"), text.expose())
                .map_err(|problems| StartupError::Config(ConfigError { problems }))?
        }
    };
    let queue = SqsQueuePublisher::new(aws_sdk_sqs::Client::new(sdk_config), config.queue_url);
    Ok(IngressHandler::new(
        source,
        SignatureVerifier::new(secrets, config.tolerance_seconds),
        Arc::new(queue),
        metrics,
        clock,
        config.max_message_bytes,
    ))
}

/// Serves `handler` on the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`) until the sandbox ends.
pub async fn run(handler: IngressHandler) -> Result<(), lambda_http::Error> {
    let handler = Arc::new(handler);
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let handler = handler.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&handler, request).await) }
    }))
    .await
}

/// Handles one API Gateway request in-process: what the Lambda does per invocation.
pub async fn handle(handler: &IngressHandler, request: Request) -> Response<Body> {
    let body: &[u8] = request.body().as_ref();
    let response = handler
        .handle_http(request.method().as_str(), request.headers(), body)
        .await;
    to_http(&response)
}

fn to_http(response: &IngressResponse) -> Response<Body> {
    let mut builder = Response::builder()
        .status(response.status)
        .header("content-type", "application/json");
    if response.status == 405 {
        builder = builder.header("allow", "POST");
    }
    builder
        .body(Body::from(response.body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::from("{}")))
}
