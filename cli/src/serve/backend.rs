//! Where `serve` keeps queues and state: the embedded SQLite store or AWS (SQS + DynamoDB).

use std::path::Path;
use std::sync::Arc;

use aws_sdk_sqs::types::QueueAttributeName;
use paybridge::config::worker::WorkerKind;
use paybridge::embedded::{
    SqliteDatabase, SqliteEffectStore, SqliteEventJournal, SqliteIdempotencyStore,
    SqliteMessageSettler, SqliteOrderLinkStore, SqliteQueue,
};
use paybridge::flows::bootstrap::Stores;
use paybridge::idempotency::dynamodb::DynamoDbIdempotencyStore;
use paybridge::idempotency::effects::DynamoDbEffectStore;
use paybridge::journal::{DynamoDbEventJournal, EventJournal};
use paybridge::links::DynamoDbOrderLinkStore;
use paybridge::queue::{QueuePublisher, SqsQueuePublisher};
use paybridge::webhook::Source;
use paybridge::worker::SqsMessageSettler;

/// The embedded store's file inside the data directory.
pub const DATABASE_FILE: &str = "paybridge.sqlite3";

/// One queue on AWS: its URL and its DLQ's.
#[derive(Clone, Debug)]
pub struct AwsQueue {
    /// The queue URL.
    pub url: String,
    /// The DLQ URL.
    pub dlq_url: String,
}

/// The queues and stores `serve` runs on.
#[derive(Clone)]
pub enum Backend {
    /// SQLite in the data directory.
    Embedded {
        /// The database.
        db: SqliteDatabase,
        /// `stripe-events` (+ DLQ).
        stripe: SqliteQueue,
        /// `kentico-events` (+ DLQ).
        kentico: SqliteQueue,
    },
    /// SQS and DynamoDB.
    Aws {
        /// The SDK configuration (endpoint from `AWS_ENDPOINT_URL`).
        sdk: Arc<aws_config::SdkConfig>,
        /// Stripe events.
        stripe: AwsQueue,
        /// Kentico events.
        kentico: AwsQueue,
        /// The state table.
        table: String,
    },
}

fn source_of(kind: WorkerKind) -> Source {
    match kind {
        WorkerKind::Order => Source::Kentico,
        WorkerKind::Payment => Source::Stripe,
    }
}

impl Backend {
    /// Opens the backend: creates the SQLite file, or checks that the AWS names are set.
    pub async fn open(
        kind: super::BackendKind,
        data_dir: &Path,
        max_receive_count: u32,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        match kind {
            super::BackendKind::Embedded => {
                let path = data_dir.join(DATABASE_FILE);
                let db = SqliteDatabase::open(&path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                tracing::info!(path = %path.display(), "embedded store open");
                Ok(Self::Embedded {
                    stripe: SqliteQueue::new(db.clone(), "stripe-events", max_receive_count),
                    kentico: SqliteQueue::new(db.clone(), "kentico-events", max_receive_count),
                    db,
                })
            }
            super::BackendKind::Aws => {
                let mut problems = Vec::new();
                let mut need = |name: &str| {
                    env(name).unwrap_or_else(|| {
                        problems.push(format!("{name} is not set (needed with --backend aws)"));
                        String::new()
                    })
                };
                let stripe = AwsQueue {
                    url: need("STRIPE_EVENTS_QUEUE_URL"),
                    dlq_url: need("STRIPE_EVENTS_DLQ_URL"),
                };
                let kentico = AwsQueue {
                    url: need("KENTICO_EVENTS_QUEUE_URL"),
                    dlq_url: need("KENTICO_EVENTS_DLQ_URL"),
                };
                let table = need("IDEMPOTENCY_TABLE_NAME");
                if !problems.is_empty() {
                    return Err(format!(
                        "invalid configuration:\n  - {}",
                        problems.join("\n  - ")
                    ));
                }
                let sdk = Arc::new(aws_config::load_from_env().await);
                Ok(Self::Aws {
                    sdk,
                    stripe,
                    kentico,
                    table,
                })
            }
        }
    }

    /// `embedded` or `aws`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Embedded { .. } => "embedded",
            Self::Aws { .. } => "aws",
        }
    }

    /// Where ingress puts `source`'s events.
    pub fn publisher(&self, source: Source) -> Arc<dyn QueuePublisher> {
        match self {
            Self::Embedded {
                stripe, kentico, ..
            } => match source {
                Source::Kentico => Arc::new(kentico.clone()),
                _ => Arc::new(stripe.clone()),
            },
            Self::Aws {
                sdk,
                stripe,
                kentico,
                ..
            } => {
                let queue = if source == Source::Kentico {
                    kentico
                } else {
                    stripe
                };
                Arc::new(SqsQueuePublisher::new(
                    aws_sdk_sqs::Client::new(sdk),
                    &queue.url,
                ))
            }
        }
    }

    /// The embedded queue a worker drains.
    pub fn embedded_queue(&self, kind: WorkerKind) -> Option<SqliteQueue> {
        match self {
            Self::Embedded {
                stripe, kentico, ..
            } => Some(if source_of(kind) == Source::Kentico {
                kentico.clone()
            } else {
                stripe.clone()
            }),
            Self::Aws { .. } => None,
        }
    }

    /// The AWS queue a worker drains, with an SQS client.
    pub fn aws_queue(&self, kind: WorkerKind) -> Option<(aws_sdk_sqs::Client, AwsQueue)> {
        match self {
            Self::Aws {
                sdk,
                stripe,
                kentico,
                ..
            } => {
                let queue = if source_of(kind) == Source::Kentico {
                    kentico
                } else {
                    stripe
                };
                Some((aws_sdk_sqs::Client::new(sdk), queue.clone()))
            }
            Self::Embedded { .. } => None,
        }
    }

    /// A worker's stores.
    pub fn stores(&self, kind: WorkerKind) -> Stores {
        match self {
            Self::Embedded {
                db,
                stripe,
                kentico,
            } => {
                let queue = if source_of(kind) == Source::Kentico {
                    kentico
                } else {
                    stripe
                };
                Stores {
                    idempotency: Arc::new(SqliteIdempotencyStore::new(db.clone())),
                    effects: Arc::new(SqliteEffectStore::new(db.clone())),
                    links: Arc::new(SqliteOrderLinkStore::new(db.clone())),
                    settler: Arc::new(SqliteMessageSettler::new(queue.clone())),
                    journal: Arc::new(SqliteEventJournal::new(db.clone())),
                }
            }
            Self::Aws {
                sdk,
                table,
                stripe,
                kentico,
            } => {
                let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
                let queue = if source_of(kind) == Source::Kentico {
                    kentico
                } else {
                    stripe
                };
                Stores {
                    idempotency: Arc::new(DynamoDbIdempotencyStore::new(dynamodb.clone(), table)),
                    effects: Arc::new(DynamoDbEffectStore::new(dynamodb.clone(), table)),
                    links: Arc::new(DynamoDbOrderLinkStore::new(dynamodb.clone(), table)),
                    journal: Arc::new(DynamoDbEventJournal::new(dynamodb, table)),
                    settler: Arc::new(SqsMessageSettler::new(
                        aws_sdk_sqs::Client::new(sdk),
                        &queue.url,
                        &queue.dlq_url,
                    )),
                }
            }
        }
    }

    /// The event journal (what `trace` shows and `replay` re-enqueues).
    pub fn journal(&self) -> Arc<dyn EventJournal> {
        match self {
            Self::Embedded { db, .. } => Arc::new(SqliteEventJournal::new(db.clone())),
            Self::Aws { sdk, table, .. } => Arc::new(DynamoDbEventJournal::new(
                aws_sdk_dynamodb::Client::new(sdk),
                table,
            )),
        }
    }

    /// (queue name, visible, in flight) for every queue and DLQ, for `/metrics`.
    pub async fn depths(&self) -> Vec<(String, u64, u64)> {
        let mut depths = Vec::new();
        match self {
            Self::Embedded {
                stripe, kentico, ..
            } => {
                for queue in [stripe, kentico] {
                    if let Ok((visible, in_flight)) = queue.depth().await {
                        depths.push((queue.name().to_string(), visible, in_flight));
                    }
                    if let Ok(dead) = queue.dead_letter_count().await {
                        depths.push((format!("{}-dlq", queue.name()), dead, 0));
                    }
                }
            }
            Self::Aws {
                sdk,
                stripe,
                kentico,
                ..
            } => {
                let sqs = aws_sdk_sqs::Client::new(sdk);
                for (name, url) in [
                    ("stripe-events", &stripe.url),
                    ("stripe-events-dlq", &stripe.dlq_url),
                    ("kentico-events", &kentico.url),
                    ("kentico-events-dlq", &kentico.dlq_url),
                ] {
                    let attributes = sqs
                        .get_queue_attributes()
                        .queue_url(url)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                        .send()
                        .await
                        .ok()
                        .and_then(|o| o.attributes);
                    let count = |a: QueueAttributeName| {
                        attributes
                            .as_ref()
                            .and_then(|m| m.get(&a))
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0)
                    };
                    depths.push((
                        name.to_string(),
                        count(QueueAttributeName::ApproximateNumberOfMessages),
                        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
                    ));
                }
            }
        }
        depths
    }
}
