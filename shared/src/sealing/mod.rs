//! Envelope encryption of what paybridge keeps at rest: each payload is sealed with AES-256-GCM
//! under a data key, and the data key is kept only wrapped — by a KMS key in AWS
//! ([`KmsDataKeys`]), by a key file readable only by its owner for `serve` ([`FileDataKeys`]).
//! The sealed text names its wrapped data key, so any holder of the wrapping key opens it, and
//! it is bound to its context (e.g. the event it is the payload of): a sealed payload moved to
//! another event's row does not open.

pub mod file;
pub mod kms;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

pub use file::FileDataKeys;
pub use kms::KmsDataKeys;

/// What every sealed text starts with (version 1 of the format).
const PREFIX: &str = "pbenc1.";
/// A data key seals for at most this long; then a new one is asked for.
const DATA_KEY_MAX_AGE: Duration = Duration::from_secs(3_600);
/// Unwrapped data keys kept for opening; past this the cache starts over.
const MAX_OPENED_KEYS: usize = 64;
/// AES-256.
pub const DATA_KEY_BYTES: usize = 32;

/// Why a payload could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key service (KMS, the key file) failed or refused: may pass on retry.
    #[error("the data key service failed: {0}")]
    Keys(String),
    /// The sealed text is damaged, of another context, or of a key this deployment cannot
    /// unwrap: retrying cannot help.
    #[error("a sealed payload cannot be opened: {0}")]
    Corrupt(String),
}

/// A data key: its plaintext (used, never stored) and its wrapped form (stored with each
/// payload it sealed).
pub struct DataKey {
    /// The AES-256 key.
    pub plaintext: Vec<u8>,
    /// The same, encrypted under the wrapping key.
    pub wrapped: Vec<u8>,
}

/// Where data keys come from and are unwrapped: KMS, or a local key file.
#[async_trait::async_trait]
pub trait DataKeys: Send + Sync {
    /// A fresh data key.
    async fn generate(&self) -> Result<DataKey, SealError>;
    /// The plaintext of a wrapped data key.
    async fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, SealError>;
}

struct Current {
    key: Arc<LessSafeKey>,
    wrapped: Vec<u8>,
    since: Instant,
}

/// Seals and opens payloads, asking [`DataKeys`] for a data key once an hour and unwrapping
/// each stored data key once.
pub struct EnvelopeSealer {
    keys: Arc<dyn DataKeys>,
    current: tokio::sync::Mutex<Option<Current>>,
    opened: std::sync::Mutex<HashMap<Vec<u8>, Arc<LessSafeKey>>>,
    random: SystemRandom,
}

impl std::fmt::Debug for EnvelopeSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvelopeSealer")
    }
}

impl EnvelopeSealer {
    /// A sealer over `keys`.
    pub fn new(keys: Arc<dyn DataKeys>) -> Self {
        Self {
            keys,
            current: tokio::sync::Mutex::new(None),
            opened: std::sync::Mutex::new(HashMap::new()),
            random: SystemRandom::new(),
        }
    }

    /// Whether `text` is a sealed payload (anything else was stored before sealing began).
    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(PREFIX)
    }

    /// `plaintext` sealed and bound to `context`, as text.
    pub async fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, SealError> {
        let (key, wrapped) = self.current_key().await?;
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealError::Keys("the system random source failed".into()))?;
        let mut sealed = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| SealError::Keys("AES-GCM refused to seal".into()))?;
        Ok(format!(
            "{PREFIX}{}.{}.{}",
            B64.encode(&wrapped),
            B64.encode(nonce),
            B64.encode(&sealed)
        ))
    }

    /// The plaintext of a text [`Self::seal`] made with the same `context`.
    pub async fn open(&self, text: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let corrupt = |what: &str| SealError::Corrupt(what.to_string());
        let parts: Vec<&str> = (text.strip_prefix(PREFIX))
            .ok_or_else(|| corrupt("not a sealed payload"))?
            .split('.')
            .collect();
        let [wrapped, nonce, sealed] = parts[..] else {
            return Err(corrupt("not three parts"));
        };
        let decode = |part: &str| B64.decode(part).map_err(|_| corrupt("not base64url"));
        let (wrapped, nonce, mut sealed) = (decode(wrapped)?, decode(nonce)?, decode(sealed)?);
        let key = self.opening_key(&wrapped).await?;
        let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| corrupt("bad nonce"))?;
        let plaintext = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| corrupt("authentication failed (damaged, or of another context)"))?;
        Ok(plaintext.to_vec())
    }

    async fn current_key(&self) -> Result<(Arc<LessSafeKey>, Vec<u8>), SealError> {
        let mut current = self.current.lock().await;
        if let Some(found) = current.as_ref()
            && found.since.elapsed() < DATA_KEY_MAX_AGE
        {
            return Ok((found.key.clone(), found.wrapped.clone()));
        }
        let fresh = self.keys.generate().await?;
        let key = Arc::new(aes_key(&fresh.plaintext)?);
        self.remember(fresh.wrapped.clone(), key.clone());
        *current = Some(Current {
            key: key.clone(),
            wrapped: fresh.wrapped.clone(),
            since: Instant::now(),
        });
        Ok((key, fresh.wrapped))
    }

    async fn opening_key(&self, wrapped: &[u8]) -> Result<Arc<LessSafeKey>, SealError> {
        let known = self.lock_opened().get(wrapped).cloned();
        if let Some(key) = known {
            return Ok(key);
        }
        let key = Arc::new(aes_key(&self.keys.unwrap(wrapped).await?)?);
        self.remember(wrapped.to_vec(), key.clone());
        Ok(key)
    }

    fn remember(&self, wrapped: Vec<u8>, key: Arc<LessSafeKey>) {
        let mut opened = self.lock_opened();
        if opened.len() >= MAX_OPENED_KEYS {
            opened.clear();
        }
        opened.insert(wrapped, key);
    }

    fn lock_opened(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Arc<LessSafeKey>>> {
        // A panic while holding the lock leaves a usable cache: take it back.
        self.opened
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn aes_key(bytes: &[u8]) -> Result<LessSafeKey, SealError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| SealError::Corrupt(format!("a data key is not {DATA_KEY_BYTES} bytes")))
}

/// `n` random bytes from the system's source.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, SealError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SealError::Keys("the system random source failed".into()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
