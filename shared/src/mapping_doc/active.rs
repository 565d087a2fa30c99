//! The mapping version a worker runs with: read from the [`MappingStore`] at the first event
//! and again once it is older than the refresh period, so a publish or a rollback reaches every
//! worker within that period, without a redeploy.
//!
//! A worker that has never read the active version does no work (the message is retried): it
//! cannot know which statuses, rules or switched-off flows apply. Once it has, a store it cannot
//! reach keeps it on the version it has (logged), rather than stopping payments; a stored
//! version this build cannot read is refused the same way.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::applied::AppliedMapping;
use super::document::MappingDocument;
use super::store::{MappingStore, MappingVersion};
use crate::config::flow::FlowSettings;
use crate::store::StoreError;

/// Why the active version could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MappingLoadError {
    /// The store did not answer.
    #[error("cannot read the active mapping version: {0}")]
    Store(#[from] StoreError),
    /// The active version is stored but is not a document this build reads (a newer schema,
    /// or written around `paybridge mapping publish`).
    #[error("the active mapping version {version} cannot be read: {problems}")]
    Unreadable {
        /// The version.
        version: u32,
        /// Its problems, joined.
        problems: String,
    },
}

/// The active mapping version, cached for a refresh period.
pub struct ActiveMapping {
    base: FlowSettings,
    store: Option<Arc<dyn MappingStore>>,
    refresh_every: Duration,
    current: RwLock<Arc<AppliedMapping>>,
    /// When the store was last read successfully (`None`: never).
    read_at: tokio::sync::Mutex<Option<Instant>>,
}

impl ActiveMapping {
    /// The environment's settings for ever (version 0): no store to read.
    pub fn fixed(settings: FlowSettings) -> ActiveMapping {
        ActiveMapping {
            current: RwLock::new(Arc::new(AppliedMapping::environment(settings.clone()))),
            base: settings,
            store: None,
            refresh_every: Duration::MAX,
            read_at: tokio::sync::Mutex::new(None),
        }
    }

    /// The active version of `store` over the environment's `base` settings, read again when
    /// older than `refresh_every` (zero: at every event).
    pub fn stored(
        base: FlowSettings,
        store: Arc<dyn MappingStore>,
        refresh_every: Duration,
    ) -> ActiveMapping {
        ActiveMapping {
            current: RwLock::new(Arc::new(AppliedMapping::environment(base.clone()))),
            base,
            store: Some(store),
            refresh_every,
            read_at: tokio::sync::Mutex::new(None),
        }
    }

    /// The version last read (version 0 before the first read).
    pub fn current(&self) -> Arc<AppliedMapping> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the active version if the one held is older than the refresh period. Concurrent
    /// callers wait for one read. Fails only while no version was ever read.
    pub async fn refresh(&self) -> Result<Arc<AppliedMapping>, MappingLoadError> {
        let Some(store) = &self.store else {
            return Ok(self.current());
        };
        let mut read_at = self.read_at.lock().await;
        if read_at.is_some_and(|at| at.elapsed() < self.refresh_every) {
            return Ok(self.current());
        }
        if read_at.is_some() {
            // Held a version already: the pointer alone says whether it is still the one.
            let held = self.current();
            match store.active_version().await {
                Ok(version) if version == held.version => {
                    *read_at = Some(Instant::now());
                    return Ok(held);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, version = held.version, "keeping the mapping version held");
                    return Ok(held);
                }
            }
        }
        match self.read(&**store).await {
            Ok(applied) => {
                let held = self.current();
                if held.version != applied.version || read_at.is_none() {
                    tracing::info!(
                        from = held.version,
                        to = applied.version,
                        "mapping version now in use"
                    );
                }
                let applied = Arc::new(applied);
                match self.current.write() {
                    Ok(mut current) => *current = applied.clone(),
                    Err(poisoned) => *poisoned.into_inner() = applied.clone(),
                }
                *read_at = Some(Instant::now());
                Ok(applied)
            }
            Err(error) if read_at.is_some() => {
                let held = self.current();
                tracing::warn!(%error, version = held.version, "keeping the mapping version held");
                Ok(held)
            }
            Err(error) => Err(error),
        }
    }

    async fn read(&self, store: &dyn MappingStore) -> Result<AppliedMapping, MappingLoadError> {
        let (version, stored) = store.active().await?;
        applied(&self.base, version, stored.as_ref())
    }
}

/// `stored`, the version `version` as the store answered it (0 or none: the environment's),
/// over the environment's `base` settings.
pub fn applied(
    base: &FlowSettings,
    version: u32,
    stored: Option<&MappingVersion>,
) -> Result<AppliedMapping, MappingLoadError> {
    let Some(stored) = stored.filter(|_| version > 0) else {
        return Ok(AppliedMapping::environment(base.clone()));
    };
    let document = MappingDocument::parse(&stored.document).map_err(|problems| {
        MappingLoadError::Unreadable {
            version,
            problems: (problems.iter().map(ToString::to_string))
                .collect::<Vec<_>>()
                .join("; "),
        }
    })?;
    Ok(AppliedMapping::new(version, &document, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::payment_status::PaymentState;
    use crate::mapping_doc::store::{InMemoryMappingStore, MappingChange};
    use time::OffsetDateTime;

    async fn publish(store: &InMemoryMappingStore, document: &str, expected: u32) -> u32 {
        let now = OffsetDateTime::now_utc();
        match store
            .publish(document, "a", "c", expected, now)
            .await
            .unwrap()
        {
            MappingChange::Done(version) => version,
            other => panic!("{other:?}"),
        }
    }

    const COMPLETED: &str = r#"{"schema": 1, "statuses": {"succeeded": "Completed"}}"#;

    #[tokio::test]
    async fn reads_the_active_version_and_again_after_the_period() {
        let store = Arc::new(InMemoryMappingStore::default());
        let active = ActiveMapping::stored(FlowSettings::default(), store.clone(), Duration::ZERO);
        assert_eq!(active.refresh().await.unwrap().version, 0, "nothing stored");
        publish(&store, COMPLETED, 0).await;
        let applied = active.refresh().await.unwrap();
        assert_eq!(applied.version, 1);
        assert_eq!(
            applied.status_mapping.name(PaymentState::Succeeded),
            "Completed"
        );
        let now = OffsetDateTime::now_utc();
        store.activate(0, "a", "back", 1, now).await.unwrap();
        assert_eq!(active.refresh().await.unwrap().version, 0, "rolled back");
        assert_eq!(active.current().version, 0);
    }

    #[tokio::test]
    async fn within_the_period_the_version_held_is_used() {
        let store = Arc::new(InMemoryMappingStore::default());
        let active = ActiveMapping::stored(
            FlowSettings::default(),
            store.clone(),
            Duration::from_secs(3600),
        );
        assert_eq!(active.refresh().await.unwrap().version, 0);
        publish(&store, COMPLETED, 0).await;
        assert_eq!(
            active.refresh().await.unwrap().version,
            0,
            "not read again yet"
        );
    }

    #[tokio::test]
    async fn an_unreadable_version_stops_a_worker_that_never_read_one() {
        let store = Arc::new(InMemoryMappingStore::default());
        publish(&store, r#"{"schema": 9}"#, 0).await;
        let active = ActiveMapping::stored(FlowSettings::default(), store.clone(), Duration::ZERO);
        let error = active.refresh().await.unwrap_err();
        assert!(
            matches!(error, MappingLoadError::Unreadable { version: 1, .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_worker_keeps_the_version_it_has_when_a_newer_one_cannot_be_read() {
        let store = Arc::new(InMemoryMappingStore::default());
        publish(&store, COMPLETED, 0).await;
        let active = ActiveMapping::stored(FlowSettings::default(), store.clone(), Duration::ZERO);
        assert_eq!(active.refresh().await.unwrap().version, 1);
        publish(&store, r#"{"schema": 9}"#, 1).await;
        assert_eq!(active.refresh().await.unwrap().version, 1, "kept");
    }

    /// Counts the reads of whole versions: what the pointer check saves.
    struct Counting {
        inner: InMemoryMappingStore,
        whole_reads: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl MappingStore for Counting {
        async fn publish(
            &self,
            document: &str,
            author: &str,
            comment: &str,
            expected: u32,
            now: OffsetDateTime,
        ) -> Result<MappingChange, StoreError> {
            (self.inner)
                .publish(document, author, comment, expected, now)
                .await
        }
        async fn activate(
            &self,
            version: u32,
            author: &str,
            comment: &str,
            expected: u32,
            now: OffsetDateTime,
        ) -> Result<MappingChange, StoreError> {
            (self.inner)
                .activate(version, author, comment, expected, now)
                .await
        }
        async fn active(&self) -> Result<(u32, Option<MappingVersion>), StoreError> {
            (self.whole_reads).fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.active().await
        }
        async fn active_version(&self) -> Result<u32, StoreError> {
            Ok(self.inner.active().await?.0)
        }
        async fn get(&self, version: u32) -> Result<Option<MappingVersion>, StoreError> {
            self.inner.get(version).await
        }
        async fn versions(&self, limit: usize) -> Result<Vec<MappingVersion>, StoreError> {
            self.inner.versions(limit).await
        }
        async fn audit(
            &self,
            limit: usize,
        ) -> Result<Vec<crate::mapping_doc::store::MappingAudit>, StoreError> {
            self.inner.audit(limit).await
        }
    }

    #[tokio::test]
    async fn a_version_held_is_read_again_only_when_the_pointer_moves() {
        let store = Arc::new(Counting {
            inner: InMemoryMappingStore::default(),
            whole_reads: Default::default(),
        });
        publish(&store.inner, COMPLETED, 0).await;
        let active = ActiveMapping::stored(FlowSettings::default(), store.clone(), Duration::ZERO);
        let reads = || store.whole_reads.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(active.refresh().await.unwrap().version, 1);
        assert_eq!(reads(), 1, "the first read is whole");
        for _ in 0..3 {
            assert_eq!(active.refresh().await.unwrap().version, 1);
        }
        assert_eq!(reads(), 1, "the pointer did not move: no version read");
        publish(&store.inner, r#"{"schema": 1}"#, 1).await;
        assert_eq!(active.refresh().await.unwrap().version, 2, "moved");
        assert_eq!(reads(), 2);
    }

    #[tokio::test]
    async fn a_fixed_mapping_is_the_environment() {
        let active = ActiveMapping::fixed(FlowSettings::default());
        assert_eq!(active.refresh().await.unwrap().version, 0);
    }
}
