//! The mapping document store's contract on a real DynamoDB API (moto), in the state table.

use integration_tests::{dynamodb, moto};
use paybridge::mapping_doc::store::DynamoDbMappingStore;

#[tokio::test]
async fn the_dynamodb_mapping_store_keeps_the_mapping_store_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::mapping_doc::store::contract::run_all(&DynamoDbMappingStore::new(client, table))
        .await;
}
