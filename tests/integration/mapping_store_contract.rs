//! The mapping document store's contract on a real DynamoDB API (moto), in the state table, and
//! the items it writes there (docs/CONTRACTS.md, "Mapping document items").

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{dynamodb, moto};
use paybridge::mapping_doc::store::{DynamoDbMappingStore, MappingChange, MappingStore, contract};
use paybridge::store::StoreError;
use time::OffsetDateTime;

async fn table() -> (aws_sdk_dynamodb::Client, String) {
    let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
    let table = dynamodb::create_idempotency_table(&client).await;
    (client, table)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_796_119_200).unwrap()
}

async fn item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn n(value: &AttributeValue) -> &str {
    value.as_n().unwrap()
}

#[tokio::test]
async fn the_dynamodb_mapping_store_keeps_the_mapping_store_contract() {
    let (client, table) = table().await;

    // moto does not isolate concurrent transactions (see `Race::Sequential`): the race is run one
    // publish after the other, and the second must be refused by the conditions.
    let store = DynamoDbMappingStore::new(client, table);
    contract::run_all_with(&store, contract::Race::Sequential).await;
}

#[tokio::test]
async fn a_change_writes_the_documented_items() {
    let (client, table) = table().await;
    let store = DynamoDbMappingStore::new(client.clone(), table.clone());
    assert_eq!(
        store
            .publish("{}", "alice", "first", 0, now())
            .await
            .unwrap(),
        MappingChange::Done(1)
    );
    assert_eq!(
        store.activate(0, "bob", "back", 1, now()).await.unwrap(),
        MappingChange::Done(0)
    );

    let pointer = item(&client, &table, "mapping#active").await.unwrap();
    assert_eq!(n(&pointer["active"]), "0");
    assert_eq!(n(&pointer["highest"]), "1");
    assert_eq!(n(&pointer["changes"]), "2");
    let version = item(&client, &table, "mapping#v000001").await.unwrap();
    assert_eq!(version["document"].as_s().unwrap(), "{}");
    assert_eq!(
        version["created_at"].as_s().unwrap(),
        "2026-12-01T10:00:00.000Z"
    );
    assert!(!version.contains_key("expiration"), "versions never expire");
    let line = item(&client, &table, "mapping#audit#000002").await.unwrap();
    assert_eq!(line["action"].as_s().unwrap(), "activated");
    assert_eq!(n(&line["version"]), "0");
    assert_eq!(n(&line["previous"]), "1");
    assert_eq!(line["author"].as_s().unwrap(), "bob");
}

#[tokio::test]
async fn an_item_in_the_way_makes_a_change_give_up_without_writing() {
    let (client, table) = table().await;
    let store = DynamoDbMappingStore::new(client.clone(), table.clone());
    // An audit line where the next change would write its own: every attempt is cancelled
    // while version 0 stays active.
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("mapping#audit#000001".into()))
        .send()
        .await
        .unwrap();

    let refused = store.publish("{}", "alice", "", 0, now()).await;
    assert!(
        matches!(refused, Err(StoreError::ConditionFailed(_))),
        "{refused:?}"
    );
    assert_eq!(item(&client, &table, "mapping#active").await, None);
    assert_eq!(item(&client, &table, "mapping#v000001").await, None);
    assert_eq!(store.active().await.unwrap(), (0, None));
}

#[tokio::test]
async fn a_version_item_without_its_document_is_malformed() {
    let (client, table) = table().await;
    let store = DynamoDbMappingStore::new(client.clone(), table.clone());
    assert_eq!(
        store.publish("{}", "alice", "", 0, now()).await.unwrap(),
        MappingChange::Done(1)
    );
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("mapping#v000001".into()))
        .update_expression("REMOVE document")
        .send()
        .await
        .unwrap();

    assert!(matches!(
        store.active().await,
        Err(StoreError::Malformed(_))
    ));
    assert!(matches!(
        store.versions(5).await,
        Err(StoreError::Malformed(_))
    ));
}
