//! Sealing with the key-file adapter: round trips, context binding, tampering, key reuse.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Counts the calls to the wrapped key service.
struct Counting {
    inner: FileDataKeys,
    generated: AtomicUsize,
    unwrapped: AtomicUsize,
}

#[async_trait::async_trait]
impl DataKeys for Counting {
    async fn generate(&self) -> Result<DataKey, SealError> {
        self.generated.fetch_add(1, Ordering::SeqCst);
        self.inner.generate().await
    }
    async fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, SealError> {
        self.unwrapped.fetch_add(1, Ordering::SeqCst);
        self.inner.unwrap(wrapped).await
    }
}

fn keys(dir: &std::path::Path) -> Arc<Counting> {
    Arc::new(Counting {
        inner: FileDataKeys::open_or_create(&dir.join("journal.key")).unwrap(),
        generated: AtomicUsize::new(0),
        unwrapped: AtomicUsize::new(0),
    })
}

#[tokio::test]
async fn a_sealed_payload_opens_only_in_its_context_and_shows_nothing_of_the_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = EnvelopeSealer::new(keys(dir.path()));
    let payload = br#"{"email":"ada@example.com","phone":"+44 20 7946 0958"}"#;

    let sealed = sealer.seal(payload, "stripe:evt_1").await.unwrap();

    assert!(EnvelopeSealer::is_sealed(&sealed));
    assert!(!sealed.contains("ada@example.com") && !sealed.contains("7946"));
    assert_eq!(sealer.open(&sealed, "stripe:evt_1").await.unwrap(), payload);
    let moved = sealer.open(&sealed, "stripe:evt_2").await.unwrap_err();
    assert!(matches!(moved, SealError::Corrupt(_)), "{moved}");
    // Two seals of one payload differ (fresh nonce).
    assert_ne!(sealer.seal(payload, "stripe:evt_1").await.unwrap(), sealed);
}

#[tokio::test]
async fn a_tampered_payload_is_corrupt_not_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = EnvelopeSealer::new(keys(dir.path()));
    let sealed = sealer.seal(b"{\"amount\":100}", "c").await.unwrap();
    let (head, tail) = sealed.rsplit_once('.').unwrap();
    let mut bytes = B64.decode(tail).unwrap();
    bytes[0] ^= 1;
    let tampered = format!("{head}.{}", B64.encode(bytes));
    for text in [tampered.as_str(), "pbenc1.x.y", "pbenc1.a.b.c.d", "plain"] {
        let error = sealer.open(text, "c").await.unwrap_err();
        assert!(matches!(error, SealError::Corrupt(_)), "{text}: {error}");
    }
}

#[tokio::test]
async fn one_data_key_seals_many_payloads_and_each_is_unwrapped_once() {
    let dir = tempfile::tempdir().unwrap();
    let counting = keys(dir.path());
    let sealer = EnvelopeSealer::new(counting.clone());
    let mut sealed = Vec::new();
    for n in 0..20 {
        sealed.push(sealer.seal(format!("{n}").as_bytes(), "c").await.unwrap());
    }
    assert_eq!(counting.generated.load(Ordering::SeqCst), 1);

    // Another process with the same key file (an operator's `replay`) opens them all.
    let other_keys = keys(dir.path());
    let other = EnvelopeSealer::new(other_keys.clone());
    for (n, text) in sealed.iter().enumerate() {
        assert_eq!(
            other.open(text, "c").await.unwrap(),
            format!("{n}").as_bytes()
        );
    }
    assert_eq!(other_keys.unwrapped.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn another_key_file_cannot_open_and_says_so() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sealed = EnvelopeSealer::new(keys(a.path()))
        .seal(b"x", "c")
        .await
        .unwrap();
    let error = EnvelopeSealer::new(keys(b.path()))
        .open(&sealed, "c")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("another store's key file"),
        "{error}"
    );
}

#[cfg(unix)]
#[test]
fn the_key_file_is_created_private_and_a_readable_or_damaged_one_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.key");
    FileDataKeys::open_or_create(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read(&path).unwrap().len(), DATA_KEY_BYTES);
    // Reopening keeps the key.
    let before = std::fs::read(&path).unwrap();
    FileDataKeys::open_or_create(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = FileDataKeys::open_or_create(&path).unwrap_err().to_string();
    assert!(error.contains("chmod 600"), "{error}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&path, b"short").unwrap();
    let error = FileDataKeys::open_or_create(&path).unwrap_err().to_string();
    assert!(error.contains("exactly 32 bytes"), "{error}");
}
