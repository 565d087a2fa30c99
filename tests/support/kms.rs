//! KMS keys on the emulator.

use aws_sdk_kms::Client;

/// A new symmetric key; its ARN.
pub async fn create_key(client: &Client) -> String {
    client
        .create_key()
        .description(crate::unique_name("journal-key"))
        .send()
        .await
        .expect("moto creates the key")
        .key_metadata
        .and_then(|m| m.arn)
        .expect("an ARN")
}
