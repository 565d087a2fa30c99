//! How each message of a batch ended, and what the batch reports back to the queue.

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Processed now.
    Done,
    /// Processed before (a duplicate delivery): not run again.
    Duplicate,
    /// Deliberately not processed (no route, or the handler said so): counted, not retried.
    Ignored(String),
    /// Failed transiently: reported in `batchItemFailures`, visible again after `after_seconds`.
    Retry {
        /// Why.
        reason: String,
        /// The visibility timeout set.
        after_seconds: u32,
    },
    /// Failed permanently: on the DLQ with its reason, removed from the queue.
    DeadLettered {
        /// The error kind.
        kind: String,
        /// The reason.
        reason: String,
    },
    /// Failed permanently but the DLQ did not take it: reported as a failure, never dropped.
    DeadLetterFailed {
        /// The error kind.
        kind: String,
        /// The DLQ error.
        error: String,
    },
}

impl MessageOutcome {
    /// Whether the message must be reported in `batchItemFailures` (stay on the queue).
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Retry { .. } | Self::DeadLetterFailed { .. })
    }

    /// The metric outcome label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Duplicate => "duplicate",
            Self::Ignored(_) => "ignored",
            Self::Retry { .. } => "retried",
            Self::DeadLettered { .. } => "dead_lettered",
            Self::DeadLetterFailed { .. } => "dead_letter_failed",
        }
    }
}

/// The outcome of every message of a batch, in batch order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// (message id, outcome).
    pub outcomes: Vec<(String, MessageOutcome)>,
}

impl BatchReport {
    /// Of `receipts` (message id, receipt handle), the handles of the messages that did not
    /// fail: what a poller deletes, as Lambda's event source mapping does.
    pub fn receipts_to_delete(&self, receipts: Vec<(String, String)>) -> Vec<String> {
        let failed = self.batch_item_failures();
        receipts
            .into_iter()
            .filter(|(id, _)| !failed.contains(id))
            .map(|(_, receipt)| receipt)
            .collect()
    }

    /// The ids to return as `batchItemFailures` (the trigger needs `ReportBatchItemFailures`).
    pub fn batch_item_failures(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_failure())
            .map(|(id, _)| id.clone())
            .collect()
    }
}
