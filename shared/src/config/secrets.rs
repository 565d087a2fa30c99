//! Reading secrets from AWS Secrets Manager at cold start.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::secret::SecretString;

/// A secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The store failed or refused (permissions, network, missing secret).
    #[error("could not read secret {arn}: {reason}")]
    Unreadable {
        /// The secret's ARN.
        arn: String,
        /// What the store said.
        reason: String,
    },
    /// The secret exists but holds no usable text.
    #[error("secret {arn} holds no usable value: {reason}")]
    Unusable {
        /// The secret's ARN.
        arn: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads one secret's text by ARN.
#[async_trait::async_trait]
pub trait SecretsReader: Send + Sync {
    /// The secret's `SecretString`.
    async fn read(&self, arn: &str) -> Result<SecretString, SecretsError>;
}

/// Reads secrets with `GetSecretValue`.
#[derive(Debug, Clone)]
pub struct SecretsManagerReader {
    client: Client,
}

impl SecretsManagerReader {
    /// A reader using an already configured client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait::async_trait]
impl SecretsReader for SecretsManagerReader {
    async fn read(&self, arn: &str) -> Result<SecretString, SecretsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| SecretsError::Unreadable {
                arn: arn.to_string(),
                reason: DisplayErrorContext(&e).to_string(),
            })?;
        output
            .secret_string
            .map(SecretString::new)
            .ok_or_else(|| SecretsError::Unusable {
                arn: arn.to_string(),
                reason: "it has no SecretString (binary secrets are not supported)".to_string(),
            })
    }
}

/// The text of a secret value: either the value itself, or, when the value is a JSON object,
/// its string field named `key` (the plain variable's name, e.g. `STRIPE_WEBHOOK_SECRETS`).
pub fn secret_text(value: &SecretString, key: &str) -> Result<SecretString, String> {
    let raw = value.expose().trim();
    if !raw.starts_with('{') {
        return Ok(SecretString::new(raw));
    }
    let object: serde_json::Value = serde_json::from_str(raw)
        .map_err(|_| "it looks like JSON but does not parse".to_string())?;
    object
        .get(key)
        .and_then(serde_json::Value::as_str)
        .map(SecretString::new)
        .ok_or_else(|| format!("its JSON has no string field \"{key}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_a_plain_value_as_it_is() {
        let text = secret_text(
            &SecretString::new(" whsec_a,whsec_b\n"),
            "STRIPE_WEBHOOK_SECRETS",
        );
        assert_eq!(text.unwrap().expose(), "whsec_a,whsec_b");
    }

    #[test]
    fn takes_the_named_field_of_a_json_value() {
        let value = SecretString::new(r#"{"STRIPE_WEBHOOK_SECRETS":"whsec_a"}"#);
        assert_eq!(
            secret_text(&value, "STRIPE_WEBHOOK_SECRETS")
                .unwrap()
                .expose(),
            "whsec_a"
        );
        assert!(secret_text(&value, "OTHER").is_err());
    }
}
