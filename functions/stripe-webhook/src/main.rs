//! Lambda: verifies Stripe webhooks and enqueues them to SQS. The library decides; this wires.

use paybridge::webhook::Source;
use paybridge::{app, ingress};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let handler = app::lambda::ingress(Source::Stripe).await?;
    ingress::lambda::run(handler).await
}
