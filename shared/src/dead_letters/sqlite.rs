//! Dead letters of the embedded queues (SQLite): the settler and the operator's view.

use super::{DeadLetterEntry, DeadLetters, MessageSettler};
use crate::embedded::SqliteQueue;
use crate::queue::{DeadLetter, QueueError, QueueMessage};
use crate::webhook::Source;

/// Settles failed messages of a [`SqliteQueue`]: a retry delay on the queue, a copy on its DLQ.
#[derive(Debug, Clone)]
pub struct SqliteMessageSettler {
    queue: SqliteQueue,
}

impl SqliteMessageSettler {
    /// A settler for messages received from `queue`.
    pub fn new(queue: SqliteQueue) -> Self {
        Self { queue }
    }
}

#[async_trait::async_trait]
impl MessageSettler for SqliteMessageSettler {
    async fn retry_after(&self, message: &QueueMessage, seconds: u32) -> Result<(), QueueError> {
        if self
            .queue
            .change_visibility(&message.receipt_handle, seconds)
            .await?
        {
            Ok(())
        } else {
            Err(QueueError::Unavailable(format!(
                "message {} was received again or deleted since; its retry delay was not set",
                message.message_id
            )))
        }
    }

    /// The original stays on the queue: the poller deletes it, since it is not reported failed.
    async fn dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError> {
        self.queue.add_dead_letter(message, failure).await
    }
}

/// Both sources' embedded DLQs.
#[derive(Debug, Clone)]
pub struct SqliteDeadLetters {
    queues: Vec<(Source, SqliteQueue)>,
}

impl SqliteDeadLetters {
    /// The DLQs of `queues`.
    pub fn new(queues: Vec<(Source, SqliteQueue)>) -> Self {
        Self { queues }
    }
}

#[async_trait::async_trait]
impl DeadLetters for SqliteDeadLetters {
    async fn list_queue(
        &self,
        source: Source,
        limit: usize,
    ) -> Result<Vec<DeadLetterEntry>, QueueError> {
        let stored = match super::queue_of(&self.queues, source) {
            Some(queue) => queue.dead_letters(limit).await?,
            None => Vec::new(),
        };
        Ok(stored
            .into_iter()
            .map(|dead| DeadLetterEntry {
                id: dead.id,
                queue: source,
                body: dead.body,
                attributes: dead.attributes,
            })
            .collect())
    }

    async fn redrive(&self, ids: &[String]) -> Result<usize, QueueError> {
        let mut moved = 0;
        for (_, queue) in &self.queues {
            moved += queue.redrive(ids).await?;
        }
        Ok(moved)
    }

    async fn purge(&self, ids: &[String]) -> Result<usize, QueueError> {
        let mut purged = 0;
        for (_, queue) in &self.queues {
            purged += queue.purge(ids).await?;
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letters::contract::{self, DeadLetterHarness};
    use crate::embedded::temp_database;
    use crate::queue::{OutgoingMessage, QueuePublisher};

    /// Both sources' embedded queues in one database, on the system clock.
    struct Harness {
        queues: Vec<(Source, SqliteQueue, SqliteMessageSettler)>,
        dead_letters: SqliteDeadLetters,
    }

    impl Harness {
        fn queue(&self, source: Source) -> &(Source, SqliteQueue, SqliteMessageSettler) {
            self.queues.iter().find(|(s, _, _)| *s == source).unwrap()
        }
    }

    #[async_trait::async_trait]
    impl DeadLetterHarness for Harness {
        fn settler(&self, source: Source) -> &dyn MessageSettler {
            &self.queue(source).2
        }

        fn dead_letters(&self) -> &dyn DeadLetters {
            &self.dead_letters
        }

        async fn publish(&self, source: Source, message: OutgoingMessage) {
            self.queue(source).1.publish(message).await.unwrap();
        }

        async fn receive(&self, source: Source) -> Vec<QueueMessage> {
            self.queue(source).1.receive(100, 300).await.unwrap()
        }
    }

    #[tokio::test]
    async fn keeps_the_dead_letter_contract() {
        let (_dir, db) = temp_database();
        // A high maxReceiveCount: the redrive policy must not move anything during the suite.
        let queues: Vec<(Source, SqliteQueue, SqliteMessageSettler)> = Source::ALL
            .into_iter()
            .map(|source| {
                let queue = SqliteQueue::new(db.clone(), source.as_str(), 10);
                (source, queue.clone(), SqliteMessageSettler::new(queue))
            })
            .collect();
        let dead_letters = SqliteDeadLetters::new(
            queues
                .iter()
                .map(|(source, queue, _)| (*source, queue.clone()))
                .collect(),
        );

        contract::run_all(&Harness {
            queues,
            dead_letters,
        })
        .await;
    }
}
