//! Lambda: verifies Kentico webhooks and enqueues them to SQS. The library decides; this wires.

use paybridge::ingress::lambda;
use paybridge::webhook::Source;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let handler = lambda::bootstrap(Source::Kentico).await?;
    lambda::run(handler).await
}
