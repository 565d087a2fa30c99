//! The journal with its envelopes sealed: event payloads (names, e-mails, addresses, phone
//! numbers) are at rest only encrypted ([`crate::sealing`]); entries (ids, outcomes, reasons)
//! stay readable. Each envelope is bound to its source and event id. An envelope stored before
//! sealing began is read as it is, until retention deletes it.

use std::sync::Arc;

use super::{EventJournal, JournalEntry};
use crate::sealing::{EnvelopeSealer, SealError};
use crate::store::StoreError;

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
        let sealed = sealer
            .seal(
                envelope.as_bytes(),
                &context(&entry.source, &entry.event_id),
            )
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
        String::from_utf8(plaintext)
            .map(Some)
            .map_err(|_| StoreError::Malformed("a sealed envelope is not UTF-8".into()))
    }

    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError> {
        self.inner.entries(business_key).await
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
}
