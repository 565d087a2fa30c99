//! The idempotency store's contract on a real DynamoDB API (moto): the conditional put, takeover
//! and expiry in the condition, the owner token.

use integration_tests::{dynamodb, moto};
use paybridge::idempotency::DynamoDbIdempotencyStore;
use paybridge::idempotency::contract;

#[tokio::test]
async fn the_dynamodb_idempotency_store_keeps_the_idempotency_store_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    contract::run_all(&DynamoDbIdempotencyStore::new(client, table)).await;
}
