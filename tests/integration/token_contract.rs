//! The rotating refresh token's store on a real Secrets Manager API (moto): read with
//! GetSecretValue, each rotation a PutSecretValue.

use integration_tests::moto;
use paybridge::app::secrets::SecretsManagerRefreshTokens;
use paybridge::ledger::tokens::{RefreshTokenStore, TokenStoreError};

#[tokio::test]
async fn the_secrets_manager_refresh_token_store_keeps_the_contract() {
    let client = aws_sdk_secretsmanager::Client::new(&moto::sdk_config().await);
    let create = |name: &str, value: &str| {
        client
            .create_secret()
            .name(integration_tests::unique_name(name))
            .secret_string(value)
            .send()
    };
    let arn = create("qb-token", "AB11-initial")
        .await
        .unwrap()
        .arn
        .unwrap();
    let store = SecretsManagerRefreshTokens::new(client.clone(), &arn);
    paybridge::ledger::tokens::contract::run_all(&store, "AB11-initial").await;

    let json = create(
        "qb-token-json",
        r#"{"QUICKBOOKS_REFRESH_TOKEN":"AB11-in-json"}"#,
    )
    .await
    .unwrap()
    .arn
    .unwrap();
    let store = SecretsManagerRefreshTokens::new(client.clone(), &json);
    assert_eq!(store.load().await.unwrap().expose(), "AB11-in-json");
    store
        .save(&paybridge::secret::SecretString::new("AB11-rotated"))
        .await
        .unwrap();
    let stored = client
        .get_secret_value()
        .secret_id(&json)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.secret_string(),
        Some(r#"{"QUICKBOOKS_REFRESH_TOKEN":"AB11-rotated"}"#),
        "a JSON secret stays JSON"
    );
    assert_eq!(store.load().await.unwrap().expose(), "AB11-rotated");

    let placeholder = create("qb-token-placeholder", "REPLACE_ME")
        .await
        .unwrap()
        .arn
        .unwrap();
    let store = SecretsManagerRefreshTokens::new(client, &placeholder);
    assert_eq!(store.load().await, Err(TokenStoreError::Missing));
}
