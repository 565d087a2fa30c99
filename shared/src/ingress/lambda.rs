//! Runs an [`IngressHandler`] as a Lambda behind API Gateway (HTTP API, payload v2); the
//! handler itself is built by the composition root (`crate::app::lambda`).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::{IngressHandler, IngressResponse};

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
    handler.metrics.flush();
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
