//! Secrets, resolved in one place: a value given in its plain variable is used as it is; one
//! given by ARN is read from AWS Secrets Manager at start-up (a JSON secret gives the field named
//! like the plain variable). Nothing else in paybridge reads a secret.

use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::config::ingress::{
    IngressVariables, SecretList, add_webhook_secret, parse_webhook_secrets,
};
use crate::config::ledger::VAR_QUICKBOOKS_REFRESH_TOKEN;
use crate::config::{ConfigError, SecretSetting, SecretValue, StartupError};
use crate::ledger::tokens::{RefreshTokenStore, TokenStoreError};
use crate::secret::SecretString;
use crate::webhook::Source;

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
    /// The store refused a new value.
    #[error("could not write secret {arn}: {reason}")]
    Unwritable {
        /// The secret's ARN or name.
        arn: String,
        /// What the store said.
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

/// A rotating OAuth2 refresh token in a Secrets Manager secret: read with `GetSecretValue`,
/// each rotation written with `PutSecretValue` (a new version of the same secret). The secret
/// holds the token as text, or a JSON object with it under `QUICKBOOKS_REFRESH_TOKEN`.
pub struct SecretsManagerRefreshTokens {
    client: Client,
    arn: String,
    /// The secret's other fields when it holds JSON, so a save keeps them.
    json: std::sync::Mutex<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl SecretsManagerRefreshTokens {
    /// The token in secret `arn`.
    pub fn new(client: Client, arn: impl Into<String>) -> Self {
        Self {
            client,
            arn: arn.into(),
            json: std::sync::Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl RefreshTokenStore for SecretsManagerRefreshTokens {
    async fn load(&self) -> Result<SecretString, TokenStoreError> {
        let raw = SecretsManagerReader::new(self.client.clone())
            .read(&self.arn)
            .await
            .map_err(|e| TokenStoreError::Unavailable(e.to_string()))?;
        let token = secret_text(&raw, VAR_QUICKBOOKS_REFRESH_TOKEN)
            .map_err(|e| TokenStoreError::Unavailable(format!("secret {}: {e}", self.arn)))?;
        let shape =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.expose());
        *self
            .json
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = shape.ok();
        if token.expose().trim().is_empty() || token.expose().starts_with("REPLACE_ME") {
            return Err(TokenStoreError::Missing);
        }
        Ok(token)
    }

    async fn save(&self, token: &SecretString) -> Result<(), TokenStoreError> {
        let shape = self
            .json
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let text = match shape {
            Some(mut fields) => {
                let value = serde_json::Value::String(token.expose().to_string());
                fields.insert(VAR_QUICKBOOKS_REFRESH_TOKEN.to_string(), value);
                serde_json::Value::Object(fields).to_string()
            }
            None => token.expose().to_string(),
        };
        self.client
            .put_secret_value()
            .secret_id(&self.arn)
            .secret_string(text)
            .send()
            .await
            .map_err(|e| TokenStoreError::Unavailable(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}

/// Secrets Manager with the default AWS configuration, loaded on the first read and kept.
#[derive(Default)]
struct LazySecretsManager {
    reader: tokio::sync::OnceCell<SecretsManagerReader>,
}

#[async_trait::async_trait]
impl SecretsReader for LazySecretsManager {
    async fn read(&self, arn: &str) -> Result<SecretString, SecretsError> {
        let reader = self
            .reader
            .get_or_init(|| async {
                SecretsManagerReader::new(Client::new(&aws_config::load_from_env().await))
            })
            .await;
        reader.read(arn).await
    }
}

/// Where secrets given by ARN are read.
#[derive(Clone)]
pub struct Secrets {
    reader: Arc<dyn SecretsReader>,
    /// The AWS configuration to write secrets with (a Lambda's own); else the default one.
    sdk: Option<aws_config::SdkConfig>,
}

impl Secrets {
    /// Reads through `reader` (a Lambda: Secrets Manager with the function's SDK configuration).
    pub fn new(reader: Arc<dyn SecretsReader>) -> Self {
        Self { reader, sdk: None }
    }

    /// Reads from Secrets Manager with `sdk` (a Lambda: the function's own configuration).
    pub fn secrets_manager(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            reader: Arc::new(SecretsManagerReader::new(Client::new(sdk))),
            sdk: Some(sdk.clone()),
        }
    }

    /// Reads from Secrets Manager with the default AWS configuration, loaded only when a secret
    /// is actually given by ARN: a purely local `serve` never touches AWS.
    pub fn from_environment() -> Self {
        Self::new(Arc::new(LazySecretsManager::default()))
    }

    /// The rotating refresh token kept in secret `arn`.
    pub async fn refresh_tokens(&self, arn: &str) -> Arc<dyn RefreshTokenStore> {
        let sdk = match &self.sdk {
            Some(sdk) => sdk.clone(),
            None => aws_config::load_from_env().await,
        };
        Arc::new(SecretsManagerRefreshTokens::new(Client::new(&sdk), arn))
    }

    async fn read(&self, arn: &str) -> Result<SecretString, StartupError> {
        (self.reader.read(arn).await).map_err(|e| StartupError::Secret(e.to_string()))
    }

    /// The secret's text.
    pub async fn value(&self, value: &SecretValue) -> Result<SecretString, StartupError> {
        match value {
            SecretValue::Plain(secret) => Ok(secret.clone()),
            SecretValue::SecretsManager { arn, key } => {
                let raw = self.read(arn).await?;
                secret_text(&raw, key)
                    .map_err(|reason| StartupError::Secret(format!("secret {arn}: {reason}")))
            }
        }
    }

    /// `source`'s webhook signing secrets, checked like the plain variable's.
    pub async fn webhook_secrets(
        &self,
        source: Source,
        setting: &SecretSetting,
    ) -> Result<Vec<SecretString>, StartupError> {
        match setting {
            SecretSetting::Plain(secrets) => Ok(secrets.clone()),
            SecretSetting::SecretsManager { arn } => {
                let value = self
                    .value(&SecretValue::SecretsManager {
                        arn: arn.clone(),
                        key: IngressVariables::of(source).secrets.to_string(),
                    })
                    .await?;
                parse_webhook_secrets(source, &format!("secret {arn}"), value.expose())
                    .map_err(|problems| StartupError::Config(ConfigError { problems }))
            }
        }
    }
}

/// A source's webhook signing secrets in a Secrets Manager secret (the template's
/// `paybridge/<stage>/stripe-webhook-secret`), as `paybridge setup` adds one: the value the
/// ingress reads, in the shape it already has — a comma-separated list, or a JSON object whose
/// field named like the plain variable holds it (its other fields kept).
pub struct WebhookSecretStore {
    client: Client,
    secret_id: String,
    source: Source,
    /// The secret's JSON fields, when it holds JSON.
    json: Option<serde_json::Map<String, serde_json::Value>>,
    /// The list it holds now (`None`: a JSON value without the field).
    list: Option<SecretString>,
}

impl WebhookSecretStore {
    /// Reads secret `secret_id` (an ARN or a name) with the default AWS configuration: before
    /// anything is created, so a secret that cannot be read stops the command first.
    pub async fn open(secret_id: &str, source: Source) -> Result<Self, SecretsError> {
        let client = Client::new(&aws_config::load_from_env().await);
        let raw = SecretsManagerReader::new(client.clone())
            .read(secret_id)
            .await?;
        let field = IngressVariables::of(source).secrets;
        let text = raw.expose().trim();
        let (json, list) = if text.starts_with('{') {
            let fields = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map_err(|_| SecretsError::Unusable {
                arn: secret_id.to_string(),
                reason: "it looks like JSON but does not parse".to_string(),
            })?;
            let list = secret_text(&raw, field).ok();
            (Some(fields), list)
        } else {
            (None, Some(SecretString::new(text)))
        };
        Ok(Self {
            client,
            secret_id: secret_id.to_string(),
            source,
            json,
            list,
        })
    }

    /// Adds `new` to the secrets kept (`PutSecretValue`, a new version of the same secret).
    pub async fn add(&self, new: &SecretString) -> Result<SecretList, SecretsError> {
        let existing = self.list.as_ref().map(SecretString::expose);
        let list = add_webhook_secret(self.source, existing, new);
        let text = match &self.json {
            Some(fields) => {
                let mut fields = fields.clone();
                let field = IngressVariables::of(self.source).secrets.to_string();
                let value = serde_json::Value::String(list.value.expose().to_string());
                fields.insert(field, value);
                serde_json::Value::Object(fields).to_string()
            }
            None => list.value.expose().to_string(),
        };
        self.client
            .put_secret_value()
            .secret_id(&self.secret_id)
            .secret_string(text)
            .send()
            .await
            .map_err(|e| SecretsError::Unwritable {
                arn: self.secret_id.clone(),
                reason: DisplayErrorContext(&e).to_string(),
            })?;
        Ok(list)
    }

    /// Whether the secret holds at least one secret the ingress would take.
    pub fn holds_a_secret(&self) -> bool {
        let variable = IngressVariables::of(self.source).secrets;
        (self.list.as_ref())
            .is_some_and(|list| parse_webhook_secrets(self.source, variable, list.expose()).is_ok())
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

    struct OneSecret(&'static str);

    #[async_trait::async_trait]
    impl SecretsReader for OneSecret {
        async fn read(&self, _arn: &str) -> Result<SecretString, SecretsError> {
            Ok(SecretString::new(self.0))
        }
    }

    #[tokio::test]
    async fn webhook_secrets_by_arn_are_checked_like_the_plain_variable() {
        let arn = SecretSetting::SecretsManager {
            arn: "arn:aws:secretsmanager:eu-west-1:1:secret:x".into(),
        };
        let good = Secrets::new(Arc::new(OneSecret(
            r#"{"STRIPE_WEBHOOK_SECRETS":"whsec_a,whsec_b"}"#,
        )));
        assert_eq!(
            good.webhook_secrets(Source::Stripe, &arn)
                .await
                .unwrap()
                .len(),
            2
        );
        let api_key = Secrets::new(Arc::new(OneSecret("sk_live_oops")));
        let error = api_key
            .webhook_secrets(Source::Stripe, &arn)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("does not start with whsec_"),
            "{error}"
        );
        assert!(!error.to_string().contains("sk_live_oops"));
    }

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
