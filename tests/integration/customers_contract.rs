//! The customer link store's contract on a real DynamoDB API (moto): the link and its Stripe
//! index written in one transaction.

use integration_tests::{dynamodb, moto};
use paybridge::customers::DynamoDbCustomerLinkStore;

#[tokio::test]
async fn the_dynamodb_customer_link_store_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;

    paybridge::customers::contract::run_all(&DynamoDbCustomerLinkStore::new(client, table)).await;
}
