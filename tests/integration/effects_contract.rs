//! The effect store's contract on a real DynamoDB API (moto): first value wins, for good.

use integration_tests::{dynamodb, moto};
use paybridge::effects::DynamoDbEffectStore;

#[tokio::test]
async fn the_dynamodb_effect_store_keeps_the_effect_store_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::effects::contract::run_all(&DynamoDbEffectStore::new(client, table)).await;
}
