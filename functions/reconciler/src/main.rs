//! Lambda: the reconciliation sweep (paybridge::reconcile), run by an EventBridge schedule;
//! heals through the payment worker's queue.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (sweep, window_hours) = paybridge::app::lambda::reconciler().await?;
    paybridge::reconcile::lambda::run(sweep, window_hours).await
}
