//! The embedded queues' dead-letter queue and the operator's API over it: list, show, redrive, purge.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::database::{attributes_from_json, attributes_to_json};
use super::queue::{SqliteQueue, message_id, unavailable};
use crate::clock::rfc3339_millis;
use crate::queue::QueueError;
use crate::queue::QueueMessage;
use crate::queue::{DeadLetter, is_failure_attribute};

/// A message on a queue's DLQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDeadLetter {
    /// Its id on the DLQ (what [`SqliteQueue::redrive`] and [`SqliteQueue::purge`] take).
    pub id: String,
    /// The original body.
    pub body: String,
    /// The original attributes plus the `failure_*` ones ([`DeadLetter::attributes`]).
    pub attributes: BTreeMap<String, String>,
    /// When it failed, RFC 3339.
    pub failed_at: String,
    /// When it was first published, RFC 3339.
    pub sent_at: String,
    /// Its message id on the source queue.
    pub original_message_id: String,
}

/// Puts a copy of `message` on `queue`'s DLQ with `failure`'s attributes (inside `tx`).
pub(super) fn insert_dead_letter(
    tx: &Transaction<'_>,
    queue: &str,
    message: &QueueMessage,
    failure: &DeadLetter,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let attributes: BTreeMap<String, String> = failure.attributes(message).into_iter().collect();
    tx.prepare_cached(
        "INSERT INTO dead_letters
           (id, queue, body, attributes, original_message_id, receive_count, sent_at_ms, failed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6,
           COALESCE((SELECT sent_at_ms FROM messages WHERE id = ?5), ?7), ?8)",
    )?
    .execute(params![
        message_id(),
        queue,
        message.body,
        attributes_to_json(&attributes)?,
        message.message_id,
        message.receive_count,
        now_ms,
        failure.failed_at
    ])?;
    Ok(())
}

const COLUMNS: &str = "id, body, attributes, failed_at, sent_at_ms, original_message_id";

fn entry(row: &Row<'_>) -> rusqlite::Result<StoredDeadLetter> {
    let sent_at_ms: i64 = row.get(4)?;
    let sent_at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(sent_at_ms) * 1_000_000)
            .map(rfc3339_millis)
            .unwrap_or_default();
    Ok(StoredDeadLetter {
        id: row.get(0)?,
        body: row.get(1)?,
        attributes: attributes_from_json(&row.get::<_, String>(2)?)?,
        failed_at: row.get(3)?,
        sent_at,
        original_message_id: row.get(5)?,
    })
}

impl SqliteQueue {
    /// Puts a copy of `message` on the DLQ with `failure`'s attributes.
    pub(crate) async fn add_dead_letter(
        &self,
        message: &QueueMessage,
        failure: &DeadLetter,
    ) -> Result<(), QueueError> {
        let (queue, now) = (self.name.clone(), self.now_ms());
        let (message, failure) = (message.clone(), failure.clone());
        let result = self
            .db
            .write(move |tx| insert_dead_letter(tx, &queue, &message, &failure, now));
        result.await.map_err(unavailable)
    }

    /// Up to `limit` dead letters, oldest first.
    pub async fn dead_letters(&self, limit: usize) -> Result<Vec<StoredDeadLetter>, QueueError> {
        let queue = self.name.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let result = self.db.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM dead_letters WHERE queue = ?1 ORDER BY seq LIMIT ?2"
            ))?
            .query_map(params![&*queue, limit], entry)?
            .collect()
        });
        result.await.map_err(unavailable)
    }

    /// The dead letter `id`.
    pub async fn dead_letter(&self, id: &str) -> Result<Option<StoredDeadLetter>, QueueError> {
        let (queue, id) = (self.name.clone(), id.to_string());
        let result = self.db.read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM dead_letters WHERE queue = ?1 AND id = ?2"),
                params![&*queue, id],
                entry,
            )
            .optional()
        });
        result.await.map_err(unavailable)
    }

    /// How many messages the DLQ holds.
    pub async fn dead_letter_count(&self) -> Result<u64, QueueError> {
        let queue = self.name.clone();
        let result = self.db.read(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM dead_letters WHERE queue = ?1",
                [&*queue],
                |r| r.get(0),
            )
        });
        result.await.map_err(unavailable)
    }

    /// Moves the dead letters `ids` back to the queue (new message ids, receive count 0,
    /// attributes without the `failure_*` ones), in one transaction; returns how many moved.
    pub async fn redrive(&self, ids: &[String]) -> Result<usize, QueueError> {
        let (queue, ids, now) = (self.name.clone(), ids.to_vec(), self.now_ms());
        let result = self.db.write(move |tx| {
            let mut moved = 0;
            for id in ids {
                let found: Option<(String, String)> = tx
                    .query_row(
                        "SELECT body, attributes FROM dead_letters WHERE queue = ?1 AND id = ?2",
                        params![&*queue, id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((body, attributes)) = found else {
                    continue;
                };
                let mut attributes = attributes_from_json(&attributes)?;
                attributes.retain(|name, _| !is_failure_attribute(name));
                tx.prepare_cached(
                    "INSERT INTO messages (id, queue, body, attributes, sent_at_ms, visible_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )?
                .execute(params![
                    message_id(),
                    &*queue,
                    body,
                    attributes_to_json(&attributes)?,
                    now
                ])?;
                tx.execute("DELETE FROM dead_letters WHERE id = ?1", [id])?;
                moved += 1;
            }
            Ok(moved)
        });
        result.await.map_err(unavailable)
    }

    /// Moves every dead letter back to the queue; returns how many moved.
    pub async fn redrive_all(&self) -> Result<usize, QueueError> {
        let ids: Vec<String> = self
            .dead_letters(usize::MAX)
            .await?
            .into_iter()
            .map(|entry| entry.id)
            .collect();
        self.redrive(&ids).await
    }

    /// Deletes the dead letters `ids` for good; returns how many were deleted.
    pub async fn purge(&self, ids: &[String]) -> Result<usize, QueueError> {
        let (queue, ids) = (self.name.clone(), ids.to_vec());
        let result = self.db.write(move |tx| {
            let mut delete =
                tx.prepare_cached("DELETE FROM dead_letters WHERE queue = ?1 AND id = ?2")?;
            ids.iter()
                .map(|id| delete.execute(params![&*queue, id]))
                .sum::<rusqlite::Result<usize>>()
        });
        result.await.map_err(unavailable)
    }
}

#[cfg(test)]
mod tests;
