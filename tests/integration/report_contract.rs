//! The reconciliation report store's contract on a real DynamoDB API (moto), in the state table.

use integration_tests::{dynamodb, moto};
use paybridge::reconcile::reports::DynamoDbReportStore;

#[tokio::test]
async fn the_dynamodb_report_store_keeps_the_report_store_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::reconcile::reports::contract::run_all(&DynamoDbReportStore::new(client, table))
        .await;
}
