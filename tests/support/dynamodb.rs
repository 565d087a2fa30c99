//! DynamoDB helpers: a fresh idempotency table shaped like template.yaml's.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};

/// Creates a table keyed by `pk` (string), on-demand, TTL on `expiration`; returns its name.
pub async fn create_idempotency_table(client: &Client) -> String {
    let name = crate::unique_name("idempotency");
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("moto creates the table");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expiration")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("moto enables TTL");
    name
}

/// Creates a ledger table shaped like template.yaml's `LedgerTable` (partition key `day`, sort
/// key `id`, on demand); returns its name.
pub async fn create_ledger_table(client: &Client) -> String {
    let name = crate::unique_name("ledger");
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("day"))
        .attribute_definitions(attribute("id"))
        .key_schema(key("day", KeyType::Hash))
        .key_schema(key("id", KeyType::Range))
        .send()
        .await
        .expect("moto creates the table");
    name
}
