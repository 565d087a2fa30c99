//! The order-link store's contract on a real DynamoDB API (moto): conditional writes, the
//! transactional index, leases.

use integration_tests::{dynamodb, moto};
use paybridge::links::DynamoDbOrderLinkStore;

#[tokio::test]
async fn the_dynamodb_link_store_keeps_the_link_store_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::links::contract::run_all(&DynamoDbOrderLinkStore::new(client, table)).await;
}
