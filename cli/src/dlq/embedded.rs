//! The DLQs of the embedded store.

use paybridge::embedded::SqliteQueue;
use paybridge::webhook::Source;

use super::{DeadLetters, Entry};

/// Both embedded queues' DLQs.
pub struct EmbeddedDeadLetters {
    queues: [(Source, SqliteQueue); 2],
}

impl EmbeddedDeadLetters {
    pub fn new(stripe: SqliteQueue, kentico: SqliteQueue) -> Self {
        Self {
            queues: [(Source::Stripe, stripe), (Source::Kentico, kentico)],
        }
    }
}

#[async_trait::async_trait]
impl DeadLetters for EmbeddedDeadLetters {
    async fn list(&self, source: Option<Source>, limit: usize) -> Result<Vec<Entry>, String> {
        let mut entries = Vec::new();
        for (queue_source, queue) in &self.queues {
            if source.is_some_and(|s| s != *queue_source) {
                continue;
            }
            for dead in queue.dead_letters(limit).await.map_err(|e| e.to_string())? {
                entries.push(Entry {
                    id: dead.id,
                    queue: queue_source.to_string(),
                    body: dead.body,
                    attributes: dead.attributes,
                });
            }
        }
        Ok(entries)
    }

    async fn redrive(&self, ids: &[String]) -> Result<usize, String> {
        let mut moved = 0;
        for (_, queue) in &self.queues {
            moved += queue.redrive(ids).await.map_err(|e| e.to_string())?;
        }
        Ok(moved)
    }

    async fn purge(&self, ids: &[String]) -> Result<usize, String> {
        let mut purged = 0;
        for (_, queue) in &self.queues {
            purged += queue.purge(ids).await.map_err(|e| e.to_string())?;
        }
        Ok(purged)
    }
}
