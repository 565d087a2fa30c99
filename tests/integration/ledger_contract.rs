//! The ledger store's contract on a real DynamoDB API (moto): one conditional put per entry id,
//! one query per day.

use integration_tests::{dynamodb, moto};
use paybridge::ledger::DynamoDbLedgerStore;

#[tokio::test]
async fn the_dynamodb_ledger_store_keeps_the_ledger_store_contract() {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_ledger_table(&client).await;

    paybridge::ledger::contract::run_all(&DynamoDbLedgerStore::new(client, table)).await;
}
