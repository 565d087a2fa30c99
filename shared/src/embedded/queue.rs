//! An SQS standard queue in SQLite: visibility timeouts, receive counts, a redrive policy to the DLQ.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::params;

use super::SqliteDatabase;
use super::database::{attributes_from_json, attributes_to_json};
use super::dead_letters::insert_dead_letter;
use crate::clock::{Clock, SystemClock, rfc3339_millis};
use crate::queue::MAX_VISIBILITY_SECONDS;
use crate::queue::{DeadLetter, QueueMessage};
use crate::queue::{OutgoingMessage, QueueError, QueuePublisher};
use crate::store::StoreError;

/// The `failure_kind` of a message the redrive policy moved to the DLQ.
pub const KIND_MAX_RECEIVE_COUNT_EXCEEDED: &str = "max_receive_count_exceeded";

/// One named queue and its dead-letter queue, in a [`SqliteDatabase`].
#[derive(Clone)]
pub struct SqliteQueue {
    pub(super) db: SqliteDatabase,
    pub(super) name: Arc<str>,
    max_receive_count: u32,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteQueue")
            .field("name", &self.name)
            .field("max_receive_count", &self.max_receive_count)
            .finish_non_exhaustive()
    }
}

impl SqliteQueue {
    /// The queue `name`; a message already received `max_receive_count` times (at least 1,
    /// like SQS's `maxReceiveCount`) moves to the DLQ on its next receive.
    pub fn new(db: SqliteDatabase, name: &str, max_receive_count: u32) -> Self {
        Self {
            db,
            name: name.into(),
            max_receive_count: max_receive_count.max(1),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same queue on another clock (tests move time to expire visibility timeouts).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn now_ms(&self) -> i64 {
        crate::clock::unix_millis(self.clock.now())
    }

    pub(super) fn now_rfc3339(&self) -> String {
        rfc3339_millis(self.clock.now())
    }

    /// Receives up to `max` visible messages, oldest first, hiding each for
    /// `visibility_timeout_seconds` (at most 12 h, as on SQS) behind a fresh receipt handle.
    /// A message already received `max_receive_count` times goes to the DLQ instead.
    pub async fn receive(
        &self,
        max: usize,
        visibility_timeout_seconds: u32,
    ) -> Result<Vec<QueueMessage>, QueueError> {
        let (queue, max_receive_count) = (self.name.clone(), self.max_receive_count);
        let now = self.now_ms();
        let failed_at = self.now_rfc3339();
        let visible_at =
            now + i64::from(visibility_timeout_seconds.min(MAX_VISIBILITY_SECONDS)) * 1000;
        let result = self.db.write(move |tx| {
            let mut received = Vec::new();
            let mut after_seq = 0_i64;
            while received.len() < max {
                let candidates: Vec<(i64, String, String, String, u32)> = tx
                    .prepare_cached(
                        "SELECT seq, id, body, attributes, receive_count FROM messages
                         WHERE queue = ?1 AND visible_at_ms <= ?2 AND seq > ?3
                         ORDER BY seq LIMIT ?4",
                    )?
                    .query_map(
                        params![&*queue, now, after_seq, (max - received.len()) as i64],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )?
                    .collect::<Result<_, _>>()?;
                if candidates.is_empty() {
                    break;
                }
                for (seq, message_id, body, attributes, receive_count) in candidates {
                    after_seq = seq;
                    let mut message = QueueMessage {
                        message_id,
                        receipt_handle: String::new(),
                        body,
                        receive_count,
                        attributes: attributes_from_json(&attributes)?,
                    };
                    if receive_count >= max_receive_count {
                        // The redrive policy: SQS moves it without a reason of its own.
                        let failure = DeadLetter {
                            reason: format!("received {receive_count} times without being deleted (maxReceiveCount {max_receive_count})"),
                            kind: KIND_MAX_RECEIVE_COUNT_EXCEEDED.into(),
                            failed_at: failed_at.clone(),
                            details: Vec::new(),
                        };
                        insert_dead_letter(tx, &queue, &message, &failure, now)?;
                        tx.execute("DELETE FROM messages WHERE seq = ?1", [seq])?;
                        continue;
                    }
                    message.receive_count += 1;
                    message.receipt_handle = receipt_handle();
                    tx.prepare_cached(
                        "UPDATE messages SET receive_count = ?2, receipt_handle = ?3, visible_at_ms = ?4
                         WHERE seq = ?1",
                    )?
                    .execute(params![seq, message.receive_count, &message.receipt_handle, visible_at])?;
                    received.push(message);
                }
            }
            Ok(received)
        });
        result.await.map_err(unavailable)
    }

    /// Deletes the message last received with `receipt_handle`; a stale handle (the message
    /// was received again since) deletes nothing and, as on SQS, is not an error.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.delete_many(vec![receipt_handle.to_string()]).await
    }

    /// Deletes several messages by receipt handle, in one transaction.
    pub async fn delete_many(&self, receipt_handles: Vec<String>) -> Result<(), QueueError> {
        let queue = self.name.clone();
        let result = self.db.write(move |tx| {
            let mut delete =
                tx.prepare_cached("DELETE FROM messages WHERE queue = ?1 AND receipt_handle = ?2")?;
            for handle in &receipt_handles {
                delete.execute(params![&*queue, handle])?;
            }
            Ok(())
        });
        result.await.map_err(unavailable)
    }

    /// Makes the message received with `receipt_handle` visible again `seconds` from now (at
    /// most 12 h); false when the handle is stale or the message gone.
    pub async fn change_visibility(
        &self,
        receipt_handle: &str,
        seconds: u32,
    ) -> Result<bool, QueueError> {
        let (queue, handle) = (self.name.clone(), receipt_handle.to_string());
        let visible_at = self.now_ms() + i64::from(seconds.min(MAX_VISIBILITY_SECONDS)) * 1000;
        let result = self.db.write(move |tx| {
            tx.prepare_cached(
                "UPDATE messages SET visible_at_ms = ?3 WHERE queue = ?1 AND receipt_handle = ?2",
            )?
            .execute(params![&*queue, handle, visible_at])
        });
        Ok(result.await.map_err(unavailable)? > 0)
    }

    /// (visible, in flight): messages receivable now, and received ones still hidden.
    pub async fn depth(&self) -> Result<(u64, u64), QueueError> {
        let (queue, now) = (self.name.clone(), self.now_ms());
        let result = self.db.read(move |c| {
            c.query_row(
                "SELECT COALESCE(SUM(visible_at_ms <= ?2), 0), COALESCE(SUM(visible_at_ms > ?2), 0)
                 FROM messages WHERE queue = ?1",
                params![&*queue, now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        });
        result.await.map_err(unavailable)
    }
}

#[async_trait::async_trait]
impl QueuePublisher for SqliteQueue {
    /// Stores the message; the id is returned only after the commit reached the disk. No other
    /// copy is kept: once settled, the message is deleted (and overwritten: `secure_delete`).
    /// What replay needs is the journal's sealed envelope.
    async fn publish(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        let (queue, id, now) = (self.name.clone(), message_id(), self.now_ms());
        let attributes: BTreeMap<String, String> = message.attributes.into_iter().collect();
        let body = message.body;
        let returned = id.clone();
        let result = self.db.write(move |tx| {
            let json = attributes_to_json(&attributes)?;
            tx.prepare_cached(
                "INSERT INTO messages (id, queue, body, attributes, sent_at_ms, visible_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?
            .execute(params![id, &*queue, body, json, now])?;
            Ok(())
        });
        result.await.map_err(unavailable)?;
        Ok(returned)
    }
}

pub(super) fn unavailable(error: StoreError) -> QueueError {
    QueueError::Unavailable(error.to_string())
}

/// A random, uuid-shaped message id.
pub(super) fn message_id() -> String {
    let hex = format!("{:032x}", fastrand::u128(..));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn receipt_handle() -> String {
    format!("{:032x}{:032x}", fastrand::u128(..), fastrand::u128(..))
}

#[cfg(test)]
pub(crate) mod tests;
