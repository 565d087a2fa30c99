//! The journal with its envelopes sealed: event payloads (names, e-mails, addresses, phone
//! numbers) are at rest only encrypted ([`crate::sealing`]); entries (ids, outcomes, reasons)
//! stay readable. Each envelope is bound to its source and event id. An envelope over
//! [`COMPRESS_ABOVE`] bytes is compressed (gzip) before it is sealed, so a large event stays
//! small at rest. An envelope stored before sealing began is read as it is, until retention
//! deletes it.

use std::io::{Read, Write};

use std::sync::Arc;

use super::{EventJournal, JournalEntry};
use crate::sealing::{EnvelopeSealer, SealError};
use crate::store::StoreError;

/// Envelopes longer than this, in bytes, are compressed before they are sealed.
pub const COMPRESS_ABOVE: usize = 4_096;

/// The most an opened envelope may inflate to: a queue message is at most 1 MiB, so anything
/// larger is not one of ours (a compression bomb is refused, not inflated).
const MAX_INFLATED_BYTES: u64 = 4 << 20;

/// The first bytes of a gzip stream; JSON never starts with them.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn compress(envelope: &str) -> Result<Vec<u8>, StoreError> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    (encoder.write_all(envelope.as_bytes()))
        .and_then(|()| encoder.finish())
        .map_err(|e| StoreError::Malformed(format!("compressing an envelope: {e}")))
}

/// The envelope in `plaintext`, inflated if it was compressed.
fn inflate(plaintext: Vec<u8>) -> Result<String, StoreError> {
    let bytes = if plaintext.starts_with(&GZIP_MAGIC) {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(plaintext.as_slice())
            .take(MAX_INFLATED_BYTES + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| {
                StoreError::Malformed(format!("a sealed envelope does not inflate: {e}"))
            })?;
        if inflated.len() as u64 > MAX_INFLATED_BYTES {
            return Err(StoreError::Malformed(format!(
                "a sealed envelope inflates past {MAX_INFLATED_BYTES} bytes"
            )));
        }
        inflated
    } else {
        plaintext
    };
    String::from_utf8(bytes)
        .map_err(|_| StoreError::Malformed("a sealed envelope is not UTF-8".into()))
}

/// A journal whose envelopes `sealer` seals before `inner` stores them.
pub struct SealedEventJournal {
    inner: Arc<dyn EventJournal>,
    sealer: Option<Arc<EnvelopeSealer>>,
    /// Without a sealer: the setting that would give one (named in the warning and errors).
    key_setting: &'static str,
}

impl SealedEventJournal {
    /// Seals what goes into `inner`.
    pub fn new(inner: Arc<dyn EventJournal>, sealer: Arc<EnvelopeSealer>) -> Self {
        Self {
            inner,
            sealer: Some(sealer),
            key_setting: "",
        }
    }

    /// Without a key (AWS without `JOURNAL_KMS_KEY_ID`, named by `key_setting`): envelopes are
    /// stored as they are (with a warning, once), and a sealed one found is an error that says
    /// which key to set.
    pub fn without_key(inner: Arc<dyn EventJournal>, key_setting: &'static str) -> Self {
        Self {
            inner,
            sealer: None,
            key_setting,
        }
    }
}

static UNSEALED_WARNING: std::sync::Once = std::sync::Once::new();

fn context(source: &str, event_id: &str) -> String {
    format!("journal:{source}:{event_id}")
}

fn store_error(error: SealError) -> StoreError {
    match error {
        SealError::Keys(detail) => StoreError::Unavailable(detail),
        SealError::Corrupt(detail) => StoreError::Malformed(detail),
    }
}

#[async_trait::async_trait]
impl EventJournal for SealedEventJournal {
    async fn record(
        &self,
        business_key: &str,
        entry: &JournalEntry,
        envelope: &str,
    ) -> Result<(), StoreError> {
        let Some(sealer) = &self.sealer else {
            UNSEALED_WARNING.call_once(|| {
                tracing::warn!(
                    variable = self.key_setting,
                    "no key for the journal: event payloads are stored unencrypted"
                );
            });
            return self.inner.record(business_key, entry, envelope).await;
        };
        let compressed;
        let plaintext = if envelope.len() > COMPRESS_ABOVE {
            compressed = compress(envelope)?;
            compressed.as_slice()
        } else {
            envelope.as_bytes()
        };
        let sealed = sealer
            .seal(plaintext, &context(&entry.source, &entry.event_id))
            .await
            .map_err(store_error)?;
        self.inner.record(business_key, entry, &sealed).await
    }

    async fn envelope(&self, source: &str, event_id: &str) -> Result<Option<String>, StoreError> {
        let Some(stored) = self.inner.envelope(source, event_id).await? else {
            return Ok(None);
        };
        if !EnvelopeSealer::is_sealed(&stored) {
            return Ok(Some(stored));
        }
        let Some(sealer) = &self.sealer else {
            return Err(StoreError::Malformed(format!(
                "the envelope of {source} {event_id} is sealed: set {} to the stack's JournalKeyArn (and have kms:Decrypt on it)",
                self.key_setting
            )));
        };
        let plaintext = sealer
            .open(&stored, &context(source, event_id))
            .await
            .map_err(store_error)?;
        inflate(plaintext).map(Some)
    }

    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError> {
        self.inner.entries(business_key).await
    }

    // Entries are not sealed (only envelopes are).
    async fn recent(
        &self,
        since_ms: i64,
        limit: usize,
    ) -> Result<Vec<super::RecentEntry>, StoreError> {
        self.inner.recent(since_ms, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::InMemoryEventJournal;
    use crate::sealing::FileDataKeys;

    #[tokio::test]
    async fn passes_the_journal_contract_and_stores_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let keys = FileDataKeys::open_or_create(&dir.path().join("journal.key")).unwrap();
        let sealer = Arc::new(EnvelopeSealer::new(Arc::new(keys)));
        let inner = Arc::new(InMemoryEventJournal::default());
        let journal = SealedEventJournal::new(inner.clone(), sealer);
        crate::journal::contract::run_all(&journal).await;

        let entry = JournalEntry {
            at: "2026-12-01T00:00:00Z".into(),
            source: "kentico".into(),
            event_id: "e-pii".into(),
            event_type: "ecommerce.order.created".into(),
            worker: "order".into(),
            outcome: "done".into(),
            detail: String::new(),
            receive_count: 1,
        };
        let envelope = r#"{"payload":{"email":"ada@example.com"}}"#;
        journal.record("order:1", &entry, envelope).await.unwrap();
        let stored = inner.envelope("kentico", "e-pii").await.unwrap().unwrap();
        assert!(EnvelopeSealer::is_sealed(&stored) && !stored.contains("ada@"));
        assert_eq!(
            journal
                .envelope("kentico", "e-pii")
                .await
                .unwrap()
                .as_deref(),
            Some(envelope)
        );
        // Without the key, a sealed envelope says which key to set.
        let keyless = SealedEventJournal::without_key(inner.clone(), "JOURNAL_KMS_KEY_ID");
        let refused = keyless.envelope("kentico", "e-pii").await.unwrap_err();
        assert!(
            refused.to_string().contains("set JOURNAL_KMS_KEY_ID"),
            "{refused}"
        );
        // An envelope kept before sealing began still reads.
        let mut old = entry.clone();
        old.event_id = "e-old".into();
        inner
            .record("order:1", &old, "{\"clear\":1}")
            .await
            .unwrap();
        assert_eq!(
            journal
                .envelope("kentico", "e-old")
                .await
                .unwrap()
                .as_deref(),
            Some("{\"clear\":1}")
        );
    }

    #[tokio::test]
    async fn a_large_envelope_is_compressed_before_sealing_and_a_bomb_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = FileDataKeys::open_or_create(&dir.path().join("journal.key")).unwrap();
        let sealer = Arc::new(EnvelopeSealer::new(Arc::new(keys)));
        let inner = Arc::new(InMemoryEventJournal::default());
        let journal = SealedEventJournal::new(inner.clone(), sealer.clone());
        let mut entry = JournalEntry {
            at: "2026-12-01T00:00:00Z".into(),
            source: "kentico".into(),
            event_id: "e-big".into(),
            event_type: "ecommerce.order.created".into(),
            worker: "order".into(),
            outcome: "done".into(),
            detail: String::new(),
            receive_count: 1,
        };
        let items = r#"{"OrderItemSKUName":"Espresso cups","OrderItemUnitCount":2},"#.repeat(5_000);
        let envelope = format!(r#"{{"payload":{{"items":[{items}{{}}]}}}}"#);
        journal.record("order:1", &entry, &envelope).await.unwrap();
        let stored = inner.envelope("kentico", "e-big").await.unwrap().unwrap();
        assert!(
            stored.len() * 10 < envelope.len(),
            "{} sealed bytes for a {} byte envelope",
            stored.len(),
            envelope.len()
        );
        assert_eq!(
            journal.envelope("kentico", "e-big").await.unwrap(),
            Some(envelope)
        );

        // 16 MiB of zeros in a few KiB: refused when opened, not inflated.
        let bomb = compress(&"\0".repeat(16 << 20)).unwrap();
        entry.event_id = "e-bomb".into();
        let sealed = sealer
            .seal(&bomb, &context("kentico", "e-bomb"))
            .await
            .unwrap();
        inner.record("order:1", &entry, &sealed).await.unwrap();
        let refused = journal.envelope("kentico", "e-bomb").await.unwrap_err();
        assert!(refused.to_string().contains("inflates past"), "{refused}");
    }
}
