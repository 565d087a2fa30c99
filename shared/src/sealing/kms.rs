//! Data keys from AWS KMS: `GenerateDataKey` (AES-256) under the deployment's key, `Decrypt`
//! to unwrap, both with the encryption context `{"paybridge": "<purpose>"}` so a key made for
//! one purpose is refused for another (and CloudTrail shows which).

use aws_sdk_kms::Client;
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use super::{DataKey, DataKeys, SealError};

/// The KMS adapter.
#[derive(Debug, Clone)]
pub struct KmsDataKeys {
    client: Client,
    key_id: String,
    purpose: &'static str,
}

impl KmsDataKeys {
    /// Data keys under `key_id` (an id, ARN or alias) for `purpose` (e.g. `journal`).
    pub fn new(client: Client, key_id: impl Into<String>, purpose: &'static str) -> Self {
        Self {
            client,
            key_id: key_id.into(),
            purpose,
        }
    }

    fn failed(&self, action: &str, error: impl std::error::Error) -> SealError {
        SealError::Keys(format!(
            "KMS {action} with key {}: {}",
            self.key_id,
            DisplayErrorContext(error)
        ))
    }
}

#[async_trait::async_trait]
impl DataKeys for KmsDataKeys {
    async fn generate(&self) -> Result<DataKey, SealError> {
        let answer = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context("paybridge", self.purpose)
            .send()
            .await
            .map_err(|e| self.failed("GenerateDataKey", e))?;
        match (answer.plaintext, answer.ciphertext_blob) {
            (Some(plaintext), Some(wrapped)) => Ok(DataKey {
                plaintext: plaintext.into_inner(),
                wrapped: wrapped.into_inner(),
            }),
            _ => Err(SealError::Keys(
                "KMS GenerateDataKey answered without the key".into(),
            )),
        }
    }

    async fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, SealError> {
        let answer = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .encryption_context("paybridge", self.purpose)
            .send()
            .await
            .map_err(|e| {
                let refused = e.as_service_error().is_some_and(|s| {
                    s.is_invalid_ciphertext_exception() || s.is_incorrect_key_exception()
                });
                if refused {
                    SealError::Corrupt(format!(
                        "KMS key {} cannot unwrap this data key (another key or purpose)",
                        self.key_id
                    ))
                } else {
                    self.failed("Decrypt", e)
                }
            })?;
        answer
            .plaintext
            .map(Blob::into_inner)
            .ok_or_else(|| SealError::Keys("KMS Decrypt answered without the key".into()))
    }
}
