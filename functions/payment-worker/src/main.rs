//! Lambda: Stripe PaymentIntent events → Kentico order statuses (paybridge::flows::payment_events).
//! Its SQS trigger must report batch item failures (`ReportBatchItemFailures`).

use paybridge::config::worker::WorkerKind;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let processor = paybridge::app::lambda::worker(WorkerKind::Payment).await?;
    paybridge::worker::lambda::run(processor).await
}
