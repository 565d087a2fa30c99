//! Where queues and state live: AWS (SQS + DynamoDB) or embedded (one SQLite file). Every store,
//! queue port and dead-letter view an entry point uses comes from here.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_sqs::types::QueueAttributeName;

use crate::config::StartupError;
use crate::config::aws::AwsSettings;
use crate::config::worker::WorkerKind;
use crate::customers::{CustomerLinkStore, DynamoDbCustomerLinkStore};
use crate::dead_letters::{DeadLetters, MessageSettler, SqsDeadLetters, SqsMessageSettler};
use crate::effects::{DynamoDbEffectStore, EffectStore};
use crate::idempotency::{DynamoDbIdempotencyStore, IdempotencyStore};
use crate::journal::{DynamoDbEventJournal, EventJournal};
use crate::ledger::{DynamoDbLedgerStore, LedgerStore};
use crate::links::{DynamoDbOrderLinkStore, OrderLinkStore};
use crate::queue::{QueuePublisher, QueueUrls, SqsQueuePublisher};
use crate::reconcile::reports::{DynamoDbReportStore, ReportStore};
use crate::sealing::{EnvelopeSealer, KmsDataKeys};
use crate::webhook::Source;
use crate::worker::{BatchProcessor, Poller, SqsPoller};

/// The embedded store's file inside the data directory.
pub const DATABASE_FILE: &str = "paybridge.sqlite3";
/// The key file sealing the embedded journal's envelopes, beside the database: back both up
/// together (without it the stored envelopes cannot be read).
pub const JOURNAL_KEY_FILE: &str = "journal.key";

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// SQLite in a data directory: nothing else to run.
    Embedded,
    /// SQS and DynamoDB (names from the environment, endpoint from `AWS_ENDPOINT_URL`).
    Aws,
}

/// Where a worker keeps its state and settles its messages.
#[derive(Clone)]
pub struct Stores {
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Recorded side effects.
    pub effects: Arc<dyn EffectStore>,
    /// Order links.
    pub links: Arc<dyn OrderLinkStore>,
    /// Customer links (the order worker keeps Stripe Customers in step).
    pub customers: Arc<dyn CustomerLinkStore>,
    /// Retry delays and dead letters on the worker's queue.
    pub settler: Arc<dyn MessageSettler>,
    /// What happened to each event (trace, replay).
    pub journal: Arc<dyn EventJournal>,
    /// Posted ledger entries (the payment worker posts them; the order worker has none).
    pub ledger: Option<Arc<dyn LedgerStore>>,
    /// The mapping document's versions: the workers read the active one.
    pub mappings: Arc<dyn crate::mapping_doc::store::MappingStore>,
}

/// One queue's depth: (name, visible, in flight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    /// `stripe-events`, `stripe-events-dlq`, …
    pub queue: String,
    /// Messages waiting.
    pub visible: u64,
    /// Messages received and not yet deleted.
    pub in_flight: u64,
}

/// The queues and stores on AWS.
#[derive(Clone, Debug)]
pub struct AwsBackend {
    sdk: aws_config::SdkConfig,
    settings: AwsSettings,
    sealer: Option<Arc<EnvelopeSealer>>,
}

/// The queues and stores in one SQLite database.
#[cfg(feature = "embedded")]
#[derive(Clone, Debug)]
pub struct EmbeddedBackend {
    db: crate::embedded::SqliteDatabase,
    stripe: crate::embedded::SqliteQueue,
    kentico: crate::embedded::SqliteQueue,
    sealer: Arc<EnvelopeSealer>,
}

/// The queues and state every entry point runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    /// SQS and DynamoDB (boxed: the SDK configuration is large).
    Aws(Box<AwsBackend>),
    /// SQLite in a data directory.
    #[cfg(feature = "embedded")]
    Embedded(EmbeddedBackend),
}

impl Backend {
    /// The AWS backend over `sdk` (region, credentials, endpoint) and the named resources.
    pub fn aws(sdk: aws_config::SdkConfig, settings: AwsSettings) -> Self {
        let sealer = journal_sealer(&sdk, settings.journal_key.as_deref());
        Self::Aws(Box::new(AwsBackend {
            sdk,
            settings,
            sealer,
        }))
    }

    /// The embedded backend: opens (and creates, migrating it) `data_dir/paybridge.sqlite3`.
    /// A message received `max_receive_count` times moves to its dead-letter queue.
    #[cfg(feature = "embedded")]
    pub fn embedded(data_dir: &Path, max_receive_count: u32) -> Result<Self, StartupError> {
        use crate::embedded::{SqliteDatabase, SqliteQueue};
        let path = data_dir.join(DATABASE_FILE);
        let db = SqliteDatabase::open(&path)
            .map_err(|e| StartupError::Backend(format!("cannot open {}: {e}", path.display())))?;
        tracing::info!(path = %path.display(), "embedded store open");
        let key_path = data_dir.join(JOURNAL_KEY_FILE);
        let lost_key = !key_path.exists()
            && db
                .holds_sealed_envelopes()
                .map_err(|e| StartupError::Backend(e.to_string()))?;
        if lost_key {
            return Err(StartupError::Backend(format!(
                "{} is missing, but the journal in {} holds envelopes sealed with it: restore it \
                 from the backup taken with the database, or, to go on without those envelopes \
                 (trace keeps the outcomes; replay loses them), delete them: sqlite3 {} \
                 \"DELETE FROM journal_envelopes WHERE envelope LIKE 'pbenc1.%'\"",
                key_path.display(),
                path.display(),
                path.display()
            )));
        }
        let keys = crate::sealing::FileDataKeys::open_or_create(&key_path)
            .map_err(|e| StartupError::Backend(e.to_string()))?;
        Ok(Self::Embedded(EmbeddedBackend {
            stripe: SqliteQueue::new(db.clone(), "stripe-events", max_receive_count),
            kentico: SqliteQueue::new(db.clone(), "kentico-events", max_receive_count),
            db,
            sealer: Arc::new(EnvelopeSealer::new(Arc::new(keys))),
        }))
    }

    /// Opens `kind`: the AWS names from `env` and the default AWS configuration, or the
    /// embedded store in `data_dir`.
    pub async fn open(
        kind: BackendKind,
        data_dir: &Path,
        max_receive_count: u32,
        env: crate::config::Env<'_>,
    ) -> Result<Self, StartupError> {
        match kind {
            BackendKind::Aws => {
                let settings = AwsSettings::from_env(env)?;
                Ok(Self::aws(aws_config::load_from_env().await, settings))
            }
            #[cfg(feature = "embedded")]
            BackendKind::Embedded => Self::embedded(data_dir, max_receive_count),
            #[cfg(not(feature = "embedded"))]
            BackendKind::Embedded => {
                let _ = (data_dir, max_receive_count);
                Err(StartupError::Backend(
                    "this build has no embedded store (feature `embedded`)".into(),
                ))
            }
        }
    }

    /// `embedded` or `aws`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Aws(_) => "aws",
            #[cfg(feature = "embedded")]
            Self::Embedded(_) => "embedded",
        }
    }

    /// A worker's stores.
    pub fn stores(&self, kind: WorkerKind, journal_retention_days: u32) -> Stores {
        match self {
            Self::Aws(aws) => aws_stores(
                &aws.sdk,
                &aws.settings.table,
                aws.settings.queue(kind.source()),
                Some(aws.settings.ledger_table.as_str()),
                (journal_retention_days, aws.sealer.clone()),
            ),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => {
                use crate::dead_letters::SqliteMessageSettler;
                use crate::effects::SqliteEffectStore;
                use crate::idempotency::SqliteIdempotencyStore;
                use crate::journal::{SealedEventJournal, SqliteEventJournal};
                use crate::links::SqliteOrderLinkStore;
                let db = &embedded.db;
                Stores {
                    idempotency: Arc::new(SqliteIdempotencyStore::new(db.clone())),
                    effects: Arc::new(SqliteEffectStore::new(db.clone())),
                    links: Arc::new(SqliteOrderLinkStore::new(db.clone())),
                    customers: Arc::new(crate::customers::SqliteCustomerLinkStore::new(db.clone())),
                    settler: Arc::new(SqliteMessageSettler::new(
                        embedded.queue(kind.source()).clone(),
                    )),
                    // Kept until the daily purge (`Backend::purge_expired`).
                    journal: Arc::new(SealedEventJournal::new(
                        Arc::new(SqliteEventJournal::new(db.clone())),
                        embedded.sealer.clone(),
                    )),
                    ledger: Some(Arc::new(crate::ledger::SqliteLedgerStore::new(db.clone()))),
                    mappings: Arc::new(crate::mapping_doc::store::SqliteMappingStore::new(
                        db.clone(),
                    )),
                }
            }
        }
    }

    /// The order links (what `trace` shows).
    pub fn links(&self) -> Arc<dyn OrderLinkStore> {
        match self {
            Self::Aws(aws) => Arc::new(DynamoDbOrderLinkStore::new(
                aws.dynamodb(),
                &aws.settings.table,
            )),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => {
                Arc::new(crate::links::SqliteOrderLinkStore::new(embedded.db.clone()))
            }
        }
    }

    /// The posted ledger entries (what `ledger export` writes out).
    pub fn ledger(&self) -> Arc<dyn LedgerStore> {
        match self {
            Self::Aws(aws) => Arc::new(DynamoDbLedgerStore::new(
                aws.dynamodb(),
                &aws.settings.ledger_table,
            )),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => {
                Arc::new(crate::ledger::SqliteLedgerStore::new(embedded.db.clone()))
            }
        }
    }

    /// The refresh token `name` of an accounting system's sink, seeded with `seed`: in the
    /// embedded store (it survives restarts and rotations), or in memory on AWS (a `serve
    /// --backend aws` without the token's secret ARN; rotations last until it stops).
    pub fn refresh_tokens(
        &self,
        name: &str,
        seed: crate::secret::SecretString,
    ) -> Arc<dyn crate::ledger::tokens::RefreshTokenStore> {
        match self {
            Self::Aws(_) => {
                tracing::warn!(
                    sink = name,
                    "the refresh token is kept in memory only: give its secret ARN to keep rotations across restarts"
                );
                Arc::new(crate::ledger::tokens::InMemoryRefreshTokens::new(Some(
                    seed,
                )))
            }
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => Arc::new(crate::ledger::tokens::SqliteRefreshTokens::new(
                embedded.db.clone(),
                name,
                Some(seed),
            )),
        }
    }

    /// The mapping document's versions (`paybridge mapping`).
    pub fn mappings(&self) -> Arc<dyn crate::mapping_doc::store::MappingStore> {
        match self {
            Self::Aws(aws) => Arc::new(crate::mapping_doc::store::DynamoDbMappingStore::new(
                aws.dynamodb(),
                &aws.settings.table,
            )),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => Arc::new(
                crate::mapping_doc::store::SqliteMappingStore::new(embedded.db.clone()),
            ),
        }
    }

    /// The reconciliation reports (what `reconcile --report last` shows).
    pub fn reports(&self) -> Arc<dyn ReportStore> {
        match self {
            Self::Aws(aws) => Arc::new(DynamoDbReportStore::new(
                aws.dynamodb(),
                &aws.settings.table,
            )),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => Arc::new(
                crate::reconcile::reports::SqliteReportStore::new(embedded.db.clone()),
            ),
        }
    }

    /// Deletes what the embedded store keeps only for a while (the journal past
    /// `journal_retention_days`, expired idempotency records); `None` on AWS, where DynamoDB's
    /// TTL does it.
    #[cfg(feature = "embedded")]
    pub async fn purge_expired(
        &self,
        journal_retention_days: u32,
    ) -> Result<Option<crate::embedded::retention::Purged>, crate::store::StoreError> {
        match self {
            Self::Aws(_) => Ok(None),
            Self::Embedded(embedded) => {
                let now = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
                crate::embedded::retention::purge(&embedded.db, now, journal_retention_days)
                    .await
                    .map(Some)
            }
        }
    }

    /// Truncates the embedded store's write-ahead log, so settled messages leave no copy in it
    /// (see [`crate::embedded::SqliteDatabase::truncate_wal`]); `None` on AWS.
    #[cfg(feature = "embedded")]
    pub async fn truncate_wal(&self) -> Result<Option<bool>, crate::store::StoreError> {
        match self {
            Self::Aws(_) => Ok(None),
            Self::Embedded(embedded) => embedded.db.truncate_wal().await.map(Some),
        }
    }

    /// The customer links and billing (what `customer show` shows).
    pub fn customers(&self) -> Arc<dyn CustomerLinkStore> {
        match self {
            Self::Aws(aws) => Arc::new(DynamoDbCustomerLinkStore::new(
                aws.dynamodb(),
                &aws.settings.table,
            )),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => Arc::new(crate::customers::SqliteCustomerLinkStore::new(
                embedded.db.clone(),
            )),
        }
    }

    /// The event journal (what `trace` shows and `replay` re-enqueues).
    pub fn journal(&self) -> Arc<dyn EventJournal> {
        match self {
            Self::Aws(aws) => sealed_journal(
                Arc::new(DynamoDbEventJournal::new(
                    aws.dynamodb(),
                    &aws.settings.table,
                    crate::config::worker::DEFAULT_JOURNAL_RETENTION_DAYS,
                )),
                aws.sealer.clone(),
            ),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => sealed_journal(
                Arc::new(crate::journal::SqliteEventJournal::new(embedded.db.clone())),
                Some(embedded.sealer.clone()),
            ),
        }
    }

    /// Where ingress (and `replay`) put `source`'s events.
    pub fn publisher(&self, source: Source) -> Arc<dyn QueuePublisher> {
        match self {
            Self::Aws(aws) => Arc::new(SqsQueuePublisher::new(
                aws.sqs(),
                &aws.settings.queue(source).url,
            )),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => Arc::new(embedded.queue(source).clone()),
        }
    }

    /// Both sources' dead-letter queues, for the operator.
    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        match self {
            Self::Aws(aws) => Arc::new(
                SqsDeadLetters::new(
                    aws.sqs(),
                    Source::ALL
                        .iter()
                        .map(|source| (*source, aws.settings.queue(*source).clone()))
                        .collect(),
                )
                .with_journal(self.journal()),
            ),
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => Arc::new(crate::dead_letters::SqliteDeadLetters::new(
                Source::ALL
                    .iter()
                    .map(|source| (*source, embedded.queue(*source).clone()))
                    .collect(),
            )),
        }
    }

    /// The loop that drains `kind`'s queue into `processor`, holding each batch for at most
    /// `visibility_timeout_seconds`.
    pub fn poller(
        &self,
        kind: WorkerKind,
        processor: Arc<BatchProcessor>,
        visibility_timeout_seconds: u32,
    ) -> Box<dyn Poller> {
        match self {
            Self::Aws(aws) => {
                let queue = aws.settings.queue(kind.source());
                let mut poller = SqsPoller::new(aws.sqs(), &queue.url, processor);
                poller.wait_seconds = 1;
                poller.invocation_timeout =
                    std::time::Duration::from_secs(u64::from(visibility_timeout_seconds));
                Box::new(poller)
            }
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => {
                let mut poller = crate::worker::SqlitePoller::new(
                    embedded.queue(kind.source()).clone(),
                    processor,
                );
                poller.visibility_timeout_seconds = visibility_timeout_seconds;
                Box::new(poller)
            }
        }
    }

    /// Every queue's and DLQ's depth, for `/metrics` and `doctor`; a queue that does not answer
    /// is left out.
    pub async fn depths(&self) -> Vec<QueueDepth> {
        let mut depths = Vec::new();
        match self {
            Self::Aws(aws) => {
                for source in Source::ALL {
                    let queue = aws.settings.queue(source);
                    for (name, url) in [
                        (format!("{source}-events"), &queue.url),
                        (format!("{source}-events-dlq"), &queue.dlq_url),
                    ] {
                        if let Some((visible, in_flight)) = aws.depth(url).await {
                            depths.push(QueueDepth {
                                queue: name,
                                visible,
                                in_flight,
                            });
                        }
                    }
                }
            }
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => {
                for queue in [&embedded.stripe, &embedded.kentico] {
                    if let Ok((visible, in_flight)) = queue.depth().await {
                        depths.push(QueueDepth {
                            queue: queue.name().to_string(),
                            visible,
                            in_flight,
                        });
                    }
                    if let Ok(dead) = queue.dead_letter_count().await {
                        depths.push(QueueDepth {
                            queue: format!("{}-dlq", queue.name()),
                            visible: dead,
                            in_flight: 0,
                        });
                    }
                }
            }
        }
        depths
    }

    /// Whether the state store answers: the DynamoDB table exists, or the SQLite file is open.
    pub async fn check_state(&self) -> Result<String, String> {
        match self {
            Self::Aws(aws) => {
                let table = &aws.settings.table;
                aws.dynamodb()
                    .describe_table()
                    .table_name(table)
                    .send()
                    .await
                    .map(|_| format!("{table} exists"))
                    .map_err(|e| {
                        format!(
                            "{table}: {} — check IDEMPOTENCY_TABLE_NAME and the credentials",
                            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                        )
                    })
            }
            #[cfg(feature = "embedded")]
            Self::Embedded(embedded) => embedded
                .db
                .schema_version()
                .await
                .map(|version| format!("the embedded store is open (schema version {version})"))
                .map_err(|e| e.to_string()),
        }
    }
}

/// The stores of a worker draining `queue`, on DynamoDB `table` and SQS.
/// The reports of a Lambda that knows only the state table.
pub(super) fn aws_reports(sdk: &aws_config::SdkConfig, table: &str) -> Arc<dyn ReportStore> {
    Arc::new(DynamoDbReportStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
    ))
}

/// The sealer of the journal's envelopes under the KMS key `key_id`, if there is one.
pub(super) fn journal_sealer(
    sdk: &aws_config::SdkConfig,
    key_id: Option<&str>,
) -> Option<Arc<EnvelopeSealer>> {
    let keys = KmsDataKeys::new(aws_sdk_kms::Client::new(sdk), key_id?, "journal");
    Some(Arc::new(EnvelopeSealer::new(Arc::new(keys))))
}

/// `journal`, sealed by `sealer`; without one, envelopes are kept as they are (a warning at the
/// first) and a sealed one found says which key to set.
fn sealed_journal(
    journal: Arc<dyn EventJournal>,
    sealer: Option<Arc<EnvelopeSealer>>,
) -> Arc<dyn EventJournal> {
    use crate::journal::SealedEventJournal;
    match sealer {
        Some(sealer) => Arc::new(SealedEventJournal::new(journal, sealer)),
        None => Arc::new(SealedEventJournal::without_key(
            journal,
            crate::config::aws::VAR_JOURNAL_KEY,
        )),
    }
}

/// The journal's retention and its sealer.
pub(super) type JournalSettings = (u32, Option<Arc<EnvelopeSealer>>);

pub(super) fn aws_stores(
    sdk: &aws_config::SdkConfig,
    table: &str,
    queue: &QueueUrls,
    ledger_table: Option<&str>,
    (journal_retention_days, sealer): JournalSettings,
) -> Stores {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Stores {
        idempotency: Arc::new(DynamoDbIdempotencyStore::new(dynamodb.clone(), table)),
        effects: Arc::new(DynamoDbEffectStore::new(dynamodb.clone(), table)),
        links: Arc::new(DynamoDbOrderLinkStore::new(dynamodb.clone(), table)),
        customers: Arc::new(DynamoDbCustomerLinkStore::new(dynamodb.clone(), table)),
        journal: sealed_journal(
            Arc::new(DynamoDbEventJournal::new(
                dynamodb.clone(),
                table,
                journal_retention_days,
            )),
            sealer,
        ),
        mappings: Arc::new(crate::mapping_doc::store::DynamoDbMappingStore::new(
            dynamodb.clone(),
            table,
        )),
        ledger: ledger_table.map(|ledger| {
            Arc::new(DynamoDbLedgerStore::new(dynamodb, ledger)) as Arc<dyn LedgerStore>
        }),
        settler: Arc::new(SqsMessageSettler::new(
            aws_sdk_sqs::Client::new(sdk),
            &queue.url,
            &queue.dlq_url,
            crate::config::ingress::SQS_MAX_MESSAGE_BYTES,
        )),
    }
}

impl AwsBackend {
    fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    async fn depth(&self, url: &str) -> Option<(u64, u64)> {
        let attributes = self
            .sqs()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .ok()?
            .attributes?;
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Some((
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }
}

#[cfg(feature = "embedded")]
impl EmbeddedBackend {
    fn queue(&self, source: Source) -> &crate::embedded::SqliteQueue {
        match source {
            Source::Stripe | Source::Reconciler => &self.stripe,
            Source::Kentico => &self.kentico,
        }
    }
}
