//! The mapping document's versions in the state table (template.yaml's `IdempotencyTable`,
//! partition key `pk`), none of them expiring:
//!
//! - `mapping#active`: the pointer: `active` (N, 0 = the environment's), `highest` (N, the
//!   highest version stored) and `changes` (N, the number of audit lines);
//! - `mapping#v<version, 6 digits>`: one version: `version` (N), `document`, `author`,
//!   `comment`, `created_at` (S);
//! - `mapping#audit#<n, 6 digits>`: the `n`th change: `at`, `author`, `action` (`published` |
//!   `activated`), `comment` (S), `version`, `previous` (N).
//!
//! Versions and audit lines are numbered from 1 with no gap, so the pointer tells every key and
//! lists are read by `BatchGetItem` (the table has no sort key to query). Each change is one
//! `TransactWriteItems`: the pointer on the condition that it is unchanged since it was read
//! (absent, or the same `active`, `highest` and `changes`), the new audit line (and, for a
//! publish, the new version) on the condition that it does not exist yet, and, for an
//! activation, a check that the version exists. A cancelled transaction is answered from the
//! pointer read again: a conflict when another version is active, else the change is tried
//! again.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, TransactWriteItem,
};
use time::OffsetDateTime;

use super::{MappingAction, MappingAudit, MappingChange, MappingStore, MappingVersion, too_large};
use crate::clock::rfc3339_millis;
use crate::store::StoreError;

const POINTER: &str = "mapping#active";

/// Keys per `BatchGetItem`: at most 25 versions of at most 350 KB stay under its 16 MB answer.
const BATCH_KEYS: usize = 25;

/// Attempts at the keys a `BatchGetItem` left unprocessed (throttling) before giving up.
const BATCH_ATTEMPTS: u32 = 5;

/// Attempts at a change whose transaction was cancelled while the expected version stayed
/// active (a concurrent transaction on the same items, throttling) before giving up.
const CHANGE_ATTEMPTS: u32 = 5;

type Item = HashMap<String, AttributeValue>;

fn version_pk(version: u32) -> String {
    format!("mapping#v{version:06}")
}

fn audit_pk(n: u64) -> String {
    format!("mapping#audit#{n:06}")
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn text(item: &Item, name: &str) -> Result<String, StoreError> {
    (item.get(name))
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| malformed(item, name))
}

fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    (item.get(name))
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| malformed(item, name))
}

fn malformed(item: &Item, name: &str) -> StoreError {
    let pk = (item.get("pk"))
        .and_then(|v| v.as_s().ok())
        .map_or("a mapping item", String::as_str);
    StoreError::Malformed(format!("{pk} has no valid {name}"))
}

fn version_from(item: &Item) -> Result<MappingVersion, StoreError> {
    Ok(MappingVersion {
        version: number(item, "version")?,
        document: text(item, "document")?,
        author: text(item, "author")?,
        comment: text(item, "comment")?,
        created_at: text(item, "created_at")?,
    })
}

fn audit_from(item: &Item) -> Result<MappingAudit, StoreError> {
    let action = text(item, "action")?;
    Ok(MappingAudit {
        at: text(item, "at")?,
        author: text(item, "author")?,
        action: MappingAction::parse(&action).ok_or_else(|| malformed(item, "action"))?,
        version: number(item, "version")?,
        previous: number(item, "previous")?,
        comment: text(item, "comment")?,
    })
}

/// The pointer as read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pointer {
    exists: bool,
    active: u32,
    highest: u32,
    changes: u64,
}

/// A change on top of a pointer: the items it writes besides the pointer.
struct Change {
    active: u32,
    highest: u32,
    line: MappingAudit,
    version: Option<MappingVersion>,
}

/// Whether a write was refused by a condition or a concurrent transaction (then the pointer
/// is read again), rather than failing.
fn lost_a_race<E, R>(error: &SdkError<E, R>) -> bool
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    matches!(
        error.as_service_error().and_then(|e| e.code()),
        Some(
            "TransactionCanceledException"
                | "TransactionConflictException"
                | "ConditionalCheckFailedException"
        )
    )
}

fn built<T>(item: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    item.map_err(|e| StoreError::Malformed(e.to_string()))
}

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbMappingStore {
    client: Client,
    table: String,
}

impl DynamoDbMappingStore {
    /// The mapping document's versions in `table` (partition key `pk`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn item(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        Ok(answer.item)
    }

    async fn pointer(&self) -> Result<Pointer, StoreError> {
        let Some(item) = self.item(POINTER.to_string()).await? else {
            return Ok(Pointer::default());
        };
        Ok(Pointer {
            exists: true,
            active: number(&item, "active")?,
            highest: number(&item, "highest")?,
            changes: number(&item, "changes")?,
        })
    }

    /// The items of `pks` that exist, by key (`pks` in one batch per [`BATCH_KEYS`]).
    async fn items(&self, pks: Vec<String>) -> Result<HashMap<String, Item>, StoreError> {
        let mut found = HashMap::with_capacity(pks.len());
        for chunk in pks.chunks(BATCH_KEYS) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|pk| HashMap::from([("pk".to_string(), AttributeValue::S(pk.clone()))]))
                .collect();
            let mut pending = Some(built(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build(),
            )?);
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                attempt += 1;
                if attempt > BATCH_ATTEMPTS {
                    return Err(StoreError::Throttled(format!(
                        "BatchGetItem left keys unprocessed {BATCH_ATTEMPTS} times"
                    )));
                }
                if attempt > 1 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamodb(&e))?;
                for item in (answer.responses.unwrap_or_default())
                    .remove(&self.table)
                    .into_iter()
                    .flatten()
                {
                    if let Some(pk) = item.get("pk").and_then(|v| v.as_s().ok()).cloned() {
                        found.insert(pk, item);
                    }
                }
                pending = (answer.unprocessed_keys.unwrap_or_default())
                    .remove(&self.table)
                    .filter(|k| !k.keys.is_empty());
            }
        }
        Ok(found)
    }

    /// Writes `change` on top of `read` in one transaction: `Ok(false)` when it was cancelled.
    async fn write(&self, read: Pointer, change: &Change) -> Result<bool, StoreError> {
        let seq = read.changes + 1;
        let mut pointer = Put::builder()
            .table_name(&self.table)
            .item("pk", s(POINTER))
            .item("active", n(change.active))
            .item("highest", n(change.highest))
            .item("changes", n(seq));
        pointer = if read.exists {
            pointer
                .condition_expression(
                    "active = :active AND highest = :highest AND changes = :changes",
                )
                .expression_attribute_values(":active", n(read.active))
                .expression_attribute_values(":highest", n(read.highest))
                .expression_attribute_values(":changes", n(read.changes))
        } else {
            pointer.condition_expression("attribute_not_exists(pk)")
        };
        let line = &change.line;
        let audit = Put::builder()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(audit_pk(seq)))
            .item("at", s(&line.at))
            .item("author", s(&line.author))
            .item("action", s(line.action.as_str()))
            .item("version", n(line.version))
            .item("previous", n(line.previous))
            .item("comment", s(&line.comment))
            .condition_expression("attribute_not_exists(pk)");
        let mut items = vec![
            TransactWriteItem::builder()
                .put(built(pointer.build())?)
                .build(),
            TransactWriteItem::builder()
                .put(built(audit.build())?)
                .build(),
        ];
        match &change.version {
            Some(version) => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .item("pk", AttributeValue::S(version_pk(version.version)))
                    .item("version", n(version.version))
                    .item("document", s(&version.document))
                    .item("author", s(&version.author))
                    .item("comment", s(&version.comment))
                    .item("created_at", s(&version.created_at))
                    .condition_expression("attribute_not_exists(pk)");
                items.push(
                    TransactWriteItem::builder()
                        .put(built(put.build())?)
                        .build(),
                );
            }
            None if change.active != 0 => {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key("pk", AttributeValue::S(version_pk(change.active)))
                    .condition_expression("attribute_exists(pk)");
                items.push(
                    TransactWriteItem::builder()
                        .condition_check(built(check.build())?)
                        .build(),
                );
            }
            None => {}
        }
        // The same token on the SDK's own retries makes a retried, already applied transaction
        // succeed instead of failing its conditions.
        let token = format!("{:032x}", fastrand::u128(..));
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if lost_a_race(&error) => Ok(false),
            Err(error) => Err(StoreError::dynamodb(&error)),
        }
    }

    /// Reads the pointer and, if `expected_active` is active, writes what `change` makes of it;
    /// again while a transaction is cancelled with the expected version still active.
    async fn change(
        &self,
        expected_active: u32,
        change: impl Fn(Pointer) -> Result<Change, MappingChange> + Send + Sync,
    ) -> Result<MappingChange, StoreError> {
        for attempt in 1..=CHANGE_ATTEMPTS {
            if attempt > 1 {
                let jitter = fastrand::u64(0..25);
                tokio::time::sleep(Duration::from_millis((20 << attempt) + jitter)).await;
            }
            let read = self.pointer().await?;
            if read.active != expected_active {
                return Ok(MappingChange::Conflict {
                    active: read.active,
                });
            }
            let change = match change(read) {
                Ok(change) => change,
                Err(refused) => return Ok(refused),
            };
            if self.write(read, &change).await? {
                return Ok(MappingChange::Done(change.active));
            }
        }
        Err(StoreError::ConditionFailed(format!(
            "{POINTER} changed under {CHANGE_ATTEMPTS} attempts while version {expected_active} stayed active"
        )))
    }
}

#[async_trait::async_trait]
impl MappingStore for DynamoDbMappingStore {
    async fn publish(
        &self,
        document: &str,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError> {
        if let Some(refused) = too_large(document, author, comment) {
            return Ok(refused);
        }
        let at = rfc3339_millis(now);
        self.change(expected_active, |read| {
            let version = read.highest.saturating_add(1);
            Ok(Change {
                active: version,
                highest: version,
                line: MappingAudit {
                    at: at.clone(),
                    author: author.to_string(),
                    action: MappingAction::Published,
                    version,
                    previous: read.active,
                    comment: comment.to_string(),
                },
                version: Some(MappingVersion {
                    version,
                    document: document.to_string(),
                    author: author.to_string(),
                    comment: comment.to_string(),
                    created_at: at.clone(),
                }),
            })
        })
        .await
    }

    async fn activate(
        &self,
        version: u32,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError> {
        if let Some(refused) = too_large("", author, comment) {
            return Ok(refused);
        }
        let at = rfc3339_millis(now);
        self.change(expected_active, |read| {
            if version > read.highest {
                return Err(MappingChange::Unknown(version));
            }
            Ok(Change {
                active: version,
                highest: read.highest,
                line: MappingAudit {
                    at: at.clone(),
                    author: author.to_string(),
                    action: MappingAction::Activated,
                    version,
                    previous: read.active,
                    comment: comment.to_string(),
                },
                version: None,
            })
        })
        .await
    }

    async fn active(&self) -> Result<(u32, Option<MappingVersion>), StoreError> {
        let active = self.pointer().await?.active;
        if active == 0 {
            return Ok((0, None));
        }
        // Versions are never changed once written: the one read is the one the pointer named.
        match self.get(active).await? {
            Some(version) => Ok((active, Some(version))),
            None => Err(StoreError::Malformed(format!(
                "{POINTER} names version {active}, which is not stored"
            ))),
        }
    }

    async fn active_version(&self) -> Result<u32, StoreError> {
        Ok(self.pointer().await?.active)
    }

    async fn get(&self, version: u32) -> Result<Option<MappingVersion>, StoreError> {
        if version == 0 {
            return Ok(None);
        }
        self.item(version_pk(version))
            .await?
            .as_ref()
            .map(version_from)
            .transpose()
    }

    async fn versions(&self, limit: usize) -> Result<Vec<MappingVersion>, StoreError> {
        let highest = self.pointer().await?.highest;
        let numbers: Vec<u32> = (1..=highest).rev().take(limit).collect();
        let mut items = self
            .items(numbers.iter().map(|v| version_pk(*v)).collect())
            .await?;
        // Every number up to `highest` was written with the pointer: one missing is skipped.
        numbers
            .iter()
            .filter_map(|v| items.remove(&version_pk(*v)))
            .map(|item| version_from(&item))
            .collect()
    }

    async fn audit(&self, limit: usize) -> Result<Vec<MappingAudit>, StoreError> {
        let changes = self.pointer().await?.changes;
        let numbers: Vec<u64> = (1..=changes).rev().take(limit).collect();
        let mut items = self
            .items(numbers.iter().map(|n| audit_pk(*n)).collect())
            .await?;
        numbers
            .iter()
            .filter_map(|n| items.remove(&audit_pk(*n)))
            .map(|item| audit_from(&item))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_zero_padded() {
        assert_eq!(version_pk(1), "mapping#v000001");
        assert_eq!(version_pk(1_234_567), "mapping#v1234567");
        assert_eq!(audit_pk(42), "mapping#audit#000042");
    }

    #[test]
    fn a_version_item_reads_back() {
        let item = HashMap::from([
            ("pk".to_string(), s("mapping#v000002")),
            ("version".to_string(), n(2)),
            ("document".to_string(), s("{}")),
            ("author".to_string(), s("alice")),
            ("comment".to_string(), s("")),
            ("created_at".to_string(), s("2026-12-01T10:00:00.000Z")),
        ]);
        assert_eq!(version_from(&item).unwrap().version, 2);
        let mut broken = item.clone();
        broken.remove("document");
        assert_eq!(
            version_from(&broken),
            Err(StoreError::Malformed(
                "mapping#v000002 has no valid document".into()
            ))
        );
    }
}
